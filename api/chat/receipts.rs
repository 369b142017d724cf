//! Read and delivered receipts: a member's own positions move forward, and the other members hear of it (as
//! sheddable receipts: a late one is superseded by the next).

use super::{ChatError, ChatResult};
use crate::db::{DbConn, receipts};
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

/// Move the delivered position forward (a member's clients have received the conversation up to `up_to_seq`);
/// the other members hear of it only when it moved, so a repeated or stale `delivered` costs them nothing.
/// Answers the position after it.
pub async fn mark_delivered(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    up_to_seq: Seq,
) -> ChatResult<Seq> {
    if up_to_seq.get() < 0 {
        return Err(ValidationError::new("up_to_seq", "up_to_seq must not be negative.").into());
    }
    let delivered = receipts::mark_delivered(conn, id, me, up_to_seq).await?.ok_or(ChatError::NotFound)?;
    if delivered.moved {
        let frame = ServerFrame::Delivered {
            conversation_id: id.get(),
            user_id: me.get(),
            up_to_seq: delivered.position.get(),
        };
        realtime.to_conversation(
            id,
            delivered.version,
            &frame,
            // Not a `Receipt`: that would replace a queued read receipt of the same member, which says more.
            Delivery::Ephemeral,
            None,
            vec![me],
        );
    }
    Ok(delivered.position)
}
