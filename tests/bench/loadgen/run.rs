//! Running load steps: open-loop sending, counting what arrives, and the outcome of each step.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::Shape;
use super::client::*;

#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) acked: AtomicU64,
    pub(crate) ack_errors: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) out_of_order: AtomicU64,
    /// Send→receive latencies, sharded so a thousand readers do not queue on one lock.
    pub(crate) latencies_us: Vec<std::sync::Mutex<Vec<u32>>>,
}

impl Tally {
    pub(crate) fn new() -> Self {
        Tally { latencies_us: (0..64).map(|_| std::sync::Mutex::new(Vec::new())).collect(), ..Tally::default() }
    }

    pub(crate) fn record_latency(&self, shard: usize, us: u32) {
        let mut l = self.latencies_us[shard % 64].lock().unwrap_or_else(|p| p.into_inner());
        l.push(us);
    }

    pub(crate) fn take_latencies(&self) -> Vec<u32> {
        let mut all = Vec::new();
        for shard in &self.latencies_us {
            all.append(&mut shard.lock().unwrap_or_else(|p| p.into_inner()));
        }
        all
    }
}

/// Only what the generator reads of a frame (parsing whole frames would load the generator, not the server).
#[derive(serde::Deserialize)]
pub(crate) struct LightFrame<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    #[serde(default)]
    pub(crate) client_id: Option<&'a str>,
    #[serde(default, borrow)]
    pub(crate) message: Option<LightMessage<'a>>,
}

#[derive(serde::Deserialize)]
pub(crate) struct LightMessage<'a> {
    pub(crate) conversation_id: i64,
    pub(crate) seq: i64,
    pub(crate) sender_id: i64,
    pub(crate) body: &'a str,
}

pub(crate) struct Outcome {
    pub(crate) rate: u64,
    pub(crate) sent: u64,
    pub(crate) acked: u64,
    pub(crate) ack_errors: u64,
    pub(crate) delivered: u64,
    pub(crate) expected: u64,
    pub(crate) missing: u64,
    pub(crate) duplicates: u64,
    pub(crate) out_of_order: u64,
    pub(crate) seconds: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

impl Outcome {
    pub(crate) fn print(&self) {
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
pub(crate) async fn drive(
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
            let sink = Arc::new(Mutex::new(sink));
            let tally = step_tally.clone();
            let me = member.user.id;
            let (receipts, delivered_every) = (sink.clone(), Duration::from_millis(shape.delivered_every_ms));
            readers.push(tokio::spawn(async move {
                // conversation → when this reader last reported `delivered` for it.
                let mut reported: HashMap<i64, Instant> = HashMap::new();
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
                            if !delivered_every.is_zero()
                                && reported
                                    .get(&message.conversation_id)
                                    .is_none_or(|at| at.elapsed() >= delivered_every)
                            {
                                reported.insert(message.conversation_id, Instant::now());
                                let frame = json!({"type": "delivered", "conversation_id": message.conversation_id,
                                    "up_to_seq": message.seq});
                                let _ = receipts.lock().await.send(WsMessage::Text(frame.to_string().into())).await;
                            }
                        }
                        _ => {}
                    }
                }
            }));
            if m < shape.senders_per_room {
                senders.push((room.id, sink));
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
