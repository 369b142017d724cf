//! A stored message changing: an edit (its mentions re-resolved) and a deletion (a tombstone). Each keeps in step,
//! in its own transaction, what hangs off the message: the previews of the replies quoting it, its mention rows,
//! and on deletion its reactions, pin and attachments.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::extras::{mentions_column, preview};
use crate::db::attachments::Removed;
use crate::db::locks::RowLocks;
use crate::db::models::MessageRow;
use crate::db::schema::{attachments, mentions, messages, pins, reactions, users};
use crate::db::{DbConn, DbError, DbResult};
use crate::ids::UserId;

/// Edit `original`'s body, as its sender, who must still be a member (their membership row is locked first, so a
/// concurrent removal either waits or is seen). False when they are not.
pub async fn edit(conn: &mut DbConn, original: &MessageRow, body: &str, mention_names: &[String]) -> DbResult<bool> {
    let (id, conversation_id, seq, author) = (original.id, original.conversation_id, original.seq, original.sender_id);
    let now = crate::db::now();
    crate::write_transaction!(conn, |c| {
        if c.lock_membership(conversation_id, author).await?.is_none() {
            return Ok(false);
        }
        diesel::delete(
            mentions::table.filter(mentions::conversation_id.eq(conversation_id)).filter(mentions::seq.eq(seq)),
        )
        .execute(c)
        .await?;
        let mentioned: Vec<UserId> = if mention_names.is_empty() {
            Vec::new()
        } else {
            crate::mentioned_members!(mention_names, conversation_id, author).load(c).await?
        };
        for id in &mentioned {
            diesel::insert_into(mentions::table)
                .values((
                    mentions::user_id.eq(*id),
                    mentions::conversation_id.eq(conversation_id),
                    mentions::seq.eq(seq),
                ))
                .execute(c)
                .await?;
        }
        let edited: MessageRow = diesel::update(messages::table.find(id))
            .set((
                messages::body.eq(body),
                messages::edited_at.eq(now),
                messages::mentions.eq(mentions_column(&mentioned)),
            ))
            .returning(MessageRow::as_returning())
            .get_result(c)
            .await?;
        let name: String = users::table.find(author).select(users::display_name).first(c).await?;
        diesel::update(
            messages::table
                .filter(messages::conversation_id.eq(conversation_id))
                .filter(messages::reply_to_seq.eq(seq)),
        )
        .set(messages::reply_preview.eq(preview(&edited, &name)))
        .execute(c)
        .await?;
        Ok::<_, DbError>(true)
    })
}

/// What a deletion took with it.
#[derive(Debug, Default)]
pub struct Tombstoned {
    /// Attachments no one can read any more; their objects are the caller's to delete.
    pub removed: Vec<Removed>,
    /// It was pinned (and is not any more).
    pub unpinned: bool,
}

/// Leaves a tombstone: the seq stays (no gap); the body, attachments, mentions, reactions and pin go, and replies
/// quoting it say it was deleted, all in one transaction.
pub async fn tombstone(conn: &mut DbConn, original: &MessageRow) -> DbResult<Tombstoned> {
    let (id, conversation_id, seq) = (original.id, original.conversation_id, original.seq);
    let now = crate::db::now();
    crate::write_transaction!(conn, |c| {
        let gone: MessageRow = diesel::update(messages::table.find(id))
            .set((
                messages::body.eq(""),
                messages::attachments.eq(None::<String>),
                messages::mentions.eq(None::<String>),
                messages::deleted_at.eq(now),
            ))
            .returning(MessageRow::as_returning())
            .get_result(c)
            .await?;
        let removed: Vec<Removed> = diesel::update(
            attachments::table.filter(attachments::message_id.eq(id)).filter(attachments::deleted_at.is_null()),
        )
        .set(attachments::deleted_at.eq(now))
        .returning((attachments::public_id, attachments::thumbnail_type))
        .get_results(c)
        .await?;
        diesel::delete(
            mentions::table.filter(mentions::conversation_id.eq(conversation_id)).filter(mentions::seq.eq(seq)),
        )
        .execute(c)
        .await?;
        diesel::delete(
            reactions::table.filter(reactions::conversation_id.eq(conversation_id)).filter(reactions::seq.eq(seq)),
        )
        .execute(c)
        .await?;
        let unpinned =
            diesel::delete(pins::table.filter(pins::conversation_id.eq(conversation_id)).filter(pins::seq.eq(seq)))
                .execute(c)
                .await?
                > 0;
        let name: String = users::table.find(gone.sender_id).select(users::display_name).first(c).await?;
        diesel::update(
            messages::table
                .filter(messages::conversation_id.eq(conversation_id))
                .filter(messages::reply_to_seq.eq(seq)),
        )
        .set(messages::reply_preview.eq(preview(&gone, &name)))
        .execute(c)
        .await?;
        Ok::<_, DbError>(Tombstoned { removed, unpinned })
    })
}
