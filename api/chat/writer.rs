//! The message writer: sends are queued to writers (sharded by conversation, so one conversation's messages are
//! stored and fanned out in seq order), and each stores whatever has queued up in one transaction. Under load
//! that turns many commits into one without delaying a lone message at all.
//!
//! On PostgreSQL a few writer tasks commit in parallel, each batch one call of a stored function. SQLite has
//! one writer anyway, so it gets one thread that owns its connection: a message goes from the socket's worker
//! to that thread and from there straight into the mailboxes, with no runtime or blocking-pool hop between
//! (those hand-offs cost more CPU than the insert at light load).
//!
//! Order of effects per batch: commit → every ack (or REST reply) → fan-out. So a message is stored before it
//! is acknowledged, and acknowledged before any other socket sees it.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use super::{ChatError, ChatResult, views};
use crate::db::messages::{self, PendingSend, StoreOutcome};
use crate::db::{DbError, DbPool, users};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{Message, ServerFrame};
use crate::realtime::Realtime;

/// Most sends stored in one transaction.
const MAX_BATCH: usize = 256;
const QUEUE_PER_SHARD: usize = 8192;
/// PostgreSQL commits batches of different conversations in parallel. (Two shards lowered PostgreSQL's CPU at
/// light load but did worse at 6,000 msg/s, eight did worse at light load: README, Benchmarks.)
const POSTGRES_SHARDS: usize = 4;

#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    /// False when the client_id was already used: `message` is the original.
    pub created: bool,
}

/// Where a socket's sends are answered: the socket's layer turns each outcome into an ack or an `error` frame.
/// (The writer sits below the sockets and does not know frames or mailboxes.)
pub trait SendReplies: Send + Sync {
    fn reply(&self, client_id: String, result: ChatResult<Sent>);
}

/// The socket a send came from.
#[derive(Clone)]
pub struct SocketOrigin {
    /// Its id, so the fan-out skips it (it gets the ack instead).
    pub socket_id: u64,
    pub replies: Arc<dyn SendReplies>,
}

enum ReplyTo {
    /// A REST handler awaiting the outcome.
    Caller(oneshot::Sender<ChatResult<Sent>>),
    /// A socket: answered through its replies.
    Socket(SocketOrigin),
}

struct Job {
    send: PendingSend,
    reply: ReplyTo,
}

#[derive(Clone)]
pub struct MessageWriter {
    shards: Arc<Vec<mpsc::Sender<Job>>>,
}

/// Resolves once every writer has stored what was queued and ended (after the last handle is dropped).
pub struct WriterDrained(mpsc::Receiver<()>);

impl WriterDrained {
    pub async fn wait(mut self) {
        while self.0.recv().await.is_some() {}
    }
}

impl MessageWriter {
    /// SQLite's one writer thread (and its checkpointer), or PostgreSQL's writer tasks.
    pub fn start(db: DbPool, realtime: Realtime) -> Result<(Self, WriterDrained), DbError> {
        let (alive, drained) = mpsc::channel(1);
        let shards = match db.open_sqlite_writer()? {
            Some(conn) => {
                let (tx, rx) = mpsc::channel(QUEUE_PER_SHARD);
                let checkpointer = db.start_sqlite_checkpointer()?;
                // The hub may spawn tasks (a late subscription's catch-up): they go to this runtime.
                let runtime = tokio::runtime::Handle::current();
                let alive = alive.clone();
                std::thread::Builder::new()
                    .name("sqlite-writer".into())
                    .spawn(move || {
                        let _runtime = runtime.enter();
                        run_sqlite_writer(rx, conn, realtime);
                        drop((checkpointer, alive));
                    })
                    .map_err(|e| DbError::Unavailable(format!("cannot start the SQLite writer thread: {e}")))?;
                vec![tx]
            }
            None => (0..POSTGRES_SHARDS)
                .map(|_| {
                    let (tx, rx) = mpsc::channel(QUEUE_PER_SHARD);
                    let (db, realtime, alive) = (db.clone(), realtime.clone(), alive.clone());
                    tokio::spawn(async move {
                        run_shard(rx, db, realtime).await;
                        drop(alive);
                    });
                    tx
                })
                .collect(),
        };
        Ok((MessageWriter { shards: Arc::new(shards) }, WriterDrained(drained)))
    }

    fn shard(&self, conversation_id: ConversationId) -> &mpsc::Sender<Job> {
        &self.shards[conversation_id.get().rem_euclid(self.shards.len() as i64) as usize]
    }

    /// Store a message and wait for the outcome (REST).
    pub async fn send(&self, send: PendingSend) -> ChatResult<Sent> {
        let (tx, rx) = oneshot::channel();
        let conversation_id = send.conversation_id;
        let job = Job { send, reply: ReplyTo::Caller(tx) };
        self.shard(conversation_id).send(job).await.map_err(|_| ChatError::ShuttingDown)?;
        rx.await.map_err(|_| ChatError::ShuttingDown)?
    }

