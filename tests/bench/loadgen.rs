//! Load generator for chat-server: registers users, creates rooms, opens one socket per member, sends
//! open-loop at a set rate, and reports sent / acked / delivered / expected, missing, duplicates,
//! out-of-order, deliveries per second and send→receive latency. `ramp` finds the highest rate whose p99 stays
//! under a bound; `idle` opens many quiet sockets and reports the server's memory per socket.
//!
//!   cargo run --release --example loadgen -- fixed --rate 5000 --duration 10
//!   cargo run --release --example loadgen -- ramp --start 2000 --step 2000 --max 20000
//!   cargo run --release --example loadgen -- idle --sockets 50000 --server-pid "$(pgrep -n chat-server)"
//!
//! The server must allow the per-socket frame rate used (CHAT_WS_FRAMES_PER_SEC) and enough open files.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chat_server::protocol::Session;
use clap::{Args, Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Parser)]
#[command(about = "Load generator for chat-server")]
struct Cli {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// One run at a fixed rate.
    Fixed {
        #[command(flatten)]
        shape: Shape,
        /// Messages per second, over all senders.
        #[arg(long, default_value_t = 5000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        duration: u64,
    },
    /// Rising rates until p99 exceeds the bound or anything is lost; reports the highest rate that held.
    Ramp {
        #[command(flatten)]
        shape: Shape,
        #[arg(long, default_value_t = 2000)]
        start: u64,
        #[arg(long, default_value_t = 2000)]
        step: u64,
        #[arg(long, default_value_t = 40000)]
        max: u64,
        /// Seconds per step.
        #[arg(long, default_value_t = 5)]
        duration: u64,
        #[arg(long, default_value_t = 100)]
        p99_ms: u64,
    },
    /// Open many idle sockets and report the server's resident memory per socket.
    Idle {
        #[arg(long, default_value_t = 10000)]
        sockets: usize,
        /// The server's process id, to read its resident memory.
        #[arg(long)]
        server_pid: u32,
        /// Users the sockets are spread over (each user may have many sessions).
        #[arg(long, default_value_t = 50)]
        users: usize,
    },
}

#[derive(Args, Clone)]
struct Shape {
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    #[arg(long, default_value_t = 10)]
    members: usize,
    #[arg(long, default_value_t = 1)]
    senders_per_room: usize,
}

fn ws_config() -> WebSocketConfig {
    // Small buffers: the generator holds thousands of sockets.
    WebSocketConfig::default().read_buffer_size(8 * 1024).write_buffer_size(0)
}

/// 127.0.0.1 … 127.0.0.254: one source address per ~25k sockets keeps clear of the ephemeral port range.
fn source_addr(i: usize) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1 + (i / 25_000) as u8], 0))
}

struct Client {
    http: reqwest::Client,
    url: String,
    ws_url: String,
}

impl Client {
    fn new(url: &str) -> Self {
        Client {
            http: reqwest::Client::new(),
            url: url.trim_end_matches('/').to_owned(),
            ws_url: url.trim_end_matches('/').replacen("http", "ws", 1),
        }
    }

    async fn register(&self, name: &str) -> Session {
        let password = "load-generator-password";
        let body = json!({"username": name, "password": password});
        let reply =
            self.http.post(format!("{}/api/auth/register", self.url)).json(&body).send().await.expect("register");
        if reply.status().as_u16() == 409 {
            let reply = self.http.post(format!("{}/api/auth/login", self.url)).json(&body).send().await.expect("login");
            return reply.json().await.expect("session");
        }
        assert!(reply.status().is_success(), "register {name}: {}", reply.status());
        reply.json().await.expect("session")
    }

