//! The message writer: sends are queued to a few writer tasks (sharded by conversation, so one conversation's
//! messages are stored and fanned out in seq order), and each task stores whatever has queued up in one
//! transaction. Under load that turns many commits into one without delaying a lone message at all.
//!
//! Order of effects per batch: commit → every ack (or REST reply) → fan-out. So a message is stored before it
//! is acknowledged, and acknowledged before any other socket sees it.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{ChatError, ChatResult, views};
use crate::db::messages::{PendingSend, StoreOutcome, store_batch};
use crate::db::{DbError, DbPool, users};
use crate::domain::{ClientId, MessageBody};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{Message, ServerFrame};
use crate::realtime::Realtime;

/// Most sends stored in one transaction.
const MAX_BATCH: usize = 256;
const QUEUE_PER_SHARD: usize = 8192;

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

/// Resolves once every writer task has stored what was queued and ended (after the last handle is dropped).
pub struct WriterDrained(mpsc::Receiver<()>);

impl WriterDrained {
    pub async fn wait(mut self) {
        while self.0.recv().await.is_some() {}
    }
}

impl MessageWriter {
    pub fn start(db: DbPool, realtime: Realtime, shards: usize) -> (Self, WriterDrained) {
        let (alive, drained) = mpsc::channel(1);
        let shards = (0..shards.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE_PER_SHARD);
                let (db, realtime, alive) = (db.clone(), realtime.clone(), alive.clone());
                tokio::spawn(async move {
                    run_shard(rx, db, realtime).await;
                    drop(alive);
                });
                tx
            })
            .collect();
        (MessageWriter { shards: Arc::new(shards) }, WriterDrained(drained))
    }

    fn shard(&self, conversation_id: ConversationId) -> &mpsc::Sender<Job> {
        &self.shards[conversation_id.get().rem_euclid(self.shards.len() as i64) as usize]
    }

    fn pending(
        sender_id: UserId,
        conversation_id: ConversationId,
        client_id: ClientId,
        body: MessageBody,
    ) -> PendingSend {
        PendingSend { conversation_id, sender_id, client_id: client_id.as_str().to_owned(), body: body.into_string() }
    }

    /// Store a message and wait for the outcome (REST).
    pub async fn send(
        &self,
        sender_id: UserId,
        conversation_id: ConversationId,
        client_id: ClientId,
        body: MessageBody,
    ) -> ChatResult<Sent> {
        let (tx, rx) = oneshot::channel();
        let job = Job { send: Self::pending(sender_id, conversation_id, client_id, body), reply: ReplyTo::Caller(tx) };
        self.shard(conversation_id).send(job).await.map_err(|_| ChatError::ShuttingDown)?;
        rx.await.map_err(|_| ChatError::ShuttingDown)?
    }

    /// Queue a message from a socket; it is answered through the socket's replies once stored.
    pub async fn submit(
        &self,
        origin: SocketOrigin,
        sender_id: UserId,
        conversation_id: ConversationId,
        client_id: ClientId,
        body: MessageBody,
    ) -> ChatResult<()> {
        let job =
            Job { send: Self::pending(sender_id, conversation_id, client_id, body), reply: ReplyTo::Socket(origin) };
        self.shard(conversation_id).send(job).await.map_err(|_| ChatError::ShuttingDown)
    }
}

