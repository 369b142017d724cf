//! The Redis broker: pub/sub with one channel per conversation and one per user, so an instance receives only
//! what its connected users need. Publishing goes through a pool; subscribing through one dedicated
//! connection that a supervisor task reconnects (with backoff and jitter) whenever Redis goes away, then
//! re-subscribes everything the hub still needs. While Redis is down, local delivery goes on and nothing is
//! lost: messages are stored first, and clients catch up by seq.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use deadpool_redis::{Config as PoolConfig, Pool, Runtime};
use futures_util::StreamExt;
use futures_util::future::{BoxFuture, FutureExt};
use tokio::sync::mpsc;

use super::{Broker, BrokerState, Envelope, Topic};
use crate::ids::UserId;

const PUBLISH_QUEUE: usize = 65_536;
/// Envelopes from other instances waiting for the hub; when it falls this far behind, reading Redis waits.
const INBOUND_QUEUE: usize = 65_536;
const PUBLISH_BATCH: usize = 512;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

enum Control {
    Subscribe(String),
    Unsubscribe(String),
    /// Answered once the commands before it are done.
    Settle(tokio::sync::oneshot::Sender<()>),
}

pub struct RedisBroker {
    prefix: String,
    instance_id: u64,
    pool: Pool,
    publish_tx: mpsc::Sender<Envelope>,
    control_tx: mpsc::UnboundedSender<Control>,
    state: AtomicU8,
    reconnects: AtomicU64,
    /// Channels the hub needs; re-subscribed after every reconnect.
    wanted: Mutex<HashSet<String>>,
}

#[derive(Debug, thiserror::Error)]
#[error("Redis at REDIS_URL is not usable: {0}")]
pub struct RedisError(String);

impl RedisBroker {
    /// Connect (failing fast when Redis is unreachable at start) and start the publisher and subscriber tasks.
    /// Other instances' envelopes come out of the returned receiver, for the hub to drain.
    pub async fn start(
        url: &str,
        prefix: &str,
        instance_id: u64,
    ) -> Result<(Arc<Self>, mpsc::Receiver<Envelope>), RedisError> {
        let client = redis::Client::open(url).map_err(|e| RedisError(e.to_string()))?;
        let pool =
            PoolConfig::from_url(url).create_pool(Some(Runtime::Tokio1)).map_err(|e| RedisError(e.to_string()))?;
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, pool.get())
            .await
            .map_err(|_| RedisError("timed out connecting".into()))?
            .map_err(|e| RedisError(e.to_string()))?;
        let _: String = redis::cmd("PING").query_async(&mut *conn).await.map_err(|e| RedisError(e.to_string()))?;
        drop(conn);
        let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_QUEUE);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let broker = Arc::new(RedisBroker {
            prefix: prefix.to_owned(),
            instance_id,
            pool,
            publish_tx,
            control_tx,
            state: AtomicU8::new(STATE_RECONNECTING),
            reconnects: AtomicU64::new(0),
            wanted: Mutex::new(HashSet::new()),
        });
        let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
        tokio::spawn(publisher(Arc::downgrade(&broker), publish_rx));
        tokio::spawn(subscriber(Arc::downgrade(&broker), client, control_rx, inbound_tx));
        Ok((broker, inbound_rx))
    }

    fn channel(&self, topic: Topic) -> String {
        match topic {
            Topic::Conversation(id) => format!("{}:c:{id}", self.prefix),
            Topic::User(id) => format!("{}:u:{id}", self.prefix),
            Topic::Everyone => format!("{}:all", self.prefix),
        }
    }

    fn presence_key(&self, user_id: UserId) -> String {
        format!("{}:online:{user_id}", self.prefix)
    }

    fn wanted(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.wanted.lock().unwrap_or_else(|p| p.into_inner())
    }
}

const STATE_CONNECTED: u8 = 1;
const STATE_RECONNECTING: u8 = 2;

impl Broker for RedisBroker {
    fn publish(&self, envelope: Envelope) {
        if envelope.origin != self.instance_id {
            return; // Only events made here travel out; the others came from Redis.
        }
        // A full queue (Redis cannot keep up, or is away) drops the event: messages are stored, and the
        // receiving hub fills the gap from the database; the rest is ephemeral.
        let _ = self.publish_tx.try_send(envelope);
    }