    async fn group(&self, token: &str, title: &str, members: &[i64]) -> i64 {
        let body = json!({"kind": "group", "title": title, "member_ids": members});
        let reply = self
            .http
            .post(format!("{}/api/conversations", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("group");
        assert!(reply.status().is_success(), "group: {}", reply.status());
        reply.json::<serde_json::Value>().await.expect("json")["id"].as_i64().expect("id")
    }

    async fn socket(
        &self,
        token: &str,
        index: usize,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
        let host = self.url.trim_start_matches("http://");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind(source_addr(index)).expect("bind source address");
        let tcp = socket.connect(host.parse().expect("host:port")).await.expect("connect");
        let (ws, _) = tokio_tungstenite::client_async_with_config(
            format!("{}/ws?token={token}", self.ws_url),
            tokio_tungstenite::MaybeTlsStream::Plain(tcp),
            Some(ws_config()),
        )
        .await
        .expect("websocket");
        ws
    }
}

#[derive(Default)]
struct Tally {
    acked: AtomicU64,
    ack_errors: AtomicU64,
    delivered: AtomicU64,
    duplicates: AtomicU64,
    out_of_order: AtomicU64,
    /// Send→receive latencies, sharded so a thousand readers do not queue on one lock.
    latencies_us: Vec<std::sync::Mutex<Vec<u32>>>,
}

impl Tally {
    fn new() -> Self {
        Tally { latencies_us: (0..64).map(|_| std::sync::Mutex::new(Vec::new())).collect(), ..Tally::default() }
    }

    fn record_latency(&self, shard: usize, us: u32) {
        let mut l = self.latencies_us[shard % 64].lock().unwrap_or_else(|p| p.into_inner());
        l.push(us);
    }

    fn take_latencies(&self) -> Vec<u32> {
        let mut all = Vec::new();
        for shard in &self.latencies_us {
            all.append(&mut shard.lock().unwrap_or_else(|p| p.into_inner()));
        }
        all
    }
}

/// Only what the generator reads of a frame (parsing whole frames would load the generator, not the server).
#[derive(serde::Deserialize)]
struct LightFrame<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(default)]
    client_id: Option<&'a str>,
    #[serde(default, borrow)]
    message: Option<LightMessage<'a>>,
}

#[derive(serde::Deserialize)]
struct LightMessage<'a> {
    conversation_id: i64,
    seq: i64,
    sender_id: i64,
    body: &'a str,
}

struct Room {
    id: i64,
    members: Vec<Session>,
}

async fn setup(client: &Client, shape: &Shape, tag: &str) -> Vec<Room> {
    let began = Instant::now();
    let users_needed = shape.rooms * shape.members;
    let mut sessions = Vec::with_capacity(users_needed);
    let mut pending = futures_util::stream::iter((0..users_needed).map(|i| {
        let name = format!("lg{tag}u{i}");
        async move { client.register(&name).await }
    }))
    .buffered(16);
    while let Some(session) = pending.next().await {
        sessions.push(session);
    }
    let mut rooms = Vec::with_capacity(shape.rooms);
    for (r, members) in sessions.chunks(shape.members).enumerate() {
        let ids: Vec<i64> = members.iter().map(|m| m.user.id).collect();
        let id = client.group(&members[0].access_token, &format!("room {r}"), &ids).await;
        rooms.push(Room { id, members: members.to_vec() });
    }
    eprintln!("setup: {users_needed} users, {} rooms in {:.1?}", rooms.len(), began.elapsed());
    rooms
}

