//! Full-text search over the messages a user can read now: PostgreSQL's `tsvector` (a generated column with a GIN
//! index) or SQLite's FTS5 (an external-content index kept by triggers). Both are fed by the ordinary write path,
//! so inserts, edits and tombstones need nothing of their own; the two queries below are the one place the
//! backends are spelled apart, because their full-text syntax has nothing in common.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::RunQueryDsl;

use super::messages::MessageWithSender;
use super::models::MessageRow;
use super::schema::{messages, users};
use super::{DbConn, DbResult};
use crate::ids::{ConversationId, UserId};
use crate::with_conn;

/// Where a ranked page of hits starts: after this rank and message id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HitCursor {
    pub rank: f64,
    pub id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct Hit {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Higher is better.
    #[diesel(sql_type = Double)]
    pub rank: f64,
}

pub struct HitQuery<'a> {
    pub user_id: UserId,
    /// A `tsquery` for `to_tsquery('simple', …)`, made of words only (PostgreSQL).
    pub tsquery: &'a str,
    /// The same as an FTS5 `MATCH` expression (SQLite).
    pub fts5: &'a str,
    pub conversation_id: Option<ConversationId>,
    pub after: Option<HitCursor>,
    pub limit: i64,
}

// Membership is joined, not checked beforehand: a conversation left (or removed from) drops out of the same
// statement that finds the hits. Deleted messages have an empty body, and are excluded besides.
const POSTGRES: &str = "\
    SELECT id, rank FROM (\
        SELECT m.id, ts_rank(m.body_tsv, q)::float8 AS rank \
        FROM to_tsquery('simple', $2) AS q, messages m \
        JOIN memberships mb ON mb.conversation_id = m.conversation_id AND mb.user_id = $1 \
        WHERE m.body_tsv @@ q AND m.deleted_at IS NULL AND ($3::bigint IS NULL OR m.conversation_id = $3)\
    ) hits \
    WHERE $4::float8 IS NULL OR rank < $4 OR (rank = $4 AND id < $5) \
    ORDER BY rank DESC, id DESC LIMIT $6";

// bm25() is lower for better matches; negated so that both backends rank higher-is-better.
const SQLITE: &str = "\
    SELECT id, rank FROM (\
        SELECT m.id AS id, -bm25(messages_fts) AS rank \
        FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid \
        JOIN memberships mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?1 \
        WHERE messages_fts MATCH ?2 AND m.deleted_at IS NULL AND (?3 IS NULL OR m.conversation_id = ?3)\
    ) \
    WHERE ?4 IS NULL OR rank < ?4 OR (rank = ?4 AND id < ?5) \
    ORDER BY rank DESC, id DESC LIMIT ?6";

/// The best `limit` hits after the cursor, best first.
pub async fn hits(conn: &mut DbConn, query: &HitQuery<'_>) -> DbResult<Vec<Hit>> {
    let conversation = query.conversation_id.map(|c| c.get());
    let (rank, id) = match query.after {
        Some(cursor) => (Some(cursor.rank), Some(cursor.id)),
        None => (None, None),
    };
    let (sql, text) = match conn {
        DbConn::Postgres(_) => (POSTGRES, query.tsquery),
        DbConn::Sqlite(_) => (SQLITE, query.fts5),
    };
    let statement = diesel::sql_query(sql)
        .bind::<BigInt, _>(query.user_id.get())
        .bind::<Text, _>(text)
        .bind::<Nullable<BigInt>, _>(conversation)
        .bind::<Nullable<Double>, _>(rank)
        .bind::<Nullable<BigInt>, _>(id)
        .bind::<BigInt, _>(query.limit);
    let hits = with_conn!(conn, |c| statement.load(c).await)?;
    Ok(hits)
}

/// The messages of `hits` with their senders' names, in the order of `hits` (a message gone since is left out).
pub async fn messages_of(conn: &mut DbConn, hits: &[Hit]) -> DbResult<Vec<MessageWithSender>> {
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    let mut rows: Vec<MessageWithSender> = with_conn!(conn, |c| messages::table
        .inner_join(users::table)
        .filter(messages::id.eq_any(&ids))
        .select((MessageRow::as_select(), users::display_name))
        .load(c)
        .await)?;
    rows.sort_by_key(|(row, _)| ids.iter().position(|&id| id == row.id));
    Ok(rows)
}