    fn subscribe(&self, topic: Topic) {
        let channel = self.channel(topic);
        if self.wanted().insert(channel.clone()) {
            let _ = self.control_tx.send(Control::Subscribe(channel));
        }
    }

    fn unsubscribe(&self, topic: Topic) {
        let channel = self.channel(topic);
        if self.wanted().remove(&channel) {
            let _ = self.control_tx.send(Control::Unsubscribe(channel));
        }
    }

    fn settle(&self) -> BoxFuture<'static, ()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = self.control_tx.send(Control::Settle(tx));
        // Dropped unanswered when Redis is away: nothing to wait for then.
        async move {
            let _ = tokio::time::timeout(CONNECT_TIMEOUT, rx).await;
        }
        .boxed()
    }

    fn state(&self) -> BrokerState {
        match self.state.load(Ordering::Relaxed) {
            STATE_CONNECTED => BrokerState::Connected,
            _ => BrokerState::Reconnecting,
        }
    }

    /// Presence per user is a sorted set of the instances where the user has a socket, scored by when that
    /// claim expires. Instances renew their users' claims (`renew_presence`), so an instance that dies without
    /// saying goodbye stops counting after PRESENCE_TTL instead of keeping its users online for ever.
    fn presence_delta(&self, user_id: UserId, delta: i64) -> BoxFuture<'static, Option<i64>> {
        let pool = self.pool.clone();
        let key = self.presence_key(user_id);
        let instance = self.instance_id;
        let counted = async move {
            let mut conn = pool.get().await.ok()?;
            let now = unix_now();
            let mut pipe = redis::pipe();
            if delta > 0 {
                pipe.cmd("ZADD").arg(&key).arg(now + PRESENCE_TTL.as_secs() as i64).arg(instance).ignore();
            } else {
                pipe.cmd("ZREM").arg(&key).arg(instance).ignore();
            }
            pipe.cmd("ZREMRANGEBYSCORE").arg(&key).arg("-inf").arg(now).ignore();
            pipe.cmd("EXPIRE").arg(&key).arg(PRESENCE_TTL.as_secs() * 2).ignore();
            pipe.cmd("ZCARD").arg(&key);
            let (total,): (i64,) = pipe.query_async(&mut *conn).await.ok()?;
            Some(total)
        };
        // Redis away: presence is not worth stalling a socket for.
        async move { tokio::time::timeout(CONNECT_TIMEOUT, counted).await.ok().flatten() }.boxed()
    }

    fn online_among(&self, user_ids: Vec<UserId>) -> BoxFuture<'static, Option<HashSet<UserId>>> {
        let pool = self.pool.clone();
        let keys: Vec<String> = user_ids.iter().map(|&id| self.presence_key(id)).collect();
        let read = async move {
            if keys.is_empty() {
                return Some(HashSet::new());
            }
            let mut conn = pool.get().await.ok()?;
            let now = unix_now();
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.cmd("ZCOUNT").arg(key).arg(now).arg("+inf");
            }
            let counts: Vec<i64> = pipe.query_async(&mut *conn).await.ok()?;
            Some(user_ids.into_iter().zip(counts).filter(|(_, n)| *n > 0).map(|(id, _)| id).collect())
        };
        async move { tokio::time::timeout(CONNECT_TIMEOUT, read).await.ok().flatten() }.boxed()
    }

    fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    fn presence_renewal(&self) -> Option<Duration> {
        Some(PRESENCE_TTL / 3)
    }

    fn renew_presence(&self, users: Vec<UserId>) -> BoxFuture<'static, ()> {
        if users.is_empty() {
            return Box::pin(async {});
        }
        let expires = unix_now() + PRESENCE_TTL.as_secs() as i64;
        let mut pipe = redis::pipe();
        for user_id in users {
            pipe.cmd("ZADD").arg(self.presence_key(user_id)).arg(expires).arg(self.instance_id).ignore();
            pipe.cmd("EXPIRE").arg(self.presence_key(user_id)).arg(PRESENCE_TTL.as_secs() * 2).ignore();
        }
        let pool = self.pool.clone();
        Box::pin(async move {
            let renewed = async {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                pipe.query_async::<()>(&mut *conn).await.map_err(|e| e.to_string())
            };
            if let Err(error) = tokio::time::timeout(CONNECT_TIMEOUT, renewed).await.unwrap_or(Err("timed out".into()))
            {
                tracing::debug!(%error, "presence renewal failed; retried next round");
            }
        })
    }
}

