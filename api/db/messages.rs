//! Queries on messages: history pages, edits, tombstones, and the batched insert that numbers each
//! conversation's messages without gaps.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{MessageRow, NewMessage};
use super::schema::{conversations, messages, users};
use super::{DbConn, DbResult};
use crate::domain::{Page, PageCursor};
use crate::ids::{ConversationId, Seq, UserId};
use crate::with_conn;

/// A message with its sender's display name, as every reader wants it.
pub type MessageWithSender = (MessageRow, String);

/// One page of history, ascending by seq.
pub struct PageRows {
    pub rows: Vec<MessageWithSender>,
    /// More lie beyond the page in the direction asked (older ones for an `Around` page).
    pub has_more: bool,
    /// Known for an `Around` page only: newer messages lie beyond it.
    pub has_newer: Option<bool>,
}

pub async fn page(conn: &mut DbConn, conversation_id: ConversationId, page: Page) -> DbResult<PageRows> {
    if let PageCursor::Around(seq) = page.cursor {
        // Up to a full page each way, then the window: half before the seq, the rest from it on, and whichever
        // side runs short leaves its room to the other (a message near either end still gets a full page).
        let (older, older_more) =
            one_way(conn, conversation_id, Page { cursor: PageCursor::Before(seq), ..page }).await?;
        let (newer, newer_more) =
            one_way(conn, conversation_id, Page { cursor: PageCursor::After(seq - 1), ..page }).await?;
        let limit = page.limit as usize;
        let take_newer = newer.len().min(limit - older.len().min(limit / 2));
        let take_older = older.len().min(limit - take_newer);
        let has_more = older_more || take_older < older.len();
        let has_newer = newer_more || take_newer < newer.len();
        let mut rows: Vec<MessageWithSender> = older.into_iter().rev().take(take_older).collect();
        rows.reverse();
        rows.extend(newer.into_iter().take(take_newer));
        return Ok(PageRows { rows, has_more, has_newer: Some(has_newer) });
    }
    let (rows, has_more) = one_way(conn, conversation_id, page).await?;
    Ok(PageRows { rows, has_more, has_newer: None })
}

/// A page in one direction from its cursor, ascending by seq, and whether more lie beyond it that way.
async fn one_way(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    page: Page,
) -> DbResult<(Vec<MessageWithSender>, bool)> {
    let fetch = page.limit + 1;
    // The query is spelled inside `with_conn!` so that each backend gets its own typed select.
    let mut rows: Vec<MessageWithSender> = with_conn!(conn, |c| {
        let base = messages::table
            .inner_join(users::table)
            .filter(messages::conversation_id.eq(conversation_id))
            .select((MessageRow::as_select(), users::display_name))
            .limit(fetch);
        match page.cursor {
            PageCursor::Latest => base.order(messages::seq.desc()).load(c).await,
            PageCursor::Before(seq) => base.filter(messages::seq.lt(seq)).order(messages::seq.desc()).load(c).await,
            PageCursor::After(seq) | PageCursor::Around(seq) => {
                base.filter(messages::seq.gt(seq)).order(messages::seq.asc()).load(c).await
            }
        }
    })?;
    let has_more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    if matches!(page.cursor, PageCursor::Latest | PageCursor::Before(_)) {
        rows.reverse();
    }
    Ok((rows, has_more))
}

pub async fn by_seq(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    seq: Seq,
) -> DbResult<Option<MessageWithSender>> {
    Ok(with_conn!(conn, |c| messages::table
        .inner_join(users::table)
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::seq.eq(seq))
        .select((MessageRow::as_select(), users::display_name))
        .first(c)
        .await
        .optional())?)
}

/// The newest message of each of the given conversations.
pub async fn latest_of(conn: &mut DbConn, conversation_ids: &[ConversationId]) -> DbResult<Vec<MessageWithSender>> {
    Ok(with_conn!(conn, |c| messages::table
        .inner_join(
            conversations::table
                .on(conversations::id.eq(messages::conversation_id).and(conversations::last_seq.eq(messages::seq))),
        )
        .inner_join(users::table.on(users::id.eq(messages::sender_id)))
        .filter(messages::conversation_id.eq_any(conversation_ids))
        .select((MessageRow::as_select(), users::display_name))
        .load(c)
        .await)?)
}

