//! Read and delivered receipts: a member's own positions move forward, and the other members hear of it (as
//! sheddable receipts: a late one is superseded by the next). Delivered receipts are written in windows.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{ChatError, ChatResult};
use crate::db::receipts::{self, Delivered};
use crate::db::{DbConn, DbPool};
use crate::domain::ValidationError;
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{ReadState, ServerFrame};
use crate::realtime::{Delivery, Realtime};

/// Move the read position forward; tells the reader's sockets the unread count and the others the receipt —
/// only when the position moved, so repeating a `read` costs the other members nothing.
pub async fn mark_read(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    up_to_seq: Seq,
) -> ChatResult<ReadState> {
    if up_to_seq.get() < 0 {
        return Err(ValidationError::new("up_to_seq", "up_to_seq must not be negative.").into());
    }
    let read = receipts::mark_read(conn, id, me, up_to_seq).await?.ok_or(ChatError::NotFound)?;
    let state = ReadState {
        last_read_seq: read.position.get(),
        unread_count: (read.last_seq - read.position).max(0),
        mention_count: crate::db::mentions::unread_count(conn, me, id).await?,
    };
    if read.moved {
        let frame = ServerFrame::Unread {
            conversation_id: id.get(),
            unread_count: state.unread_count,
            mention_count: state.mention_count,
        };
        realtime.to_users(vec![me], &frame, Delivery::Reliable);
        realtime.to_conversation(
            id,
            read.version,
            &ServerFrame::Read { conversation_id: id.get(), user_id: me.get(), up_to_seq: read.position.get() },
            Delivery::Receipt { conversation_id: id, user_id: me },
            None,
            vec![me],
        );
    }
    Ok(state)
}

/// How long delivered receipts gather before they are written together. A `delivered` follows every batch of
/// messages a client receives, from every member: written one by one they took SQLite's write lock as often as
/// messages times members (README, "Benchmarks"), and a tick 250 ms late is not noticed.
pub const DELIVERED_WINDOW: Duration = Duration::from_millis(250);
/// Receipts waiting for their window on this instance; beyond it they are dropped (a tick is advisory, and the
/// member's next `delivered` or `read` carries the position anyway).
const DELIVERED_QUEUE: usize = 8192;

/// The instance's writer of delivered receipts: each window's receipts, the highest per member, in one
/// transaction; the other members hear of the positions that moved.
#[derive(Clone)]
pub struct DeliveredReceipts {
    queue: mpsc::Sender<Delivered>,
}

impl DeliveredReceipts {
    /// Starts the writing task; it ends when the last handle is dropped.
    pub fn start(db: DbPool, realtime: Realtime) -> Self {
        let (queue, waiting) = mpsc::channel(DELIVERED_QUEUE);
        tokio::spawn(write_windows(waiting, db, realtime));
        Self { queue }
    }

    /// A member's clients have received the conversation up to `up_to_seq`. Refused for a negative seq or a
    /// conversation that is not the caller's; queued only when it would move the position (checked with a read,
    /// so repeated and stale receipts cost no write lock).
    pub async fn note(&self, conn: &mut DbConn, me: UserId, id: ConversationId, up_to_seq: Seq) -> ChatResult<()> {
        if up_to_seq.get() < 0 {
            return Err(ValidationError::new("up_to_seq", "up_to_seq must not be negative.").into());
        }
        let position = receipts::delivered_position(conn, id, me).await?.ok_or(ChatError::NotFound)?;
        if up_to_seq > position {
            let _ = self.queue.try_send(Delivered { conversation_id: id, user_id: me, up_to_seq });
        }
        Ok(())
    }
}

async fn write_windows(mut waiting: mpsc::Receiver<Delivered>, db: DbPool, realtime: Realtime) {
    while let Some(first) = waiting.recv().await {
        tokio::time::sleep(DELIVERED_WINDOW).await;
        let mut highest: HashMap<(ConversationId, UserId), Seq> = HashMap::new();
        let mut gather = |receipt: Delivered| {
            let seq = highest.entry((receipt.conversation_id, receipt.user_id)).or_insert(receipt.up_to_seq);
            *seq = (*seq).max(receipt.up_to_seq);
        };
        gather(first);
        while let Ok(next) = waiting.try_recv() {
            gather(next);
        }
        let window: Vec<Delivered> = highest
            .into_iter()
            .map(|((conversation_id, user_id), up_to_seq)| Delivered { conversation_id, user_id, up_to_seq })
            .collect();
        let moves = match db.get().await {
            Ok(mut conn) => receipts::mark_delivered(&mut conn, &window).await,
            Err(err) => Err(err),
        };
        match moves {
            Ok(moves) => {
                for moved in moves {
                    let frame = ServerFrame::Delivered {
                        conversation_id: moved.conversation_id.get(),
                        user_id: moved.user_id.get(),
                        up_to_seq: moved.position.get(),
                    };
                    realtime.to_conversation(
                        moved.conversation_id,
                        moved.version,
                        &frame,
                        // Not a `Receipt`: that would replace a queued read receipt of the same member, which says
                        // more.
                        Delivery::Ephemeral,
                        None,
                        vec![moved.user_id],
                    );
                }
            }
            Err(err) => tracing::warn!(error = %err, receipts = window.len(), "delivered receipts not stored"),
        }
    }
}
