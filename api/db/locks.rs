//! The row locks that make a member's change to a conversation safe against a concurrent removal, demotion or
//! deletion: the member's row first, then the message's, always in that order (so two changes cannot deadlock).
//!
//! PostgreSQL takes them with `SELECT … FOR NO KEY UPDATE`: the lock an `UPDATE` of the row would take (a
//! removal's `DELETE` waits for it), without writing a new row version. SQLite has no row locks and needs none: a writing
//! transaction there is `BEGIN IMMEDIATE` (see [`crate::write_transaction!`]), which holds the database's one
//! write lock from its first statement, so the plain read is already serialised against every other writer.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::SqliteConn;
use super::schema::{memberships, messages};
use crate::ids::{ConversationId, Seq, UserId};

pub(crate) trait RowLocks {
    /// Lock `user_id`'s membership of the conversation; their role, or `None` when they are not a member.
    async fn lock_membership(
        &mut self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> QueryResult<Option<String>>;

    /// Lock the message at `seq`; `None` when there is none (or it is a timeline event), else when it was deleted
    /// (if it was).
    async fn lock_message(
        &mut self,
        conversation_id: ConversationId,
        seq: Seq,
    ) -> QueryResult<Option<Option<NaiveDateTime>>>;
}

/// The member's role, as a query each backend locks in its own way.
#[diesel::dsl::auto_type]
fn role_of(conversation_id: ConversationId, user_id: UserId) -> _ {
    memberships::table.find((conversation_id, user_id)).select(memberships::role)
}

/// When the message was deleted (if it was), as a query each backend locks in its own way.
#[diesel::dsl::auto_type]
fn deletion_of(conversation_id: ConversationId, seq: Seq) -> _ {
    messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::seq.eq(seq))
        // Timeline events are not messages: nobody reacts to or pins them.
        .filter(messages::event.is_null())
        .select(messages::deleted_at)
}

impl RowLocks for AsyncPgConnection {
    async fn lock_membership(
        &mut self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> QueryResult<Option<String>> {
        role_of(conversation_id, user_id).for_no_key_update().first(self).await.optional()
    }

    async fn lock_message(
        &mut self,
        conversation_id: ConversationId,
        seq: Seq,
    ) -> QueryResult<Option<Option<NaiveDateTime>>> {
        deletion_of(conversation_id, seq).for_no_key_update().first(self).await.optional()
    }
}

impl RowLocks for SqliteConn {
    async fn lock_membership(
        &mut self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> QueryResult<Option<String>> {
        role_of(conversation_id, user_id).first(self).await.optional()
    }

    async fn lock_message(
        &mut self,
        conversation_id: ConversationId,
        seq: Seq,
    ) -> QueryResult<Option<Option<NaiveDateTime>>> {
        deletion_of(conversation_id, seq).first(self).await.optional()
    }
}