/// A send waiting to be stored.
#[derive(Debug, Clone)]
pub struct PendingSend {
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub client_id: String,
    pub body: String,
    /// Uploads to claim for the message (public ids).
    pub attachment_ids: Vec<String>,
    /// The message of the conversation this one answers.
    pub reply_to_seq: Option<Seq>,
    /// Usernames the body mentions, resolved to members when stored.
    pub mention_names: Vec<String>,
}

impl PendingSend {
    /// A send with more than a body is stored in a transaction of its own (`extras`).
    pub fn has_extras(&self) -> bool {
        !self.attachment_ids.is_empty() || self.reply_to_seq.is_some() || !self.mention_names.is_empty()
    }
}

#[derive(Debug, Clone)]
pub enum StoreOutcome {
    /// Stored now with the next seq, under the conversation's membership `version`.
    Created { row: MessageRow, version: i64 },
    /// The sender stored this client_id in this conversation before: the original.
    Duplicate(MessageRow),
    /// The conversation does not exist or the sender is not a member.
    NotMember,
    /// A direct chat where one of the two has blocked the other (`by_sender`: the sender did).
    Blocked { by_sender: bool },
    /// An upload the send named cannot be claimed: nothing was stored.
    AttachmentsUnavailable,
    /// The seq the send answers is no message of the conversation: nothing was stored.
    NoSuchReply,
    /// Not stored: the database failed before this send's turn.
    Unavailable(String),
}

/// Why a send with extras was rolled back.
pub enum ClaimError {
    Unavailable,
    NoSuchReply,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for ClaimError {
    fn from(err: diesel::result::Error) -> Self {
        ClaimError::Db(err)
    }
}

impl ClaimError {
    fn settle(result: Result<StoreOutcome, ClaimError>) -> DbResult<StoreOutcome> {
        match result {
            Ok(outcome) => Ok(outcome),
            Err(ClaimError::Unavailable) => Ok(StoreOutcome::AttachmentsUnavailable),
            Err(ClaimError::NoSuchReply) => Ok(StoreOutcome::NoSuchReply),
            Err(ClaimError::Db(err)) => Err(err.into()),
        }
    }
}

/// A batch cut where order allows: each run of plain sends is stored as one batch, and each send with extras
/// alone, in the order they came (so one conversation's messages keep their order).
pub fn runs(sends: &[PendingSend]) -> impl Iterator<Item = &[PendingSend]> {
    sends.chunk_by(|a, b| !a.has_extras() && !b.has_extras())
}

/// One send with extras on PostgreSQL, in a transaction: stored by `chat_store_batch` like any send, then its
/// extras applied (`extras`); if one cannot be, the message is rolled back too.
pub async fn store_with_extras_postgres(conn: &mut DbConn, send: &PendingSend) -> DbResult<StoreOutcome> {
    let DbConn::Postgres(c) = conn else {
        return Err(super::DbError::Unavailable("SQLite sends are stored by the writer thread".into()));
    };
    let now = super::now();
    let result = diesel_async::AsyncConnection::transaction(&mut **c, async |c| {
        let outcome = postgres::store_batch(c, std::slice::from_ref(send), now).await?.pop();
        match outcome {
            Some(StoreOutcome::Created { mut row, version }) => {
                crate::apply_extras!(c, send, &mut row, await)?;
                Ok(StoreOutcome::Created { row, version })
            }
            Some(other) => Ok(other),
            None => Ok(StoreOutcome::NotMember),
        }
    })
    .await;
    ClaimError::settle(result)
}

/// Store a batch of sends, one outcome per send in order. Per conversation, the seqs are handed out under one
/// row lock (PostgreSQL) or the database write lock (SQLite) and committed with the rows, so they stay gapless.
/// A resend (the sender's known client_id) returns the original instead of a new row.
///
/// One database round trip or call per batch, whatever its size: PostgreSQL runs the stored function
/// `chat_store_batch` (migrations/postgres/…_store_batch) in [`store_batch_postgres`]; SQLite runs
/// [`store_batch_sqlite`] on the message writer's own thread and connection. The two spell the same rules; the
/// integration tests hold both backends to them.
///
/// Should a concurrent transaction store one of the same client_ids between our check and our insert, the
/// UNIQUE constraint fails the whole batch; the caller then stores the sends one by one.
pub async fn store_batch_postgres(conn: &mut DbConn, sends: &[PendingSend]) -> DbResult<Vec<StoreOutcome>> {
    match conn {
        DbConn::Postgres(c) => Ok(postgres::store_batch(c, sends, super::now()).await?),
        DbConn::Sqlite(_) => Err(super::DbError::Unavailable("SQLite batches are stored by the writer thread".into())),
    }
}

/// SQLite's side of [`store_batch_postgres`] and [`store_with_extras_postgres`], synchronous, in one
/// `BEGIN IMMEDIATE` transaction (a send with extras in a savepoint of its own).
pub fn store_batch_sqlite(c: &mut diesel::SqliteConnection, sends: &[PendingSend]) -> DbResult<Vec<StoreOutcome>> {
    let now = super::now();
    Ok(c.immediate_transaction(|c| {
        let mut outcomes = Vec::with_capacity(sends.len());
        for run in runs(sends) {
            match run {
                [send] if send.has_extras() => {
                    outcomes.push(match c.transaction(|c| sqlite_sync::store_with_extras(c, send, now)) {
                        Ok(outcome) => outcome,
                        Err(ClaimError::Unavailable) => StoreOutcome::AttachmentsUnavailable,
                        Err(ClaimError::NoSuchReply) => StoreOutcome::NoSuchReply,
                        Err(ClaimError::Db(err)) => return Err(err),
                    });
                }
                plain => outcomes.extend(sqlite_sync::store_batch(c, plain, now)?),
            }
        }
        Ok::<_, diesel::result::Error>(outcomes)
    })?)
}

/// Display names by id, on the SQLite writer's connection.
pub fn display_names_sqlite(c: &mut diesel::SqliteConnection, ids: &[UserId]) -> DbResult<Vec<(UserId, String)>> {
    Ok(diesel::RunQueryDsl::load(
        users::table.filter(users::id.eq_any(ids)).select((users::id, users::display_name)),
        c,
    )?)
}

mod postgres {
    use diesel::pg::Pg;
    use diesel::query_builder::AstPass;
    use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
    use diesel_async::{AsyncPgConnection, RunQueryDsl};

