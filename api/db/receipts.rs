//! Receipts: how far each member has read, and how far their clients have received ("delivered"). Both only
//! move forward, never past the conversation's last seq, and only a member's own position moves.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{conversations, memberships};
use super::{DbConn, DbError, DbResult};
use crate::ids::{ConversationId, Seq, UserId};

/// Where a read or delivered position stands after a `read` or `delivered`.
#[derive(Debug, Clone, Copy)]
pub struct ReadMove {
    /// The position moved forward (only then is it news for the other members).
    pub moved: bool,
    /// Where the position stands after the call.
    pub position: Seq,
    pub last_seq: Seq,
    pub version: i64,
}

/// Move the read position forward (never back, never past the last message). None when the user is not a member.
pub async fn mark_read(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    user_id: UserId,
    up_to_seq: Seq,
) -> DbResult<Option<ReadMove>> {
    crate::write_transaction!(conn, |c| {
        let Some((last_seq, version)) = conversations::table
            .find(conversation_id)
            .select((conversations::last_seq, conversations::version))
            .first::<(Seq, i64)>(c)
            .await
            .optional()?
        else {
            return Ok(None);
        };
        let target = up_to_seq.min(last_seq);
        let moved = diesel::update(
            memberships::table.find((conversation_id, user_id)).filter(memberships::last_read_seq.lt(target)),
        )
        .set(memberships::last_read_seq.eq(target))
        .execute(c)
        .await?
            == 1;
        let last_read: Option<Seq> = memberships::table
            .find((conversation_id, user_id))
            .select(memberships::last_read_seq)
            .first(c)
            .await
            .optional()?;
        Ok::<_, DbError>(last_read.map(|last_read_seq| ReadMove { moved, position: last_read_seq, last_seq, version }))
    })
}

/// A member's delivered position (it never stands behind the read one, which implies it); None when the user is
/// not a member. A read: deciding that a `delivered` changes nothing takes no write lock.
pub async fn delivered_position(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    user_id: UserId,
) -> DbResult<Option<Seq>> {
    let position: Option<(Seq, Seq)> = crate::with_conn!(conn, |c| memberships::table
        .find((conversation_id, user_id))
        .select((memberships::last_delivered_seq, memberships::last_read_seq))
        .first(c)
        .await
        .optional())?;
    Ok(position.map(|(delivered, read)| delivered.max(read)))
}

/// A delivered position to move: the member and how far their clients have received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delivered {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub up_to_seq: Seq,
}

/// A delivered position that moved, and the conversation's membership version the news is published under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveredMove {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub position: Seq,
    pub version: i64,
}

/// Move delivered positions forward (never back, never past the last message, and never while it would stay at
/// or behind the read position, which implies it), all in one transaction: one write lock for many receipts.
/// Answers the positions that moved; a non-member's (removed meanwhile) moves nothing.
pub async fn mark_delivered(conn: &mut DbConn, receipts: &[Delivered]) -> DbResult<Vec<DeliveredMove>> {
    crate::write_transaction!(conn, |c| {
        let mut moves = Vec::new();
        for receipt in receipts {
            let Some((last_seq, version)) = conversations::table
                .find(receipt.conversation_id)
                .select((conversations::last_seq, conversations::version))
                .first::<(Seq, i64)>(c)
                .await
                .optional()?
            else {
                continue;
            };
            let target = receipt.up_to_seq.min(last_seq);
            let moved = diesel::update(
                memberships::table
                    .find((receipt.conversation_id, receipt.user_id))
                    .filter(memberships::last_delivered_seq.lt(target))
                    .filter(memberships::last_read_seq.lt(target)),
            )
            .set(memberships::last_delivered_seq.eq(target))
            .execute(c)
            .await?
                == 1;
            if moved {
                moves.push(DeliveredMove {
                    conversation_id: receipt.conversation_id,
                    user_id: receipt.user_id,
                    position: target,
                    version,
                });
            }
        }
        Ok::<_, DbError>(moves)
    })
}