    /// Queue a message from a socket; it is answered through the socket's replies once stored.
    pub async fn submit(&self, origin: SocketOrigin, send: PendingSend) -> ChatResult<()> {
        let conversation_id = send.conversation_id;
        let job = Job { send, reply: ReplyTo::Socket(origin) };
        self.shard(conversation_id).send(job).await.map_err(|_| ChatError::ShuttingDown)
    }
}

/// A PostgreSQL writer task: whatever has queued up, in one call.
async fn run_shard(mut rx: mpsc::Receiver<Job>, db: DbPool, realtime: Realtime) {
    let store_time = metrics::histogram!("chat_message_batch_store_seconds");
    let mut names = SenderNames::default();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (sends, replies) = split(&mut batch);
        let started = std::time::Instant::now();
        let outcomes = store_postgres(&db, &sends).await;
        let stored_at = stored_since(&store_time, started);
        if outcomes.is_ok() {
            let missing = names.missing(&sends);
            if !missing.is_empty()
                && let Ok(mut conn) = db.get().await
            {
                // The stored messages must be acknowledged whatever happens here: a failed read leaves names empty.
                let found = users::by_ids(&mut conn, &missing).await.unwrap_or_default();
                names.learn(found.into_iter().map(|user| (user.id, user.display_name)));
            }
        }
        settle(sends, replies, outcomes, &names, &realtime, stored_at);
    }
}

/// SQLite's writer thread: blocks for sends, stores each batch on its own connection, answers and fans out.
fn run_sqlite_writer(mut rx: mpsc::Receiver<Job>, mut conn: SqliteConnection, realtime: Realtime) {
    let store_time = metrics::histogram!("chat_message_batch_store_seconds");
    let mut names = SenderNames::default();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
        let (sends, replies) = split(&mut batch);
        // No one-by-one retry here, unlike PostgreSQL: this thread is the only writer of messages, so no other
        // writer can take a client_id first, and retrying a batch that timed out on another connection's lock
        // would only wait that long again for every send. The sends are answered as unavailable; resends are
        // harmless.
        let started = std::time::Instant::now();
        let outcomes = messages::store_batch_sqlite(&mut conn, &sends);
        let stored_at = stored_since(&store_time, started);
        if outcomes.is_ok() {
            let missing = names.missing(&sends);
            if !missing.is_empty() {
                let found = messages::display_names_sqlite(&mut conn, &missing).unwrap_or_default();
                names.learn(found);
            }
        }
        settle(sends, replies, outcomes, &names, &realtime, stored_at);
    }
}

/// The moment a batch's database call returned, its duration recorded.
fn stored_since(store_time: &metrics::Histogram, started: std::time::Instant) -> std::time::Instant {
    let stored_at = std::time::Instant::now();
    store_time.record(stored_at.duration_since(started).as_secs_f64());
    stored_at
}

fn split(batch: &mut Vec<Job>) -> (Vec<PendingSend>, Vec<ReplyTo>) {
    batch.drain(..).map(|job| (job.send, job.reply)).unzip()
}

/// After the commit: every ack (or REST reply) first, then the fan-out.
fn settle(
    sends: Vec<PendingSend>,
    replies: Vec<ReplyTo>,
    outcomes: Result<Vec<StoreOutcome>, DbError>,
    names: &SenderNames,
    realtime: &Realtime,
    stored_at: std::time::Instant,
) {
    let outcomes = match outcomes {
        Ok(outcomes) => outcomes,
        Err(err) => {
            tracing::warn!(error = %err, sends = sends.len(), "storing messages failed");
            let detail = err.to_string();
            for (send, reply_to) in sends.into_iter().zip(replies) {
                reply(reply_to, send.client_id, Err(ChatError::Db(DbError::Unavailable(detail.clone()))));
            }
            return;
        }
    };
    let mut fan_out = Vec::new();
    for ((send, reply_to), outcome) in sends.into_iter().zip(replies).zip(outcomes) {
        let result = match outcome {
            StoreOutcome::Created { row, version } => {
                let message = views::message(row, names.of(send.sender_id));
                let origin = match &reply_to {
                    ReplyTo::Socket(origin) => Some(origin.socket_id),
                    ReplyTo::Caller(_) => None,
                };
                fan_out.push((message.clone(), version, origin));
                Ok(Sent { message, created: true })
            }
            StoreOutcome::Duplicate(row) => {
                let name = names.of(row.sender_id);
                Ok(Sent { message: views::message(row, name), created: false })
            }
            StoreOutcome::NotMember => Err(ChatError::NotFound),
            StoreOutcome::Blocked { by_sender: true } => Err(ChatError::Refused {
                code: "blocked_by_you",
                message: "You have blocked this user; unblock them first.",
                field: None,
            }),
            StoreOutcome::Blocked { by_sender: false } => {
                Err(ChatError::Refused { code: "forbidden", message: "You can't message this user.", field: None })
            }
            StoreOutcome::AttachmentsUnavailable => Err(ChatError::Refused {
                code: "attachment_unavailable",
                message: "An attachment is not one of your unsent uploads to this conversation.",
                field: Some("attachment_ids"),
            }),
            StoreOutcome::NoSuchReply => Err(ChatError::Validation(crate::domain::ValidationError::new(
                "reply_to_seq",
                "There is no message with that seq in this conversation.",
            ))),
            StoreOutcome::Unavailable(detail) => Err(ChatError::Db(DbError::Unavailable(detail))),
        };
        reply(reply_to, send.client_id, result);
    }
    metrics::counter!("chat_messages_stored_total").increment(fan_out.len() as u64);
    for (message, version, origin) in fan_out {
        let (conversation_id, seq) = (ConversationId(message.conversation_id), Seq(message.seq));
        realtime.message(&ServerFrame::Message { message }, conversation_id, seq, version, origin, stored_at);
    }
}

