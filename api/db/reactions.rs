//! Queries on reactions: a member's change to one message's reactions, decided under locks so that it cannot
//! race a removal from the conversation or the message's deletion, and the reactions of a page of messages.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::locks::RowLocks;
use super::schema::{conversations, reactions};
use super::{DbConn, DbError, DbResult};
use crate::ids::{ConversationId, Seq, UserId};
use crate::with_conn;

/// One reaction as stored: on which message, which emoji, by whom; in the order they were made.
pub type ReactionRow = (Seq, String, UserId);

#[derive(Debug)]
pub enum ReactOutcome {
    /// Not a member, or no such message.
    NotFound,
    Deleted,
    /// Adding a new emoji would pass the cap of distinct emojis on the message.
    TooMany,
    Done {
        /// False when it changed nothing (adding twice, taking back what was never added).
        changed: bool,
        /// The conversation's membership version, which routes the event.
        version: i64,
        /// The message's reactions after the change.
        reactions: Vec<ReactionRow>,
    },
}

/// Add (`on`) or take back `user_id`'s `emoji` on a message. The member's row is locked first (a concurrent
/// removal waits for this transaction, or has already happened and is seen), then the message's (a concurrent
/// deletion or another reaction waits), so the cap and both checks hold at the commit.
pub async fn set(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    seq: Seq,
    user_id: UserId,
    emoji: &str,
    on: bool,
    max_distinct: usize,
) -> DbResult<ReactOutcome> {
    let now = super::now();
    crate::write_transaction!(conn, |c| {
        if c.lock_membership(conversation_id, user_id).await?.is_none() {
            return Ok(ReactOutcome::NotFound);
        }
        let message = c.lock_message(conversation_id, seq).await?;
        match message {
            None => return Ok(ReactOutcome::NotFound),
            Some(Some(_)) => return Ok(ReactOutcome::Deleted),
            Some(None) => {}
        }
        let of_message =
            || reactions::table.filter(reactions::conversation_id.eq(conversation_id)).filter(reactions::seq.eq(seq));
        let changed = if on {
            let present: Vec<String> = of_message().select(reactions::emoji).distinct().load(c).await?;
            if !present.iter().any(|e| e == emoji) && present.len() >= max_distinct {
                return Ok(ReactOutcome::TooMany);
            }
            diesel::insert_into(reactions::table)
                .values((
                    reactions::conversation_id.eq(conversation_id),
                    reactions::seq.eq(seq),
                    reactions::emoji.eq(emoji),
                    reactions::user_id.eq(user_id),
                    reactions::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?
                == 1
        } else {
            diesel::delete(of_message().filter(reactions::emoji.eq(emoji)).filter(reactions::user_id.eq(user_id)))
                .execute(c)
                .await?
                == 1
        };
        let version: i64 = conversations::table.find(conversation_id).select(conversations::version).first(c).await?;
        let reactions: Vec<ReactionRow> = of_message()
            .select((reactions::seq, reactions::emoji, reactions::user_id))
            .order((reactions::created_at.asc(), reactions::user_id.asc()))
            .load(c)
            .await?;
        Ok::<_, DbError>(ReactOutcome::Done { changed, version, reactions })
    })
}

/// The reactions on the given messages of one conversation, in the order they were made.
pub async fn of_messages(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    seqs: &[Seq],
) -> DbResult<Vec<ReactionRow>> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(with_conn!(conn, |c| reactions::table
        .filter(reactions::conversation_id.eq(conversation_id))
        .filter(reactions::seq.eq_any(seqs))
        .select((reactions::seq, reactions::emoji, reactions::user_id))
        .order((reactions::created_at.asc(), reactions::user_id.asc()))
        .load(c)
        .await)?)
}
