//! Timeline events in a conversation's seq stream, appended inside the transaction of the change they record
//! (which holds the conversation's lock: its row's on PostgreSQL, the database's write lock on SQLite), so the
//! event and the change commit together and the seq is handed out as gaplessly as a message's.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::SqliteConn;
use super::models::MessageRow;
use super::schema::{conversations, memberships, messages, users};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::TimelineEvent;

pub(crate) trait Timeline {
    /// Store `event` by `actor` as the conversation's next seq; the actor has read up to it.
    async fn append_event(
        &mut self,
        conversation_id: ConversationId,
        actor: UserId,
        event: &TimelineEvent,
        now: NaiveDateTime,
    ) -> QueryResult<MessageRow>;

    /// The name an event records for a user.
    async fn display_name(&mut self, user_id: UserId) -> QueryResult<String>;

    /// A member who just joined has read what came before the event that added them: the event is their one
    /// unread entry, not the group's whole history.
    async fn read_before(&mut self, conversation_id: ConversationId, user_id: UserId, seq: Seq) -> QueryResult<()>;
}

// One body for both connection types: the queries are the same, only the connection's type differs.
macro_rules! timeline_for {
    ($conn:ty) => {
        impl Timeline for $conn {
            async fn append_event(
                &mut self,
                conversation_id: ConversationId,
                actor: UserId,
                event: &TimelineEvent,
                now: NaiveDateTime,
            ) -> QueryResult<MessageRow> {
                let seq: Seq = diesel::update(conversations::table.find(conversation_id))
                    .set((
                        conversations::last_seq.eq(conversations::last_seq + 1),
                        conversations::last_message_at.eq(now),
                    ))
                    .returning(conversations::last_seq)
                    .get_result(self)
                    .await?;
                let row = diesel::insert_into(messages::table)
                    .values((
                        messages::conversation_id.eq(conversation_id),
                        messages::seq.eq(seq),
                        messages::sender_id.eq(actor),
                        messages::body.eq(""),
                        messages::client_id.eq(TimelineEvent::client_id(seq.get())),
                        messages::created_at.eq(now),
                        messages::event.eq(Some(event.to_column())),
                    ))
                    .returning(MessageRow::as_returning())
                    .get_result(self)
                    .await?;
                diesel::update(memberships::table.find((conversation_id, actor)))
                    .filter(memberships::last_read_seq.lt(seq))
                    .set(memberships::last_read_seq.eq(seq))
                    .execute(self)
                    .await?;
                Ok(row)
            }

            async fn display_name(&mut self, user_id: UserId) -> QueryResult<String> {
                users::table.find(user_id).select(users::display_name).first(self).await
            }

            async fn read_before(
                &mut self,
                conversation_id: ConversationId,
                user_id: UserId,
                seq: Seq,
            ) -> QueryResult<()> {
                diesel::update(memberships::table.find((conversation_id, user_id)))
                    .set(memberships::last_read_seq.eq(Seq(seq.get() - 1)))
                    .execute(self)
                    .await?;
                Ok(())
            }
        }
    };
}

timeline_for!(AsyncPgConnection);
timeline_for!(SqliteConn);