    use super::{MessageRow, PendingSend, StoreOutcome};
    use crate::ids::{ConversationId, Seq, UserId};

    /// One row of `chat_store_batch`: the outcome of one send, with the stored (or original) row if any.
    #[derive(diesel::QueryableByName)]
    struct StoredSend {
        #[diesel(sql_type = Text)]
        outcome: String,
        #[diesel(sql_type = Nullable<BigInt>)]
        version: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        id: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        conversation_id: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        seq: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        sender_id: Option<i64>,
        #[diesel(sql_type = Nullable<Text>)]
        body: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        client_id: Option<String>,
        #[diesel(sql_type = Nullable<Timestamp>)]
        created_at: Option<chrono::NaiveDateTime>,
        #[diesel(sql_type = Nullable<Timestamp>)]
        edited_at: Option<chrono::NaiveDateTime>,
        #[diesel(sql_type = Nullable<Timestamp>)]
        deleted_at: Option<chrono::NaiveDateTime>,
    }

    impl StoredSend {
        fn row(self) -> Option<MessageRow> {
            Some(MessageRow {
                id: self.id?,
                conversation_id: ConversationId(self.conversation_id?),
                seq: Seq(self.seq?),
                sender_id: UserId(self.sender_id?),
                body: self.body?,
                client_id: self.client_id?,
                created_at: self.created_at?,
                edited_at: self.edited_at,
                deleted_at: self.deleted_at,
                // New rows have none yet; a resend's original gets its column read after the call.
                attachments: None,
                reply_to_seq: None,
                reply_preview: None,
                mentions: None,
                event: None,
            })
        }

