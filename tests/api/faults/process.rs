//! The real `chat-server` binary as a child process, restartable on the same port and database.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chat_server::db::DatabaseUrl;
use chat_server::protocol::{Message, MessagePage, Session};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

use crate::helpers::*;
use crate::own_services::restartable_port;
use crate::ws_client::*;

/// The real `chat-server` binary, so that it can be killed with SIGKILL and started again on the same port
/// and database.
pub(super) struct ServerProcess {
    pub(super) port: u16,
    pub(super) env: Vec<(&'static str, String)>,
    /// Holds the server's log (stdout and stderr of every start).
    pub(super) dir: PathBuf,
    pub(super) child: Option<Child>,
    pub(super) client: reqwest::Client,
}

impl ServerProcess {
    pub(super) fn new(store: &Store) -> ServerProcess {
        // Restarted on the same port: one outside the ephemeral range, which outgoing connections could take.
        let port = restartable_port();
        let dir = std::env::temp_dir().join(format!("chat-fault-{}", random_hex(8)));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let database_url = match store.database_url() {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url,
        };
        let mut env = vec![
            ("CHAT_BIND", format!("127.0.0.1:{port}")),
            ("DATABASE_URL", database_url),
            ("JWT_SECRET", JWT_SECRET.to_owned()),
            ("CHAT_DATA_DIR", dir.display().to_string()),
            ("CHAT_WEB_DIR", "/nonexistent".to_owned()),
            ("CHAT_WS_FRAMES_PER_SEC", "1000".to_owned()),
            ("CHAT_WS_UPGRADES_PER_MINUTE_PER_USER", "100000".to_owned()),
            ("CHAT_WORKERS", "2".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ];
        if store.backend() == Backend::Postgres
            && let Ok(redis) = std::env::var("TEST_REDIS_URL")
        {
            env.push(("REDIS_URL", redis));
            env.push(("CHAT_REDIS_PREFIX", format!("chat-fault-{}", random_hex(6))));
        }
        ServerProcess { port, env, dir, child: None, client: reqwest::Client::new() }
    }

    pub(super) fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// Start the binary and wait until GET /healthz answers 200; returns how long that took.
    pub(super) async fn start(&mut self) -> Duration {
        assert!(self.child.is_none(), "already running");
        let began = Instant::now();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_chat-server"))
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("chat-server starts");
        self.child = Some(child);
        let deadline = began + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("chat-server exited at start ({status}):\n{}", self.log());
            }
            let answer = self.client.get(format!("{}/healthz", self.address())).send().await;
            if answer.is_ok_and(|r| r.status() == StatusCode::OK) {
                return began.elapsed();
            }
            assert!(Instant::now() < deadline, "chat-server not healthy within 30 s:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL (std's Child::kill on Unix), then reap it.
    pub(super) fn kill_9(&mut self) {
        let mut child = self.child.take().expect("running");
        assert!(child.try_wait().expect("child status").is_none(), "chat-server died before the kill:\n{}", self.log());
        child.kill().expect("SIGKILL sent");
        let status = child.wait().expect("reaped");
        assert!(!status.success(), "killed, not exited: {status}");
    }

    pub(super) fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub(super) fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(super) async fn ws(&self, token: &str) -> WsClient {
        let url = format!("ws://127.0.0.1:{}/ws?token={token}", self.port);
        let (stream, _) = connect_async(url).await.expect("websocket connects");
        WsClient { stream }
    }

    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.address()));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let bytes = res.bytes().await.expect("body read");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub(super) async fn register(&self, name: &str) -> Session {
        let body = json!({"username": name, "password": format!("password-{name}")});
        let (status, body) = self.call(Method::POST, "/api/auth/register", None, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "register {name}: {body}");
        serde_json::from_value(body).expect("session")
    }

    /// Every message after `after_seq`, page by page (limit 100) as a catching-up client fetches them.
    pub(super) async fn history_after(&self, token: &str, conversation: i64, after_seq: i64) -> (Vec<Message>, usize) {
        let (mut messages, mut pages, mut cursor) = (Vec::<Message>::new(), 0, after_seq);
        loop {
            let path = format!("/api/conversations/{conversation}/messages?after_seq={cursor}&limit=100");
            let (status, body) = self.call(Method::GET, &path, Some(token), None).await;
            assert_eq!(status, StatusCode::OK, "history: {body}");
            let page: MessagePage = serde_json::from_value(body).expect("message page");
            pages += 1;
            if let Some(last) = page.messages.last() {
                cursor = last.seq;
            }
            let done = !page.has_more || page.messages.is_empty();
            messages.extend(page.messages);
            if done {
                return (messages, pages);
            }
            assert!(pages < 1000, "history paging does not end");
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- chat-server log ({}) ---\n{}", self.log_path().display(), self.log());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