struct Outcome {
    rate: u64,
    sent: u64,
    acked: u64,
    ack_errors: u64,
    delivered: u64,
    expected: u64,
    missing: u64,
    duplicates: u64,
    out_of_order: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Outcome {
    fn print(&self) {
        println!(
            "rate {:>6}/s | sent {} acked {} (errors {}) delivered {}/{} | missing {} dup {} out-of-order {} | {:.0} deliveries/s | latency p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
            self.rate,
            self.sent,
            self.acked,
            self.ack_errors,
            self.delivered,
            self.expected,
            self.missing,
            self.duplicates,
            self.out_of_order,
            self.delivered as f64 / self.seconds,
            self.p50_ms,
            self.p99_ms,
            self.max_ms
        );
    }
}

/// Connect every member, then run steps at the given rates; one outcome per step.
async fn drive(
    client: &Client,
    rooms: &[Room],
    shape: &Shape,
    rates: &[u64],
    duration: Duration,
    p99_bound: Option<f64>,
) -> Vec<Outcome> {
    let epoch = Instant::now();
    // Client ids unique to this run, as a real client's UUIDs would be.
    let run = std::process::id();
    let step_tally: Arc<std::sync::RwLock<Arc<Tally>>> = Arc::new(std::sync::RwLock::new(Arc::new(Tally::new())));
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    let mut socket_index = 0;
    for room in rooms {
        for (m, member) in room.members.iter().enumerate() {
            let ws = client.socket(&member.access_token, socket_index).await;
            socket_index += 1;
            let (sink, mut stream) = ws.split();
            let tally = step_tally.clone();
            let me = member.user.id;
            readers.push(tokio::spawn(async move {
                // (conversation, seq) → last seen, for duplicates and order.
                let mut last_seq: HashMap<i64, i64> = HashMap::new();
                let mut seen: std::collections::HashSet<(i64, i64)> = std::collections::HashSet::new();
                let shard = socket_index;
                while let Some(Ok(msg)) = stream.next().await {
                    let WsMessage::Text(text) = msg else { continue };
                    let Ok(frame) = serde_json::from_str::<LightFrame>(&text) else { continue };
                    let tally = tally.read().unwrap_or_else(|p| p.into_inner()).clone();
                    match (frame.kind, frame.message) {
                        ("ack", _) => {
                            tally.acked.fetch_add(1, Ordering::Relaxed);
                        }
                        ("error", _) if frame.client_id.is_some() => {
                            tally.ack_errors.fetch_add(1, Ordering::Relaxed);
                        }
                        ("message", Some(message)) if message.sender_id != me => {
                            let now = epoch.elapsed().as_micros() as u64;
                            if let Some(sent_at) = message.body.rsplit(':').next().and_then(|t| t.parse::<u64>().ok()) {
                                tally.record_latency(shard, now.saturating_sub(sent_at).min(u32::MAX as u64) as u32);
                            }
                            if !seen.insert((message.conversation_id, message.seq)) {
                                tally.duplicates.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                            let last = last_seq.entry(message.conversation_id).or_insert(0);
                            if message.seq < *last {
                                tally.out_of_order.fetch_add(1, Ordering::Relaxed);
                            } else {
                                *last = message.seq;
                            }
                            tally.delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
            }));
            if m < shape.senders_per_room {
                senders.push((room.id, Arc::new(Mutex::new(sink))));
            }
        }
    }
    eprintln!("connected {socket_index} sockets; {} senders", senders.len());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut outcomes = Vec::new();
    for (step, &rate) in rates.iter().enumerate() {
        let tally = Arc::new(Tally::new());
        *step_tally.write().unwrap_or_else(|p| p.into_inner()) = tally.clone();
        let sent = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let per_sender = rate as f64 / senders.len() as f64;
        let began = Instant::now();
        let mut tasks = Vec::new();
        for (s, (conversation_id, sink)) in senders.iter().enumerate() {
            let (sink, sent, stop) = (sink.clone(), sent.clone(), stop.clone());
            let conversation_id = *conversation_id;
            let period = Duration::from_secs_f64(1.0 / per_sender);
            tasks.push(tokio::spawn(async move {
                // Spread the senders' phases so the load is smooth, then send open-loop on a fixed schedule.
                let offset = period.mul_f64(s as f64 / 64.0 % 1.0);
                let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    ticker.tick().await;
                    let at = epoch.elapsed().as_micros() as u64;
                    let frame = json!({"type": "new_message", "conversation_id": conversation_id,
                        "client_id": format!("{run}-{step}-{s}-{n}"), "body": format!("load {step}-{s}-{n}:{at}")});
                    if sink.lock().await.send(WsMessage::Text(frame.to_string().into())).await.is_err() {
                        break;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            }));
        }
        tokio::time::sleep(duration).await;
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            let _ = task.await;
        }
        let seconds = began.elapsed().as_secs_f64();
        let sent = sent.load(Ordering::Relaxed);
        let members = shape.members as u64;
        // Drain: wait until everything expected arrived, or 5 s of silence.
        let drain_started = Instant::now();
        let mut last = (0, Instant::now());
        loop {
            let acked = tally.acked.load(Ordering::Relaxed);
            let delivered = tally.delivered.load(Ordering::Relaxed);
            if acked + tally.ack_errors.load(Ordering::Relaxed) >= sent && delivered >= acked * (members - 1) {
                break;
            }
            if delivered + acked != last.0 {
                last = (delivered + acked, Instant::now());
            } else if last.1.elapsed() > Duration::from_secs(5) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = drain_started;
        let acked = tally.acked.load(Ordering::Relaxed);
        let delivered = tally.delivered.load(Ordering::Relaxed);
        let expected = acked * (members - 1);
        let mut latencies = tally.take_latencies();
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0) as f64
                / 1000.0
        };
        let outcome = Outcome {
            rate,
            sent,
            acked,
            ack_errors: tally.ack_errors.load(Ordering::Relaxed),
            delivered,
            expected,
            missing: expected.saturating_sub(delivered),
            duplicates: tally.duplicates.load(Ordering::Relaxed),
            out_of_order: tally.out_of_order.load(Ordering::Relaxed),
            seconds,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            max_ms: latencies.last().copied().unwrap_or(0) as f64 / 1000.0,
        };
        outcome.print();
        let failed =
            outcome.missing > 0 || outcome.acked < outcome.sent || p99_bound.is_some_and(|b| outcome.p99_ms > b);
        outcomes.push(outcome);
        if failed && p99_bound.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for reader in readers {
        reader.abort();
    }
    outcomes
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn idle(client: &Client, sockets: usize, server_pid: u32, users: usize) {
    let tag = format!("{}", std::process::id());
    let mut sessions = Vec::new();
    for u in 0..users {
        sessions.push(client.register(&format!("idle{tag}u{u}")).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(server_pid);
    let began = Instant::now();
    let mut open = Vec::with_capacity(sockets);
    let mut connecting = futures_util::stream::iter((0..sockets).map(|i| {
        let token = sessions[i % users].access_token.clone();
        async move { client.socket(&token, i).await }
    }))
    .buffer_unordered(64);
    while let Some(ws) = connecting.next().await {
        open.push(ws);
        if open.len() % 10_000 == 0 {
            eprintln!("{} sockets open", open.len());
        }
    }
    let opened_in = began.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kib(server_pid);
    let per_socket = (after.saturating_sub(before)) as f64 / sockets as f64;
    println!(
        "idle: {sockets} sockets opened in {opened_in:.1?}; server RSS {} MiB → {} MiB; {per_socket:.1} KiB per socket",
        before / 1024,
        after / 1024
    );
    drop(open);
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let client = Client::new(&cli.url);
    let tag = format!("{}", std::process::id());
    match cli.mode {
        Mode::Fixed { shape, rate, duration } => {
            let rooms = setup(&client, &shape, &tag).await;
            let outcomes = drive(&client, &rooms, &shape, &[rate], Duration::from_secs(duration), None).await;
            let bad = outcomes.iter().any(|o| o.missing > 0 || o.duplicates > 0 || o.out_of_order > 0);
            std::process::exit(if bad { 1 } else { 0 });
        }
        Mode::Ramp { shape, start, step, max, duration, p99_ms } => {
            let rooms = setup(&client, &shape, &tag).await;
            let rates: Vec<u64> = (0..).map(|i| start + i * step).take_while(|r| *r <= max).collect();
            let outcomes =
                drive(&client, &rooms, &shape, &rates, Duration::from_secs(duration), Some(p99_ms as f64)).await;
            let best = outcomes
                .iter()
                .filter(|o| {
                    o.missing == 0
                        && o.duplicates == 0
                        && o.out_of_order == 0
                        && o.acked == o.sent
                        && o.p99_ms <= p99_ms as f64
                })
                .max_by_key(|o| o.rate);
            match best {
                Some(o) => println!(
                    "ramp: highest rate with p99 under {p99_ms} ms and nothing lost: {} msg/s = {:.0} deliveries/s (p99 {:.1} ms)",
                    o.rate,
                    o.delivered as f64 / o.seconds,
                    o.p99_ms
                ),
                None => println!("ramp: no rate held p99 under {p99_ms} ms"),
            }
        }
        Mode::Idle { sockets, server_pid, users } => idle(&client, sockets, server_pid, users).await,
    }
}
