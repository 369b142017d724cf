//! Queries on mentions: how many unread messages mention a member.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{memberships, mentions};
use super::{DbConn, DbResult};
use crate::ids::{ConversationId, UserId};
use crate::with_conn;

/// Per conversation of `user_id` (those given), the messages after their read position that mention them.
pub async fn unread_counts(
    conn: &mut DbConn,
    user_id: UserId,
    conversation_ids: &[ConversationId],
) -> DbResult<HashMap<ConversationId, i64>> {
    let rows: Vec<(ConversationId, i64)> = with_conn!(conn, |c| mentions::table
        .inner_join(memberships::table.on(
            memberships::conversation_id.eq(mentions::conversation_id).and(memberships::user_id.eq(mentions::user_id))
        ),)
        .filter(mentions::user_id.eq(user_id))
        .filter(mentions::conversation_id.eq_any(conversation_ids))
        .filter(mentions::seq.gt(memberships::last_read_seq))
        .group_by(mentions::conversation_id)
        .select((mentions::conversation_id, diesel::dsl::count_star()))
        .load(c)
        .await)?;
    Ok(rows.into_iter().collect())
}

pub async fn unread_count(conn: &mut DbConn, user_id: UserId, conversation_id: ConversationId) -> DbResult<i64> {
    Ok(unread_counts(conn, user_id, &[conversation_id]).await?.remove(&conversation_id).unwrap_or(0))
}
