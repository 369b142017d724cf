//! Incoming webhooks of conversations, found by their secret's hash.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{NewWebhook, WebhookRow};
use super::schema::webhooks;
use super::{DbConn, DbResult};
use crate::ids::ConversationId;
use crate::with_conn;

pub async fn insert(conn: &mut DbConn, new: &NewWebhook<'_>) -> DbResult<WebhookRow> {
    Ok(with_conn!(conn, |c| diesel::insert_into(webhooks::table)
        .values(new)
        .returning(WebhookRow::as_returning())
        .get_result(c)
        .await)?)
}

/// The conversation's live webhooks, oldest first.
pub async fn for_conversation(conn: &mut DbConn, id: ConversationId) -> DbResult<Vec<WebhookRow>> {
    Ok(with_conn!(conn, |c| webhooks::table
        .filter(webhooks::conversation_id.eq(id))
        .filter(webhooks::revoked_at.is_null())
        .order(webhooks::id.asc())
        .select(WebhookRow::as_select())
        .load(c)
        .await)?)
}

/// The live webhook whose secret hashes to `hash`.
pub async fn by_secret_hash(conn: &mut DbConn, hash: &str) -> DbResult<Option<WebhookRow>> {
    Ok(with_conn!(conn, |c| webhooks::table
        .filter(webhooks::secret_hash.eq(hash))
        .filter(webhooks::revoked_at.is_null())
        .select(WebhookRow::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Revoke the conversation's live webhook `id`; the row as it was, or `None` when there is no such live one.
pub async fn revoke(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    id: i64,
    now: NaiveDateTime,
) -> DbResult<Option<WebhookRow>> {
    Ok(with_conn!(conn, |c| diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::conversation_id.eq(conversation_id))
            .filter(webhooks::revoked_at.is_null()),
    )
    .set(webhooks::revoked_at.eq(now))
    .returning(WebhookRow::as_returning())
    .get_result(c)
    .await
    .optional())?)
}