async fn run_shard(mut rx: mpsc::Receiver<Job>, db: DbPool, realtime: Realtime) {
    let mut names = SenderNames::default();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let sends: Arc<[PendingSend]> = batch.iter().map(|job| job.send.clone()).collect();
        let outcomes = store(&db, &sends).await;
        let stored_at = std::time::Instant::now();
        let mut fan_out = Vec::new();
        match outcomes {
            Ok(outcomes) => {
                let sender_ids: Vec<UserId> = sends.iter().map(|s| s.sender_id).collect();
                let names = names.lookup(&db, &sender_ids).await;
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let result = match outcome {
                        StoreOutcome::Created { row, version } => {
                            let name = name_of(&names, row.sender_id);
                            let message = views::message(row, name);
                            let origin = match &job.reply {
                                ReplyTo::Socket(origin) => Some(origin.socket_id),
                                ReplyTo::Caller(_) => None,
                            };
                            fan_out.push((message.clone(), version, origin));
                            Ok(Sent { message, created: true })
                        }
                        StoreOutcome::Duplicate(row) => {
                            let name = name_of(&names, row.sender_id);
                            Ok(Sent { message: views::message(row, name), created: false })
                        }
                        StoreOutcome::NotMember => Err(ChatError::NotFound),
                        StoreOutcome::Blocked { by_sender: true } => Err(ChatError::Refused {
                            code: "blocked_by_you",
                            message: "You have blocked this user; unblock them first.",
                            field: None,
                        }),
                        StoreOutcome::Blocked { by_sender: false } => Err(ChatError::Refused {
                            code: "forbidden",
                            message: "You can't message this user.",
                            field: None,
                        }),
                    };
                    reply(job, result);
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, sends = batch.len(), "storing messages failed");
                let detail = err.to_string();
                for job in batch.drain(..) {
                    reply(job, Err(ChatError::Db(DbError::Unavailable(detail.clone()))));
                }
            }
        }
        metrics::counter!("chat_messages_stored_total").increment(fan_out.len() as u64);
        for (message, version, origin) in fan_out {
            let (conversation_id, seq) = (ConversationId(message.conversation_id), Seq(message.seq));
            realtime.message(&ServerFrame::Message { message }, conversation_id, seq, version, origin, stored_at);
        }
    }
}

/// One transaction for the batch. If it fails for a reason other than an unreachable database (a concurrent
/// writer took one of its client_ids first, or two instances' batches deadlocked), the sends are stored one
/// by one: each then touches one conversation and sees the other writer's result.
async fn store(db: &DbPool, sends: &Arc<[PendingSend]>) -> Result<Vec<StoreOutcome>, DbError> {
    let mut conn = db.get().await?;
    match store_batch(&mut conn, sends).await {
        Err(DbError::Query(e)) if sends.len() > 1 && !is_connection_error(&e) => {
            tracing::debug!(error = %e, "batch failed; storing one by one");
            let mut outcomes = Vec::with_capacity(sends.len());
            for send in sends.iter() {
                outcomes.extend(store_batch(&mut conn, &Arc::from([send.clone()])).await?);
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

fn reply(job: Job, result: ChatResult<Sent>) {
    match job.reply {
        ReplyTo::Caller(tx) => {
            let _ = tx.send(result);
        }
        ReplyTo::Socket(origin) => origin.replies.reply(job.send.client_id, result),
    }
}

fn name_of(names: &HashMap<UserId, String>, id: UserId) -> String {
    names.get(&id).cloned().unwrap_or_default()
}

/// Display names of senders, cached: they are read for every message and (today) never change.
#[derive(Default)]
struct SenderNames {
    cache: HashMap<UserId, String>,
}

impl SenderNames {
    /// The stored messages must be acknowledged whatever happens here, so a failed read leaves names empty.
    async fn lookup(&mut self, db: &DbPool, ids: &[UserId]) -> HashMap<UserId, String> {
        let missing: Vec<UserId> = ids.iter().copied().filter(|id| !self.cache.contains_key(id)).collect();
        if !missing.is_empty() {
            if self.cache.len() > 100_000 {
                self.cache.clear();
            }
            if let Ok(mut conn) = db.get().await {
                for user in users::by_ids(&mut conn, &missing).await.unwrap_or_default() {
                    self.cache.insert(user.id, user.display_name);
                }
            }
        }
        ids.iter().filter_map(|id| self.cache.get(id).map(|n| (*id, n.clone()))).collect()
    }
}