/// How long an instance's claim that a user is online lasts without renewal.
const PRESENCE_TTL: Duration = Duration::from_secs(60);

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Drains the publish queue in pipelined batches.
async fn publisher(broker: Weak<RedisBroker>, mut rx: mpsc::Receiver<Envelope>) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while rx.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let Some(broker) = broker.upgrade() else { return };
        let mut pipe = redis::pipe();
        for envelope in batch.drain(..) {
            let payload = envelope.encode();
            for topic in envelope.topics() {
                pipe.cmd("PUBLISH").arg(broker.channel(topic)).arg(&payload).ignore();
            }
        }
        let sent = async {
            let mut conn = broker.pool.get().await.map_err(|e| e.to_string())?;
            pipe.query_async::<()>(&mut *conn).await.map_err(|e| e.to_string())
        };
        if let Err(error) = tokio::time::timeout(CONNECT_TIMEOUT, sent).await.unwrap_or(Err("timed out".into())) {
            tracing::warn!(%error, "publishing to Redis failed; local delivery continues");
        }
    }
}

/// Keeps one subscription connection alive for as long as the broker lives.
async fn subscriber(
    broker: Weak<RedisBroker>,
    client: redis::Client,
    mut control: mpsc::UnboundedReceiver<Control>,
    inbound: mpsc::Sender<Envelope>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(strong) = broker.upgrade() else { return };
        let connected = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await;
        let pubsub = match connected {
            Ok(Ok(pubsub)) => pubsub,
            other => {
                let error = match other {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_owned(),
                };
                if strong.state.swap(STATE_RECONNECTING, Ordering::Relaxed) != STATE_RECONNECTING {
                    tracing::warn!(%error, "Redis subscription lost; retrying");
                }
                drop(strong);
                // Full jitter: many instances must not come back in lockstep.
                tokio::time::sleep(jitter(backoff)).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        // Drain queued control commands: `wanted` already reflects them and is subscribed in full below.
        while control.try_recv().is_ok() {}
        let channels: Vec<String> = strong.wanted().iter().cloned().collect();
        if !channels.is_empty() && sink.subscribe(&channels).await.is_err() {
            continue;
        }
        if strong.state.swap(STATE_CONNECTED, Ordering::Relaxed) == STATE_RECONNECTING {
            let count = strong.reconnects.fetch_add(1, Ordering::Relaxed);
            if count > 0 {
                tracing::info!(channels = channels.len(), "Redis subscription restored");
            }
        }
        backoff = Duration::from_millis(100);
        let instance_id = strong.instance_id;
        drop(strong);
        loop {
            tokio::select! {
                command = control.recv() => {
                    let result = match command {
                        Some(Control::Subscribe(channel)) => sink.subscribe(channel).await,
                        Some(Control::Unsubscribe(channel)) => sink.unsubscribe(channel).await,
                        Some(Control::Settle(done)) => {
                            let _ = done.send(());
                            Ok(())
                        }
                        None => return,
                    };
                    if result.is_err() {
                        break;
                    }
                }
                message = stream.next() => {
                    let Some(message) = message else { break };
                    let Some(envelope) = Envelope::decode(message.get_payload_bytes()) else { continue };
                    if envelope.origin == instance_id {
                        continue;
                    }
                    if inbound.send(envelope).await.is_err() {
                        return; // Nobody drains any more: the server is stopping.
                    }
                }
            }
        }
        if let Some(strong) = broker.upgrade() {
            strong.state.store(STATE_RECONNECTING, Ordering::Relaxed);
            tracing::warn!("Redis subscription lost; reconnecting");
        }
    }
}

fn jitter(cap: Duration) -> Duration {
    let mut buf = [0u8; 4];
    let fraction = match getrandom::fill(&mut buf) {
        Ok(()) => f64::from(u32::from_le_bytes(buf)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    };
    cap.mul_f64(fraction.max(0.1))
}
