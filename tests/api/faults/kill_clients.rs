//! The clients of the kill -9 scenario: senders that send until cut off, readers that record what arrives
//! live, and a reader's catch-up by seq after the restart.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chat_server::protocol::{Message, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::new_message;
use super::process::ServerProcess;
use crate::ws_client::*;

/// Messages in flight per sender (sent, not yet acked).
pub(super) const WINDOW: usize = 16;
/// The kill comes once this many messages were acked in all.
pub(super) const KILL_AFTER_ACKS: usize = 300;
/// Messages from a device that disconnects before reading their acks.
pub(super) const LOST_ACKS: usize = 8;

#[derive(Default)]
pub(super) struct SenderReport {
    /// client_id → body, in the order sent.
    pub(super) sent: Vec<(String, String)>,
    pub(super) acked: HashMap<String, i64>,
    /// Error frames (client_id, code): not stored as far as the client knows.
    pub(super) refused: Vec<(String, String)>,
    pub(super) ended: String,
}

/// Send without pause (up to WINDOW in flight) until the socket breaks; record what was acked with which seq.
pub(super) async fn send_until_cut(
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

pub(super) type Live = Arc<std::sync::Mutex<BTreeMap<i64, String>>>;

/// A client that only reads: every live `message` it gets, by seq (a repeat on one socket is a failure), until
/// the socket ends or it is told to leave.
pub(super) async fn read_live(
    mut socket: WsClient,
    live: Live,
    mut leave: tokio::sync::oneshot::Receiver<()>,
) -> String {
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
pub(super) fn contiguous_up_to(seen: &BTreeMap<i64, String>) -> i64 {
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
pub(super) struct CatchUp {
    pub(super) live_before: usize,
    pub(super) resume_from: i64,
    pub(super) fetched: usize,
    pub(super) pages: usize,
    pub(super) live_after: usize,
    pub(super) overlaps: usize,
}

/// A reader back after the restart (already subscribed on `socket`): it fetches `after_seq` from the last seq
/// it holds without a hole and merges that with what arrives live (every seq from `new_from` on was stored
/// after it subscribed, so must come live). Asserts it ends up with every seq of `history` exactly once, each
/// the message history has at that seq.
pub(super) async fn catch_up(
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
