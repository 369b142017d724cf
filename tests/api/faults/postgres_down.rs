//! PostgreSQL stopped and started under a running server.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chat_server::protocol::{Message, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

use super::{new_message, ready_for_events};
use crate::helpers::*;
use crate::own_services::OwnPostgres;
use crate::ws_client::*;

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
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn postgres_stopped_under_a_running_server_answers_503_then_recovers_by_itself() {
    let Some(mut pg) = OwnPostgres::start().await else { return };
    let store = pg.store().await;
    let mut settings = settings_for(&store);
    // One fault at a time: the in-process broker, so readiness is about the database alone.
    settings.redis_url = None;
    let app = spawn_with(store, settings).await;

    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let chat = alice.direct_with(&bob).await;
    let first = alice.send(chat.id, "before the outage").await;
    let mut alice_ws = alice.socket().await;
    let mut alice_phone = alice.socket().await;
    let mut bob_ws = bob.socket().await;
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
        assert_unavailable(&alice.get("/api/conversations").await, "GET /api/conversations");
        assert_unavailable(&alice.get(&messages_path).await, "GET messages");
        let post = app
            .post(
                &messages_path,
                Some(&alice.access_token),
                &json!({"body": "lost?", "client_id": format!("rest-{round}")}),
            )
            .await;
        assert_unavailable(&post, "POST messages");
        assert_unavailable(&alice.get("/api/users/me").await, "GET /api/users/me");
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
        let reply = alice.get("/api/conversations").await;
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
    let last = bob.send(chat.id, "after the outage").await;

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
    let mut late = bob.socket().await;
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