        fn outcome(self) -> StoreOutcome {
            match self.outcome.as_str() {
                "blocked_by_sender" => StoreOutcome::Blocked { by_sender: true },
                "blocked" => StoreOutcome::Blocked { by_sender: false },
                "new" => {
                    let version = self.version.unwrap_or_default();
                    self.row().map_or(StoreOutcome::NotMember, |row| StoreOutcome::Created { row, version })
                }
                "duplicate" => self.row().map_or(StoreOutcome::NotMember, StoreOutcome::Duplicate),
                _ => StoreOutcome::NotMember,
            }
        }
    }

    /// The call of `chat_store_batch`, spelled as a query fragment of fixed text so that the connection prepares
    /// it once and reuses it: a `sql_query` is never cached, so each call was parsed, planned and prepared anew,
    /// which cost a second round trip per batch (prepare, then execute).
    struct StoreBatchCall<'a> {
        conversation_ids: Vec<i64>,
        sender_ids: Vec<i64>,
        client_ids: Vec<&'a str>,
        bodies: Vec<&'a str>,
        now: chrono::NaiveDateTime,
    }

    impl diesel::query_builder::QueryId for StoreBatchCall<'_> {
        type QueryId = StoreBatchCall<'static>;
        const HAS_STATIC_QUERY_ID: bool = true;
    }

    impl diesel::query_builder::Query for StoreBatchCall<'_> {
        type SqlType = diesel::sql_types::Untyped;
    }

    impl diesel::query_builder::QueryFragment<Pg> for StoreBatchCall<'_> {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
            out.push_sql(
                "SELECT outcome, version, id, conversation_id, seq, sender_id, body, client_id, created_at, \
                 edited_at, deleted_at FROM chat_store_batch(",
            );
            out.push_bind_param::<Array<BigInt>, _>(&self.conversation_ids)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<BigInt>, _>(&self.sender_ids)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(&self.client_ids)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(&self.bodies)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamp, _>(&self.now)?;
            out.push_sql(")");
            Ok(())
        }
    }

    /// One statement in autocommit: the function's own transaction is the batch's.
    pub async fn store_batch(
        conn: &mut AsyncPgConnection,
        sends: &[PendingSend],
        now: chrono::NaiveDateTime,
    ) -> diesel::QueryResult<Vec<StoreOutcome>> {
        let call = StoreBatchCall {
            conversation_ids: sends.iter().map(|s| s.conversation_id.get()).collect(),
            sender_ids: sends.iter().map(|s| s.sender_id.get()).collect(),
            client_ids: sends.iter().map(|s| s.client_id.as_str()).collect(),
            bodies: sends.iter().map(|s| s.body.as_str()).collect(),
            now,
        };
        let rows: Vec<StoredSend> = call.load(conn).await?;
        let mut outcomes: Vec<StoreOutcome> = rows.into_iter().map(StoredSend::outcome).collect();
        // A resend answers with the original, extras included: read them (resends are rare).
        let resent: Vec<i64> = outcomes
            .iter()
            .filter_map(|o| match o {
                StoreOutcome::Duplicate(row) => Some(row.id),
                _ => None,
            })
            .collect();
        if !resent.is_empty() {
            use crate::db::schema::messages;
            use diesel::{ExpressionMethods, QueryDsl};
            type Extras = (i64, Option<String>, Option<Seq>, Option<String>, Option<String>);
            let columns: Vec<Extras> = messages::table
                .filter(messages::id.eq_any(&resent))
                .select((
                    messages::id,
                    messages::attachments,
                    messages::reply_to_seq,
                    messages::reply_preview,
                    messages::mentions,
                ))
                .load(conn)
                .await?;
            for outcome in &mut outcomes {
                if let StoreOutcome::Duplicate(row) = outcome
                    && let Some((_, attachments, reply_to_seq, reply_preview, mentions)) =
                        columns.iter().find(|(id, ..)| *id == row.id).cloned()
                {
                    (row.attachments, row.reply_to_seq, row.reply_preview, row.mentions) =
                        (attachments, reply_to_seq, reply_preview, mentions);
                }
            }
        }
        Ok(outcomes)
    }
}

mod changes;
pub mod extras;
mod sqlite_sync;

pub use changes::{edit, tombstone};