/// A batch on PostgreSQL: one call when no send carries extras (the usual case); otherwise run by run
/// (`messages::runs`), each send with extras (a reply, mentions, attachments) in a transaction of its own.
async fn store_postgres(db: &DbPool, sends: &[PendingSend]) -> Result<Vec<StoreOutcome>, DbError> {
    let mut conn = db.get().await?;
    if !sends.iter().any(PendingSend::has_extras) {
        return store_plain_postgres(&mut conn, sends).await;
    }
    // Each run in its own transaction: once one has failed, the sends after it are answered as not stored
    // (those before it were, and are answered and fanned out as such).
    let mut outcomes = Vec::with_capacity(sends.len());
    for run in messages::runs(sends) {
        let stored = match run {
            [send] if send.has_extras() => {
                messages::store_with_extras_postgres(&mut conn, send).await.map(|outcome| vec![outcome])
            }
            plain => store_plain_postgres(&mut conn, plain).await,
        };
        match stored {
            Ok(stored) => outcomes.extend(stored),
            Err(err) => {
                tracing::warn!(error = %err, "storing part of a batch failed");
                let detail = err.to_string();
                outcomes.resize_with(sends.len(), || StoreOutcome::Unavailable(detail.clone()));
                break;
            }
        }
    }
    Ok(outcomes)
}

/// Sends without extras in one call. If it fails for a reason other than an unreachable database (a
/// concurrent writer took one of its client_ids first, or two instances' batches deadlocked), the sends are
/// stored one by one: each then touches one conversation and sees the other writer's result.
async fn store_plain_postgres(
    conn: &mut crate::db::DbConn,
    sends: &[PendingSend],
) -> Result<Vec<StoreOutcome>, DbError> {
    match messages::store_batch_postgres(conn, sends).await {
        Err(DbError::Query(e)) if sends.len() > 1 && !is_connection_error(&e) => {
            tracing::debug!(error = %e, "batch failed; storing one by one");
            let mut outcomes = Vec::with_capacity(sends.len());
            for send in sends.chunks(1) {
                outcomes.extend(messages::store_batch_postgres(conn, send).await?);
            }
            Ok(outcomes)
        }
        other => other,
    }
}

fn is_connection_error(err: &diesel::result::Error) -> bool {
    matches!(err, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ClosedConnection, _))
        || matches!(err, diesel::result::Error::BrokenTransactionManager)
}

fn reply(reply_to: ReplyTo, client_id: String, result: ChatResult<Sent>) {
    match reply_to {
        ReplyTo::Caller(tx) => {
            let _ = tx.send(result);
        }
        ReplyTo::Socket(origin) => origin.replies.reply(client_id, result),
    }
}

/// Display names of senders, cached: they are read for every message and (today) never change.
#[derive(Default)]
struct SenderNames {
    cache: HashMap<UserId, String>,
}

impl SenderNames {
    /// Senders of the batch whose names are not known yet.
    fn missing(&mut self, sends: &[PendingSend]) -> Vec<UserId> {
        if self.cache.len() > 100_000 {
            self.cache.clear();
        }
        let mut missing: Vec<UserId> =
            sends.iter().map(|s| s.sender_id).filter(|id| !self.cache.contains_key(id)).collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    fn learn(&mut self, found: impl IntoIterator<Item = (UserId, String)>) {
        self.cache.extend(found);
    }

    fn of(&self, id: UserId) -> String {
        self.cache.get(&id).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_from(sender: i64) -> PendingSend {
        PendingSend {
            conversation_id: ConversationId(1),
            sender_id: UserId(sender),
            client_id: format!("c{sender}"),
            body: "hi".into(),
            attachment_ids: Vec::new(),
            reply_to_seq: None,
            mention_names: Vec::new(),
        }
    }

    #[test]
    fn a_sender_whose_name_is_cached_is_not_looked_up_again() {
        let mut names = SenderNames::default();
        names.learn([(UserId(1), "Ann".to_owned())]);
        assert_eq!(names.missing(&[send_from(1), send_from(2), send_from(2)]), [UserId(2)]);
        assert_eq!(names.of(UserId(1)), "Ann");
    }

    #[test]
    fn a_full_cache_is_emptied_before_the_lookup_so_no_sender_of_the_batch_is_left_without_a_name() {
        let mut names = SenderNames::default();
        names.learn((0..=100_000).map(|id| (UserId(id), format!("user {id}"))));
        assert_eq!(names.missing(&[send_from(5), send_from(7)]), [UserId(5), UserId(7)]);
    }
}
