//! Queries on pins: pinning and unpinning under the pinner's membership lock (so a demotion or removal cannot
//! race it), and a conversation's pinned messages.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::locks::RowLocks;
use super::messages::MessageWithSender;
use super::models::MessageRow;
use super::schema::{conversations, messages, pins, users};
use super::{DbConn, DbError, DbResult};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{ConversationKind, Role};
use crate::with_conn;

#[derive(Debug)]
pub enum PinOutcome {
    /// Not a member, or (pinning) no such message.
    NotFound,
    /// The member's role may not pin here.
    Forbidden,
    Deleted,
    TooMany,
    Done {
        /// False when nothing changed (pinning twice, unpinning what is not pinned).
        changed: bool,
        version: i64,
    },
}

/// Pin (`on`) or unpin a message; `may` rules on the kind of conversation and the member's role as they stand
/// under the lock.
pub async fn set(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    seq: Seq,
    user_id: UserId,
    on: bool,
    max_pins: i64,
    may: impl FnOnce(ConversationKind, Role) -> bool + Send,
) -> DbResult<PinOutcome> {
    let now = super::now();
    crate::write_transaction!(conn, |c| {
        let role = c.lock_membership(conversation_id, user_id).await?;
        let Some(role) = role.and_then(|r| Role::from_name(&r)) else { return Ok(PinOutcome::NotFound) };
        let (kind, version): (String, i64) = conversations::table
            .find(conversation_id)
            .select((conversations::kind, conversations::version))
            .first(c)
            .await?;
        let kind = if kind == "direct" { ConversationKind::Direct } else { ConversationKind::Group };
        if !may(kind, role) {
            return Ok(PinOutcome::Forbidden);
        }
        let here = || pins::table.filter(pins::conversation_id.eq(conversation_id));
        if !on {
            let changed = diesel::delete(here().filter(pins::seq.eq(seq))).execute(c).await? == 1;
            return Ok(PinOutcome::Done { changed, version });
        }
        // The message's row lock: its deletion (which unpins) cannot pass between this check and the insert.
        let deleted_at = c.lock_message(conversation_id, seq).await?;
        match deleted_at {
            None => return Ok(PinOutcome::NotFound),
            Some(Some(_)) => return Ok(PinOutcome::Deleted),
            Some(None) => {}
        }
        let already: i64 = here().filter(pins::seq.eq(seq)).count().get_result(c).await?;
        if already > 0 {
            return Ok(PinOutcome::Done { changed: false, version });
        }
        if here().count().get_result::<i64>(c).await? >= max_pins {
            return Ok(PinOutcome::TooMany);
        }
        diesel::insert_into(pins::table)
            .values((
                pins::conversation_id.eq(conversation_id),
                pins::seq.eq(seq),
                pins::pinned_by.eq(user_id),
                pins::pinned_at.eq(now),
            ))
            .execute(c)
            .await?;
        Ok::<_, DbError>(PinOutcome::Done { changed: true, version })
    })
}

/// A pin with its message and the message's sender's name.
pub type PinRow = (UserId, NaiveDateTime, MessageWithSender);

/// The conversation's pins (one, when `seq` is given), newest first.
pub async fn list(conn: &mut DbConn, conversation_id: ConversationId, seq: Option<Seq>) -> DbResult<Vec<PinRow>> {
    let rows: Vec<(UserId, NaiveDateTime, MessageRow, String)> = with_conn!(conn, |c| {
        let query = pins::table
            .inner_join(
                messages::table
                    .on(messages::conversation_id.eq(pins::conversation_id).and(messages::seq.eq(pins::seq))),
            )
            .inner_join(users::table.on(users::id.eq(messages::sender_id)))
            .filter(pins::conversation_id.eq(conversation_id))
            .select((pins::pinned_by, pins::pinned_at, MessageRow::as_select(), users::display_name))
            .order((pins::pinned_at.desc(), pins::seq.desc()));
        match seq {
            Some(seq) => query.filter(pins::seq.eq(seq)).load(c).await,
            None => query.load(c).await,
        }
    })?;
    Ok(rows.into_iter().map(|(by, at, row, name)| (by, at, (row, name))).collect())
}
