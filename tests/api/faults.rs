//! Fault tolerance, with figures in the test output:
//! - the server process killed with SIGKILL while clients send: nothing acked is lost, seqs have no gap,
//!   resends are stored once, and a catching-up client sees every message once;
//! - PostgreSQL stopped and started under a running server: 503s and error frames, then recovery by itself.
//!
//! (Redis stopped and started lives in multi_instance.rs.)

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chat_server::db::DatabaseUrl;
use chat_server::protocol::{Message, MessagePage, ServerFrame, Session};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::helpers::*;
use crate::own_services::{OwnPostgres, restartable_port};
use crate::ws_client::*;

fn new_message(conversation_id: i64, client_id: &str, body: &str) -> Value {
    json!({"type": "new_message", "conversation_id": conversation_id, "client_id": client_id, "body": body})
}

/// A socket answers only once its subscriptions are in effect: after an answer, it misses nothing.
async fn ready_for_events(socket: &mut WsClient) {
    socket.send_json(json!({"type": "read", "conversation_id": 0, "up_to_seq": 0})).await;
    socket.expect("an answer", |f| matches!(f, ServerFrame::Error { .. }).then_some(())).await;
}

// ---------------------------------------------------------------------------------------------------------
// The server as a child process.

/// The real `chat-server` binary, so that it can be killed with SIGKILL and started again on the same port
/// and database.
struct ServerProcess {
    port: u16,
    env: Vec<(&'static str, String)>,
    /// Holds the server's log (stdout and stderr of every start).
    dir: PathBuf,
    child: Option<Child>,
    client: reqwest::Client,
}

impl ServerProcess {
    fn new(store: &Store) -> ServerProcess {
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

    fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// Start the binary and wait until GET /healthz answers 200; returns how long that took.
    async fn start(&mut self) -> Duration {
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
    fn kill_9(&mut self) {
        let mut child = self.child.take().expect("running");
        assert!(child.try_wait().expect("child status").is_none(), "chat-server died before the kill:\n{}", self.log());
        child.kill().expect("SIGKILL sent");
        let status = child.wait().expect("reaped");
        assert!(!status.success(), "killed, not exited: {status}");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn ws(&self, token: &str) -> WsClient {
        let url = format!("ws://127.0.0.1:{}/ws?token={token}", self.port);
        let (stream, _) = connect_async(url).await.expect("websocket connects");
        WsClient { stream }
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
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

    async fn register(&self, name: &str) -> Session {
        let body = json!({"username": name, "password": format!("password-{name}")});
        let (status, body) = self.call(Method::POST, "/api/auth/register", None, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "register {name}: {body}");
        serde_json::from_value(body).expect("session")
    }

    /// Every message after `after_seq`, page by page (limit 100) as a catching-up client fetches them.
    async fn history_after(&self, token: &str, conversation: i64, after_seq: i64) -> (Vec<Message>, usize) {
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

// ---------------------------------------------------------------------------------------------------------
// kill -9 mid-stream.

/// Messages in flight per sender (sent, not yet acked).
const WINDOW: usize = 16;
/// The kill comes once this many messages were acked in all.
const KILL_AFTER_ACKS: usize = 300;
/// Messages from a device that disconnects before reading their acks.
const LOST_ACKS: usize = 8;

#[derive(Default)]
struct SenderReport {
    /// client_id → body, in the order sent.
    sent: Vec<(String, String)>,
    acked: HashMap<String, i64>,
    /// Error frames (client_id, code): not stored as far as the client knows.
    refused: Vec<(String, String)>,
    ended: String,
}

/// Send without pause (up to WINDOW in flight) until the socket breaks; record what was acked with which seq.
async fn send_until_cut(
    mut socket: WsClient,
    conversation: i64,
    tag: String,
    acked_total: Arc<AtomicUsize>,
) -> SenderReport {
    let mut report = SenderReport::default();
    let mut in_flight = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick(), if in_flight < WINDOW => {
                let client_id = format!("{tag}-{}", report.sent.len());
                let body = format!("{tag} message {}", report.sent.len());
                report.sent.push((client_id.clone(), body.clone()));
                in_flight += 1;
                let frame = new_message(conversation, &client_id, &body).to_string();
                if let Err(e) = socket.stream.send(WsMessage::Text(frame.into())).await {
                    report.ended = format!("send failed: {e}");
                    return report;
                }
            }
            incoming = socket.stream.next() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    match serde_json::from_str::<ServerFrame>(&text).unwrap_or_else(|e| panic!("bad frame {text}: {e}")) {
                        ServerFrame::Ack { client_id, message } => {
                            assert_eq!(client_id, message.client_id);
                            let before = report.acked.insert(client_id, message.seq);
                            assert!(before.is_none(), "{tag}: a second ack for {}", message.client_id);
                            in_flight -= 1;
                            acked_total.fetch_add(1, Ordering::SeqCst);
                        }
                        ServerFrame::Error { client_id: Some(client_id), code, .. } => {
                            report.refused.push((client_id, code));
                            in_flight -= 1;
                        }
                        _ => {}
                    }
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    report.ended = format!("closed by the server: {frame:?}");
                    return report;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    report.ended = format!("socket broke: {e}");
                    return report;
                }
                None => {
                    report.ended = "socket ended".into();
                    return report;
                }
            },
        }
    }
}

type Live = Arc<std::sync::Mutex<BTreeMap<i64, String>>>;

/// A client that only reads: every live `message` it gets, by seq (a repeat on one socket is a failure), until
/// the socket ends or it is told to leave.
async fn read_live(mut socket: WsClient, live: Live, mut leave: tokio::sync::oneshot::Receiver<()>) -> String {
    loop {
        let incoming = tokio::select! {
            _ = &mut leave => return "left".into(),
            incoming = socket.stream.next() => incoming,
        };
        match incoming {
            Some(Ok(WsMessage::Text(text))) => {
                if let ServerFrame::Message { message } = serde_json::from_str(&text).expect("frame") {
                    let before = live.lock().unwrap().insert(message.seq, message.client_id.clone());
                    assert!(before.is_none(), "seq {} delivered twice live on one socket", message.seq);
                }
            }
            Some(Ok(WsMessage::Close(frame))) => return format!("closed: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => return format!("broke: {e}"),
            None => return "ended".into(),
        }
    }
}

/// The highest seq up to which `seen` holds every message: where a client asks `after_seq` from.
fn contiguous_up_to(seen: &BTreeMap<i64, String>) -> i64 {
    let mut last = 0;
    for &seq in seen.keys() {
        if seq != last + 1 {
            break;
        }
        last = seq;
    }
    last
}

/// What a reading client did to get back in step.
struct CatchUp {
    live_before: usize,
    resume_from: i64,
    fetched: usize,
    pages: usize,
    live_after: usize,
    overlaps: usize,
}

/// A reader back after the restart (already subscribed on `socket`): it fetches `after_seq` from the last seq
/// it holds without a hole and merges that with what arrives live (every seq from `new_from` on was stored
/// after it subscribed, so must come live). Asserts it ends up with every seq of `history` exactly once, each
/// the message history has at that seq.
async fn catch_up(
    server: &ServerProcess,
    token: &str,
    chat: i64,
    live_before: &BTreeMap<i64, String>,
    socket: &mut WsClient,
    new_from: i64,
    history: &[Message],
) -> CatchUp {
    let n = history.len() as i64;
    let resume_from = contiguous_up_to(live_before);
    let (fetched, pages) = server.history_after(token, chat, resume_from).await;
    let mut merged = live_before.clone();
    let mut overlaps = 0;
    for message in &fetched {
        if let Some(known) = merged.insert(message.seq, message.client_id.clone()) {
            assert_eq!(known, message.client_id, "seq {} is two different messages", message.seq);
            overlaps += 1;
        }
    }
    let mut live_after = BTreeMap::new();
    let waiting_since = Instant::now();
    while !(new_from..=n).all(|seq| live_after.contains_key(&seq)) {
        assert!(waiting_since.elapsed() < Duration::from_secs(10), "new messages not live at the reader");
        let message = socket
            .expect("a live message", |f| match f {
                ServerFrame::Message { message } => Some(message.clone()),
                _ => None,
            })
            .await;
        let before = live_after.insert(message.seq, message.client_id.clone());
        assert!(before.is_none(), "seq {} twice live", message.seq);
    }
    for (seq, client_id) in &live_after {
        if let Some(known) = merged.insert(*seq, client_id.clone()) {
            assert_eq!(&known, client_id, "seq {seq} is two different messages");
            overlaps += 1;
        }
    }
    assert_eq!(merged.keys().copied().collect::<Vec<_>>(), (1..=n).collect::<Vec<_>>(), "the reader misses a seq");
    for message in history {
        assert_eq!(merged[&message.seq], message.client_id, "the reader has another message at seq {}", message.seq);
    }
    CatchUp {
        live_before: live_before.len(),
        resume_from,
        fetched: fetched.len(),
        pages,
        live_after: live_after.len(),
        overlaps,
    }
}

async fn killed_mid_stream(backend: Backend) {
    let Some(store) = Store::fresh(backend).await else { return };
    // Declared after the store: dropped (killed) before the database is.
    let mut server = ServerProcess::new(&store);
    let first_start = server.start().await;

    // Three senders and one reader (on two devices), all in one group.
    let names = ["ann", "ben", "cat", "dan"];
    let mut sessions = Vec::new();
    for name in names {
        sessions.push(server.register(name).await);
    }
    let member_ids: Vec<i64> = sessions[1..].iter().map(|s| s.user.id).collect();
    let (status, body) = server
        .call(
            Method::POST,
            "/api/conversations",
            Some(&sessions[0].access_token),
            Some(json!({"kind": "group", "title": "kill -9", "member_ids": member_ids})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "group: {body}");
    let chat = body["id"].as_i64().expect("conversation id");
    let reader = &sessions[3];
    let senders = &sessions[..3];

    // dan's phone reads until the kill; his laptop leaves halfway, so it has much to catch up.
    let (live, laptop_live): (Live, Live) = Default::default();
    let (_phone_stays, phone_leave) = tokio::sync::oneshot::channel();
    let (laptop_leaves, laptop_leave) = tokio::sync::oneshot::channel();
    let mut phone = server.ws(&reader.access_token).await;
    ready_for_events(&mut phone).await;
    let reader_task = tokio::spawn(read_live(phone, live.clone(), phone_leave));
    let mut laptop = server.ws(&reader.access_token).await;
    ready_for_events(&mut laptop).await;
    let laptop_task = tokio::spawn(read_live(laptop, laptop_live.clone(), laptop_leave));
    let acked_total = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (session, name) in senders.iter().zip(names) {
        let mut socket = server.ws(&session.access_token).await;
        ready_for_events(&mut socket).await;
        tasks.push(tokio::spawn(send_until_cut(
            socket,
            chat,
            format!("{name}-{}", random_hex(3)),
            acked_total.clone(),
        )));
    }

    let wait_for_acks = async |count: usize| {
        let began = Instant::now();
        while acked_total.load(Ordering::SeqCst) < count {
            let acks = acked_total.load(Ordering::SeqCst);
            assert!(began.elapsed() < Duration::from_secs(20), "only {acks} acks in 20 s");
            assert!(tasks.iter().any(|t| !t.is_finished()), "every sender stopped before the kill");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };

    // Halfway, a second device of ann's sends a few, and its connection dies before it reads the acks: stored,
    // but that client does not know it.
    wait_for_acks(KILL_AFTER_ACKS / 2).await;
    laptop_leaves.send(()).expect("the laptop is reading");
    assert_eq!(laptop_task.await.expect("laptop task"), "left");
    let laptop_before = std::mem::take(&mut *laptop_live.lock().unwrap());
    let mut device = server.ws(&senders[0].access_token).await;
    ready_for_events(&mut device).await;
    let lost_acks = SenderReport {
        sent: (0..LOST_ACKS).map(|i| (format!("ann-device-{i}"), format!("from the other device {i}"))).collect(),
        ended: "gone before reading its acks".into(),
        ..Default::default()
    };
    for (client_id, body) in &lost_acks.sent {
        device.send_json(new_message(chat, client_id, body)).await;
    }
    // Stored before the kill: the reader has them live. (The socket is dropped only then: dropped at once, the
    // connection can be reset before the server has read the frames, and they are never sent at all.)
    let began = Instant::now();
    while !lost_acks.sent.iter().all(|(c, _)| live.lock().unwrap().values().any(|l| l == c)) {
        assert!(began.elapsed() < Duration::from_secs(10), "the other device's messages never arrived live");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    drop(device);

    wait_for_acks(KILL_AFTER_ACKS).await;
    let still_sending = tasks.iter().filter(|t| !t.is_finished()).count();
    server.kill_9();
    let killed_at = Instant::now();
    let acked_at_kill = acked_total.load(Ordering::SeqCst);

    let mut reports = Vec::new();
    for task in tasks {
        let report = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("a sender noticed the kill within 10 s")
            .expect("sender task");
        reports.push(report);
    }
    let reader_ended =
        tokio::time::timeout(Duration::from_secs(10), reader_task).await.expect("the reader noticed").expect("reader");
    let live_before = std::mem::take(&mut *live.lock().unwrap());
    // The other device is ann's: it resends with her token.
    reports.push(lost_acks);
    let senders = [&sessions[0], &sessions[1], &sessions[2], &sessions[0]];
    let names = ["ann", "ben", "cat", "ann's other device"];

    let restart = server.start().await;
    let down_for = killed_at.elapsed();

    // What every client knows: acked client_id → seq, and what it sent without an ack.
    let mut acked: HashMap<String, i64> = HashMap::new();
    let mut sent_total = 0;
    for report in &reports {
        sent_total += report.sent.len();
        for (client_id, seq) in &report.acked {
            assert!(acked.insert(client_id.clone(), *seq).is_none());
        }
    }
    let acked_seqs: BTreeSet<i64> = acked.values().copied().collect();
    assert_eq!(acked_seqs.len(), acked.len(), "two acks carried the same seq");

    // The reader's devices come back first: subscribed, they catch up (below) while resends arrive live.
    let mut phone = server.ws(&reader.access_token).await;
    ready_for_events(&mut phone).await;
    let mut laptop = server.ws(&reader.access_token).await;
    ready_for_events(&mut laptop).await;

    // After the restart, before any resend: what survived.
    let (survived, _) = server.history_after(&reader.access_token, chat, 0).await;
    let survived_by_client: HashMap<&str, i64> = survived.iter().map(|m| (m.client_id.as_str(), m.seq)).collect();
    let survived_max = survived.last().map_or(0, |m| m.seq);
    for (client_id, seq) in &acked {
        assert_eq!(
            survived_by_client.get(client_id.as_str()),
            Some(seq),
            "acked {client_id} lost or moved by the kill"
        );
    }
    assert_eq!(
        survived.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=survived_max).collect::<Vec<_>>(),
        "seqs after the restart have a gap or a repeat"
    );

    // Each sender reconnects and resends everything it has no ack for, with the same client_id.
    let (mut resent, mut stored_already, mut stored_new) = (0, 0, 0);
    let mut resend_seqs: HashMap<String, i64> = HashMap::new();
    for (session, report) in senders.iter().zip(&reports) {
        let unacked: Vec<&(String, String)> =
            report.sent.iter().filter(|(client_id, _)| !report.acked.contains_key(client_id)).collect();
        if unacked.is_empty() {
            continue;
        }
        let mut socket = server.ws(&session.access_token).await;
        ready_for_events(&mut socket).await;
        for (client_id, body) in &unacked {
            socket.send_json(new_message(chat, client_id, body)).await;
        }
        let mut waiting: BTreeSet<&str> = unacked.iter().map(|(c, _)| c.as_str()).collect();
        while !waiting.is_empty() {
            let (client_id, seq) = socket
                .expect("an ack for a resend", |f| match f {
                    ServerFrame::Ack { client_id, message } => Some((client_id.clone(), message.seq)),
                    ServerFrame::Error { client_id: Some(client_id), code, .. }
                        if waiting.contains(client_id.as_str()) =>
                    {
                        panic!("resend of {client_id} refused: {code}")
                    }
                    _ => None,
                })
                .await;
            assert!(waiting.remove(client_id.as_str()), "an unexpected ack for {client_id}");
            resent += 1;
            match survived_by_client.get(client_id.as_str()) {
                Some(&original) => {
                    assert_eq!(seq, original, "the resend of stored {client_id} did not get its original back");
                    stored_already += 1;
                }
                None => {
                    assert!(seq > survived_max, "a new message took an old seq");
                    stored_new += 1;
                }
            }
            resend_seqs.insert(client_id, seq);
        }
    }

    // History now: seqs exactly 1..N, every client_id once, acked ones where they were acked.
    let (history, pages) = server.history_after(&reader.access_token, chat, 0).await;
    let n = history.len() as i64;
    assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=n).collect::<Vec<_>>(), "seqs 1..N");
    let by_client: HashMap<&str, i64> = history.iter().map(|m| (m.client_id.as_str(), m.seq)).collect();
    assert_eq!(by_client.len(), history.len(), "a client_id stored twice");
    for (client_id, seq) in acked.iter().chain(&resend_seqs) {
        assert_eq!(by_client.get(client_id.as_str()), Some(seq), "{client_id}");
    }
    let sent_ids: BTreeSet<&str> = reports.iter().flat_map(|r| r.sent.iter().map(|(c, _)| c.as_str())).collect();
    assert_eq!(by_client.keys().copied().collect::<BTreeSet<_>>(), sent_ids, "history holds exactly what was sent");
    assert_eq!(n as usize, sent_total, "every message sent is stored exactly once");

    // Once more over REST: every un-acked one and a sample of the acked answer 200 with the original.
    let mut again = 0;
    for (i, (client_id, body)) in reports.iter().flat_map(|r| r.sent.iter()).enumerate() {
        if acked.contains_key(client_id) && i % 10 != 0 {
            continue;
        }
        let sender = senders.iter().zip(&reports).find(|(_, r)| r.sent.iter().any(|(c, _)| c == client_id)).unwrap().0;
        let (status, reply) = server
            .call(
                Method::POST,
                &format!("/api/conversations/{chat}/messages"),
                Some(&sender.access_token),
                Some(json!({"client_id": client_id, "body": body})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "a repeated client_id must get the original back: {reply}");
        assert_eq!(reply["seq"].as_i64(), by_client.get(client_id.as_str()).copied(), "{client_id}");
        again += 1;
    }
    let (after_again, _) = server.history_after(&reader.access_token, chat, n).await;
    assert!(after_again.is_empty(), "repeats stored new messages: {after_again:?}");

    // The reader's devices: what each had live before, then after_seq, merged with what comes live now.
    let token = &reader.access_token;
    let phone_caught_up = catch_up(&server, token, chat, &live_before, &mut phone, survived_max + 1, &history).await;
    let laptop_caught_up =
        catch_up(&server, token, chat, &laptop_before, &mut laptop, survived_max + 1, &history).await;

    let log = server.log();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");

    let refused: usize = reports.iter().map(|r| r.refused.len()).sum();
    println!(
        "kill -9 [{backend:?}]: {acked_at_kill} acked when killed ({} acked in all, {sent_total} sent by 3 senders \
         ({still_sending} still sending at the kill) and a device gone before reading {LOST_ACKS} acks, {refused} \
         refused), first start {first_start:?}, restart took {restart:?} ({down_for:?} from the kill); \
         {resent} un-acked resent: {stored_already} were stored already, {stored_new} new; history 1..={n} \
         without gap ({pages} pages); repeats over REST: {again}, all 200 with the original; the phone's socket \
         {reader_ended}",
        acked.len()
    );
    for (device, c) in [("phone (until the kill)", phone_caught_up), ("laptop (left halfway)", laptop_caught_up)] {
        println!(
            "kill -9 [{backend:?}]:   reader's {device}: {} live before, after_seq={} fetched {} in {} pages, {} live \
             after the restart, {} overlaps dropped by seq: saw 1..={n} exactly once",
            c.live_before, c.resume_from, c.fetched, c.pages, c.live_after, c.overlaps
        );
    }
    for (name, report) in names.iter().zip(&reports) {
        println!(
            "kill -9 [{backend:?}]:   {name}: {} sent, {} acked, {} refused; {}",
            report.sent.len(),
            report.acked.len(),
            report.refused.len(),
            report.ended
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_stream_loses_no_acked_message_sqlite() {
    killed_mid_stream(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_stream_loses_no_acked_message_postgres() {
    killed_mid_stream(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL stopped and started while serving.

/// 503 with `{"error":{"code":"service_unavailable","message"}}`.
#[track_caller]
fn assert_unavailable(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {}", reply.body);
    assert_eq!(reply.error_code(503), "service_unavailable", "{what}");
}

#[derive(Default)]
struct SteadyReport {
    acked: Vec<(String, i64)>,
    refused: Vec<(String, String)>,
    slowest: Duration,
}

/// One message at a time, every 10 ms, until told to stop. Every send must be answered within WAIT, with an ack
/// or an error frame naming its client_id: never silence.
async fn steady_sender(
    mut socket: WsClient,
    chat: i64,
    stop: Arc<std::sync::atomic::AtomicBool>,
    acks: Arc<AtomicUsize>,
    errors: Arc<AtomicUsize>,
) -> SteadyReport {
    let mut report = SteadyReport::default();
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let client_id = format!("steady-{i}");
        i += 1;
        let began = Instant::now();
        socket.send_json(new_message(chat, &client_id, "steady")).await;
        let outcome = socket
            .expect("an answer to every send", |f| match f {
                ServerFrame::Ack { client_id: c, message } if *c == client_id => Some(Ok(message.seq)),
                ServerFrame::Error { client_id: Some(c), code, .. } if *c == client_id => Some(Err(code.clone())),
                _ => None,
            })
            .await;
        report.slowest = report.slowest.max(began.elapsed());
        match outcome {
            Ok(seq) => {
                report.acked.push((client_id, seq));
                acks.fetch_add(1, Ordering::SeqCst);
            }
            Err(code) => {
                report.refused.push((client_id, code));
                errors.fetch_add(1, Ordering::SeqCst);
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    report
}

/// REST reads back to back until told to stop: every answer must be 200, or 503 with the error shape.
async fn steady_reader(
    app_address: String,
    token: String,
    chat: i64,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> (usize, usize) {
    let client = reqwest::Client::new();
    let (mut ok, mut unavailable) = (0, 0);
    while !stop.load(Ordering::SeqCst) {
        let url = format!("{app_address}/api/conversations/{chat}/messages?limit=5");
        let res = client.get(url).bearer_auth(&token).send().await.expect("request sent");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::SERVICE_UNAVAILABLE if body["error"]["code"] == "service_unavailable" => unavailable += 1,
            other => panic!("a read while PostgreSQL went away or came back: {other} {body}"),
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (ok, unavailable)
}

async fn wait_until(what: &str, within: Duration, condition: impl Fn() -> bool) -> Duration {
    let began = Instant::now();
    while !condition() {
        assert!(began.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    began.elapsed()
}

/// The whole history, page by page.
async fn all_messages(app: &TestApp, token: &str, chat: i64) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    loop {
        let after = messages.last().map_or(0, |m| m.seq);
        let page = app.history(token, chat, &format!("?after_seq={after}&limit=100")).await;
        let done = !page.has_more || page.messages.is_empty();
        messages.extend(page.messages);
        if done {
            return messages;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_a_running_server_answers_503_then_recovers_by_itself() {
    let Some(mut pg) = OwnPostgres::start().await else { return };
    let store = pg.store().await;
    let mut settings = settings_for(&store);
    // One fault at a time: the in-process broker, so readiness is about the database alone.
    settings.redis_url = None;
    let app = spawn_with(store, settings).await;

    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice.access_token, bob.user.id).await;
    let first = app.send(&alice.access_token, chat.id, "before the outage").await;
    let mut alice_ws = app.ws(&alice.access_token).await;
    let mut alice_phone = app.ws(&alice.access_token).await;
    let mut bob_ws = app.ws(&bob.access_token).await;
    ready_for_events(&mut alice_ws).await;
    ready_for_events(&mut alice_phone).await;
    ready_for_events(&mut bob_ws).await;

    // Alice's phone sends all along: before, during and after the outage.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (acks, errors) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let steady = tokio::spawn(steady_sender(alice_phone, chat.id, stop.clone(), acks.clone(), errors.clone()));
    let reads = tokio::spawn(steady_reader(app.address.clone(), bob.access_token.clone(), chat.id, stop.clone()));
    wait_until("acks before the outage", WAIT, || acks.load(Ordering::SeqCst) >= 5).await;

    let outage = Instant::now();
    pg.down().await;
    let stopped_in = outage.elapsed();

    // REST: 503 with the error shape, every time (the pool's broken connections and the refused new ones).
    let mut rest_503 = 0;
    let messages_path = format!("/api/conversations/{}/messages", chat.id);
    for round in 0..3 {
        assert_unavailable(&app.get("/api/conversations", &alice.access_token).await, "GET /api/conversations");
        assert_unavailable(&app.get(&messages_path, &alice.access_token).await, "GET messages");
        let post = app
            .post(
                &messages_path,
                Some(&alice.access_token),
                &json!({"body": "lost?", "client_id": format!("rest-{round}")}),
            )
            .await;
        assert_unavailable(&post, "POST messages");
        assert_unavailable(&app.get("/api/users/me", &alice.access_token).await, "GET /api/users/me");
        rest_503 += 4;
    }
    // A new socket is refused before the upgrade, cleanly.
    let refused = connect_async(format!("ws://127.0.0.1:{}/ws?token={}", app.port, bob.access_token)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 503, "new socket during the outage")
        }
        Err(other) => panic!("new socket during the outage: {other}"),
        Ok(_) => panic!("a socket was upgraded while the database is down"),
    }
    // An open socket: an error frame naming the client_id, and the socket stays.
    alice_ws.send_json(new_message(chat.id, "ws-outage", "sent during the outage")).await;
    let (code, client_id) = alice_ws
        .expect("an error frame for the send", |f| match f {
            ServerFrame::Error { code, client_id, .. } => Some((code.clone(), client_id.clone())),
            ServerFrame::Ack { message, .. } => panic!("acked while the database is down: {message:?}"),
            _ => None,
        })
        .await;
    assert_eq!((code.as_str(), client_id.as_deref()), ("service_unavailable", Some("ws-outage")));
    alice_ws.send_json(json!({"type": "fetch_messages", "conversation_id": chat.id, "after_seq": 0})).await;
    let code = alice_ws
        .expect("an error frame for the fetch", |f| match f {
            ServerFrame::Error { code, .. } => Some(code.clone()),
            ServerFrame::Messages { .. } => panic!("history served while the database is down"),
            _ => None,
        })
        .await;
    assert_eq!(code, "service_unavailable");
    // Probes: the process lives, it is not ready.
    let ready = app.raw(Method::GET, "/readyz", None, vec![]).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "/readyz: {}", ready.body);
    assert_eq!(ready.body["database"], "unreachable", "/readyz: {}", ready.body);
    let health = app.raw(Method::GET, "/healthz", None, vec![]).await;
    assert_eq!(health.status, StatusCode::OK, "/healthz: {}", health.body);
    wait_until("error frames at the phone during the outage", WAIT, || errors.load(Ordering::SeqCst) >= 3).await;

    pg.up().await;
    let outage = outage.elapsed();
    let back = Instant::now();
    let acks_when_back = acks.load(Ordering::SeqCst);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let reply = app.get("/api/conversations", &alice.access_token).await;
        if reply.status == StatusCode::OK {
            break;
        }
        assert_unavailable(&reply, "GET /api/conversations while recovering");
        assert!(back.elapsed() < Duration::from_secs(30), "REST did not recover within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = back.elapsed();
    let ready = app.raw(Method::GET, "/readyz", None, vec![]).await;
    assert_eq!(ready.status, StatusCode::OK, "/readyz after recovery: {}", ready.body);
    let phone_back = wait_until("acks at the phone after the outage", Duration::from_secs(30), || {
        acks.load(Ordering::SeqCst) > acks_when_back
    })
    .await;
    wait_until("more acks after the outage", WAIT, || acks.load(Ordering::SeqCst) >= acks_when_back + 5).await;
    stop.store(true, Ordering::SeqCst);
    let phone = tokio::time::timeout(WAIT, steady).await.expect("the phone stops").expect("steady sender");
    let (reads_ok, reads_503) = tokio::time::timeout(WAIT, reads).await.expect("the reader stops").expect("reader");
    let codes: BTreeSet<&str> = phone.refused.iter().map(|(_, code)| code.as_str()).collect();
    assert_eq!(codes, BTreeSet::from(["service_unavailable"]), "refusals during the outage: {:?}", phone.refused);

    // The same sockets carry on: the refused send, resent, is stored now and delivered.
    alice_ws.send_json(new_message(chat.id, "ws-outage", "sent during the outage")).await;
    let acked = alice_ws
        .expect("ack", |f| match f {
            ServerFrame::Ack { client_id, message } if client_id == "ws-outage" => Some(message.seq),
            ServerFrame::Error { code, client_id, .. } => panic!("after recovery: error {code} for {client_id:?}"),
            _ => None,
        })
        .await;
    let delivered = bob_ws
        .expect("the message", |f| match f {
            ServerFrame::Message { message } if message.client_id == "ws-outage" => Some(message.seq),
            _ => None,
        })
        .await;
    assert_eq!(delivered, acked);
    // The phone resends what was refused: stored once (200 would mean it was stored after all).
    let (mut resent_new, mut resent_stored) = (0, 0);
    for (client_id, _) in &phone.refused {
        let reply = app
            .post(&messages_path, Some(&alice.access_token), &json!({"body": "steady", "client_id": client_id}))
            .await;
        match reply.status {
            StatusCode::CREATED => resent_new += 1,
            StatusCode::OK => resent_stored += 1,
            other => panic!("resend of {client_id} after recovery: {other} {}", reply.body),
        }
    }
    let last = app.send(&bob.access_token, chat.id, "after the outage").await;

    // History: seqs 1..N without gap, every client_id once; acked ones where acked, REST 503s absent.
    let history = all_messages(&app, &alice.access_token, chat.id).await;
    let n = history.len() as i64;
    assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=n).collect::<Vec<_>>(), "seqs 1..N");
    let by_client: HashMap<&str, i64> = history.iter().map(|m| (m.client_id.as_str(), m.seq)).collect();
    assert_eq!(by_client.len(), history.len(), "a client_id stored twice");
    for (client_id, seq) in &phone.acked {
        assert_eq!(by_client.get(client_id.as_str()), Some(seq), "acked {client_id}");
    }
    for (client_id, _) in &phone.refused {
        assert!(by_client.contains_key(client_id.as_str()), "resent {client_id} missing");
    }
    for round in 0..3 {
        assert!(!by_client.contains_key(format!("rest-{round}").as_str()), "a 503 send was stored");
    }
    assert_eq!(by_client.get(first.client_id.as_str()), Some(&first.seq));
    assert_eq!(by_client.get("ws-outage"), Some(&acked));
    assert_eq!(last.seq, n, "the last send is the last message");
    assert_eq!(n as usize, 3 + phone.acked.len() + phone.refused.len(), "exactly what was sent, once each");
    // And a new socket is accepted again.
    let mut late = app.ws(&bob.access_token).await;
    ready_for_events(&mut late).await;

    println!(
        "postgres outage {outage:?} (stop took {stopped_in:?}): {rest_503} REST answers 503 service_unavailable, \
         a new socket 503, /readyz 503 and /healthz 200, socket error frames for new_message (with client_id) and \
         fetch_messages; REST answered 200 {recovered:?} after PostgreSQL was back ({attempts} attempts)"
    );
    println!(
        "postgres outage: a phone sending every 10 ms throughout: {} acked, {} refused with service_unavailable, \
         slowest answer {:?}, first ack {phone_back:?} after PostgreSQL was back; refused ones resent: {resent_new} \
         new, {resent_stored} stored already; history 1..={n} without gap; REST reads throughout: {reads_ok} \
         200, {reads_503} 503",
        phone.acked.len(),
        phone.refused.len(),
        phone.slowest
    );
}

// ---------------------------------------------------------------------------------------------------------
// A client that asks and never reads.

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn stalled_reader(backend: Backend) {
    let Some(store) = Store::fresh(backend).await else { return };
    let mut server = ServerProcess::new(&store);
    let admin = restartable_port();
    server.env.push(("CHAT_WS_DRAIN_SECS", "3".to_owned()));
    server.env.push(("CHAT_ADMIN_BIND", format!("127.0.0.1:{admin}")));
    server.start().await;
    let pid = server.child.as_ref().expect("running").id();
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (status, chat) = server
        .call(
            Method::POST,
            "/api/conversations",
            Some(&alice.access_token),
            Some(json!({"kind": "direct", "user_id": bob.user.id})),
        )
        .await;
    assert!(status.is_success(), "{chat}");
    let chat = chat["id"].as_i64().expect("id");
    // 100 long messages: a page of them is most of a megabyte of JSON.
    let body = "é".repeat(4000);
    for i in 0..100 {
        let path = format!("/api/conversations/{chat}/messages");
        let (status, _) = server
            .call(
                Method::POST,
                &path,
                Some(&alice.access_token),
                Some(json!({"body": body, "client_id": format!("long-{i}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // A well-behaved socket of bob's, to show the server keeps serving.
    let mut steady = server.ws(&bob.access_token).await;
    steady.send_json(json!({"type": "fetch_messages", "conversation_id": chat, "limit": 100})).await;
    steady.expect("a page", |f| matches!(f, ServerFrame::Messages { .. }).then_some(())).await;
    let before = rss_kib(pid);

    // The hostile one: a tiny receive buffer, 60 page requests one after another, and no reading at all. The
    // first pages fill the kernel's buffers; after that they would pile up in the server.
    let tcp_socket = tokio::net::TcpSocket::new_v4().expect("socket");
    tcp_socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = tcp_socket.connect(format!("127.0.0.1:{}", server.port).parse().expect("addr")).await.expect("connect");
    let url = format!("ws://127.0.0.1:{}/ws?token={}", server.port, bob.access_token);
    let (mut stalled, _) =
        tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(tcp)).await.expect("handshake");
    for i in 0..60 {
        let frame = json!({"type": "fetch_messages", "conversation_id": chat, "before_seq": 101 - i, "limit": 100});
        stalled.send(WsMessage::Text(frame.to_string().into())).await.expect("sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let began = Instant::now();
    let mut peak = before;
    let closes = async || {
        let text =
            server.client.get(format!("http://127.0.0.1:{admin}/metrics")).send().await.ok()?.text().await.ok()?;
        text.lines().find_map(|l| l.strip_prefix("chat_slow_consumer_closes_total ")?.trim().parse::<f64>().ok())
    };
    loop {
        peak = peak.max(rss_kib(pid));
        if closes().await.unwrap_or(0.0) >= 1.0 {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(20), "the stalled socket was never closed:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed_after = began.elapsed();
    // The server goes on serving the other socket meanwhile.
    steady.send_json(json!({"type": "fetch_messages", "conversation_id": chat, "limit": 1})).await;
    steady.expect("a page", |f| matches!(f, ServerFrame::Messages { .. }).then_some(())).await;
    // The allocator gives freed pages back after a short delay.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let mut stalled = WsClient { stream: stalled };
    let (frames, ended) = stalled.until_end(Duration::from_secs(30)).await;
    let pages = frames.iter().filter(|f| matches!(f, ServerFrame::Messages { .. })).count();
    println!(
        "stalled reader [{backend:?}]: 60 page requests, {pages} pages written before the close after {closed_after:.1?} \
         ({ended:?}); server RSS {} MiB before, {} MiB peak, {} MiB after",
        before / 1024,
        peak / 1024,
        after / 1024
    );
    assert!(matches!(ended, Ended::Closed(Some(4008)) | Ended::Dropped), "{ended:?}");
    assert!(pages < 60, "a client that reads nothing is not served every page");
    assert!(peak < before + 64 * 1024, "a stalled socket made the server hold {} MiB", (peak - before) / 1024);
    assert!(after < before + 16 * 1024, "memory was not given back: {} KiB before, {after} KiB after", before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_a_socket_that_never_reads_is_closed_and_its_memory_freed_sqlite() {
    stalled_reader(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_a_socket_that_never_reads_is_closed_and_its_memory_freed_postgres() {
    stalled_reader(Backend::Postgres).await;
}
