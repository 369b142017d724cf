//! Throwaway service instances for fault tests (never the machine's shared ones).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A free port below the kernel's ephemeral range, for a service restarted on the same port: while it is down,
/// a port from the ephemeral range can be taken by any outgoing connection (seen with PostgreSQL: "could not
/// bind IPv4 address: Address already in use" on restart).
pub fn restartable_port() -> u16 {
    let ephemeral_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    const FROM: u16 = 10_000;
    if ephemeral_from <= FROM + 1000 {
        return free_port();
    }
    for _ in 0..100 {
        let mut buf = [0u8; 2];
        getrandom::fill(&mut buf).expect("random");
        let port = FROM + u16::from_le_bytes(buf) % (ephemeral_from - FROM);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    free_port()
}

/// A private redis-server on its own port, stopped and started at will.
pub struct OwnRedis {
    pub port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    /// None when redis-server is not installed (CI installs it: that is a failure there).
    pub async fn start() -> Option<OwnRedis> {
        if Command::new("redis-server").arg("--version").output().is_err() {
            assert!(std::env::var("CI").is_err(), "CI must have redis-server for the fault tests");
            eprintln!("redis-server not installed: skipped");
            return None;
        }
        let mut redis = OwnRedis { port: restartable_port(), child: None };
        redis.up().await;
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub async fn up(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "own redis did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kill it outright, as a crash would.
    pub fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.down();
    }
}

/// A private PostgreSQL cluster (initdb into a temp dir, its own port), stopped and started at will. Never the
/// machine's shared server: stopping that would break every other test.
pub struct OwnPostgres {
    pub port: u16,
    pg_ctl: std::path::PathBuf,
    dir: std::path::PathBuf,
    running: bool,
}

impl OwnPostgres {
    /// None when initdb/pg_ctl are not installed (CI installs them: that is a failure there).
    pub async fn start() -> Option<OwnPostgres> {
        let Some(bin) = postgres_bin_dir() else {
            assert!(std::env::var("CI").is_err(), "CI must have initdb and pg_ctl for the fault tests");
            eprintln!("initdb/pg_ctl not installed: skipped");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("chat-pg-{}", crate::helpers::random_hex(8)));
        std::fs::create_dir_all(&dir).expect("temp dir for own postgres");
        let mut pg = OwnPostgres { port: restartable_port(), pg_ctl: bin.join("pg_ctl"), dir, running: false };
        if running_as_root() {
            // PostgreSQL refuses to run as root: its files belong to the postgres user.
            let owned = Command::new("chown").arg("-R").arg("postgres").arg(&pg.dir).status().expect("chown runs");
            assert!(owned.success(), "chown -R postgres {} failed", pg.dir.display());
        }
        let data = pg.data_dir();
        let initdb = bin.join("initdb");
        let args: Vec<std::ffi::OsString> = vec![
            "-D".into(),
            data.into(),
            "-A".into(),
            "trust".into(),
            "-U".into(),
            "postgres".into(),
            "-E".into(),
            "UTF8".into(),
            "--locale=C".into(),
            "--no-sync".into(),
        ];
        pg.run(&initdb, args, "initdb").await;
        pg.up().await;
        Some(pg)
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.join("data")
    }

    /// The cluster's own `postgres` database (trust authentication).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A fresh database on this cluster, dropped with the Store.
    pub async fn store(&self) -> crate::helpers::Store {
        use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
        let name = format!("chat_fault_{}", crate::helpers::random_hex(6));
        let admin_url = self.admin_url();
        let mut admin = AsyncPgConnection::establish(&admin_url).await.expect("own postgres answers");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database on own postgres");
        let url = format!("postgres://postgres@127.0.0.1:{}/{name}", self.port);
        crate::helpers::Store::Postgres { admin_url, name, url }
    }

    /// Start (again) on the same port and data, and wait until it accepts connections.
    pub async fn up(&mut self) {
        let options =
            format!("-p {} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", self.port);
        let args: Vec<std::ffi::OsString> = vec![
            "-D".into(),
            self.data_dir().into(),
            "-o".into(),
            options.into(),
            "-l".into(),
            self.dir.join("postgres.log").into(),
            "-t".into(),
            "30".into(),
            "-w".into(),
            "start".into(),
        ];
        let pg_ctl = self.pg_ctl.clone();
        self.run(&pg_ctl, args, "pg_ctl start").await;
        self.running = true;
    }

    /// Stop at once, as a crash would (no checkpoint, connections cut).
    pub async fn down(&mut self) {
        let args: Vec<std::ffi::OsString> =
            vec!["-D".into(), self.data_dir().into(), "-m".into(), "immediate".into(), "-w".into(), "stop".into()];
        let pg_ctl = self.pg_ctl.clone();
        self.run(&pg_ctl, args, "pg_ctl stop").await;
        self.running = false;
    }

    async fn run(&self, program: &std::path::Path, args: Vec<std::ffi::OsString>, what: &'static str) {
        let mut command = postgres_command(program, &args);
        command.current_dir(&self.dir);
        let log = self.dir.join("postgres.log");
        let output = tokio::task::spawn_blocking(move || command.output()).await.expect("blocking task");
        let output = output.unwrap_or_else(|e| panic!("{what} did not run: {e}"));
        if !output.status.success() {
            panic!(
                "{what} failed ({}):\n{}{}\n--- postgres.log ---\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        if self.running {
            let args: Vec<std::ffi::OsString> =
                vec!["-D".into(), self.data_dir().into(), "-m".into(), "immediate".into(), "-w".into(), "stop".into()];
            let _ = postgres_command(&self.pg_ctl, &args).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where initdb and pg_ctl live: /usr/local/bin, else the newest /usr/lib/postgresql/<version>/bin.
fn postgres_bin_dir() -> Option<std::path::PathBuf> {
    let usable = |dir: &std::path::Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let local = std::path::PathBuf::from("/usr/local/bin");
    if usable(&local) {
        return Some(local);
    }
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| usable(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The command as the postgres user when we are root (PostgreSQL will not run as root), else as ourselves.
fn postgres_command(program: &std::path::Path, args: &[std::ffi::OsString]) -> Command {
    let mut command = if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args);
    command
}
