//! kill -9 mid-stream: nothing acked is lost, seqs stay gapless, resends are stored once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chat_server::protocol::{Message, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::process::ServerProcess;
use super::{new_message, ready_for_events};
use crate::helpers::*;

use super::kill_clients::*;

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
    assert_eq!(
        history.iter().filter(|m| m.event.is_some()).count(),
        usize::from(history.first().is_some_and(|m| m.seq == 1 && m.event.is_some())),
        "a group's one event is its first"
    );
    assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=n).collect::<Vec<_>>(), "seqs 1..N");
    let by_client: HashMap<&str, i64> = history.iter().map(|m| (m.client_id.as_str(), m.seq)).collect();
    assert_eq!(by_client.len(), history.len(), "a client_id stored twice");
    for (client_id, seq) in acked.iter().chain(&resend_seqs) {
        assert_eq!(by_client.get(client_id.as_str()), Some(seq), "{client_id}");
    }
    let said: Vec<&Message> = history.iter().filter(|m| m.event.is_none()).collect();
    let by_client: HashMap<&str, i64> = said.iter().map(|m| (m.client_id.as_str(), m.seq)).collect();
    let sent_ids: BTreeSet<&str> = reports.iter().flat_map(|r| r.sent.iter().map(|(c, _)| c.as_str())).collect();
    assert_eq!(by_client.keys().copied().collect::<BTreeSet<_>>(), sent_ids, "history holds exactly what was sent");
    assert_eq!(said.len(), sent_total, "every message sent is stored exactly once");

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
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn server_killed_mid_stream_loses_no_acked_message_postgres() {
    killed_mid_stream(Backend::Postgres).await;
}
