//! Queries on users.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{NewUser, UserRow};
use super::schema::{sessions, users};
use super::{DbConn, DbError, DbResult};
use crate::ids::{SessionId, UserId};
use crate::{with_conn, write_transaction};

pub async fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> DbResult<UserRow> {
    Ok(with_conn!(conn, |c| diesel::insert_into(users::table)
        .values(new)
        .returning(UserRow::as_returning())
        .get_result(c)
        .await)?)
}

pub async fn by_username(conn: &mut DbConn, username: &str) -> DbResult<Option<UserRow>> {
    Ok(with_conn!(conn, |c| users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(c)
        .await
        .optional())?)
}

pub async fn by_id(conn: &mut DbConn, id: UserId) -> DbResult<Option<UserRow>> {
    Ok(with_conn!(conn, |c| users::table.find(id).select(UserRow::as_select()).first(c).await.optional())?)
}

pub async fn by_ids(conn: &mut DbConn, ids: &[UserId]) -> DbResult<Vec<UserRow>> {
    Ok(with_conn!(conn, |c| users::table.filter(users::id.eq_any(ids)).select(UserRow::as_select()).load(c).await)?)
}

/// Usernames that start with `prefix` (already lower-cased), alphabetically, without `exclude`.
pub async fn search_prefix(conn: &mut DbConn, prefix: &str, exclude: UserId, limit: i64) -> DbResult<Vec<UserRow>> {
    // `_` is legal in usernames and a LIKE wildcard: escape it (and `%`, `\`) so the prefix is literal.
    let mut pattern = String::with_capacity(prefix.len() + 2);
    for ch in prefix.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    Ok(with_conn!(conn, |c| users::table
        .filter(users::username.like(&pattern).escape('\\'))
        .filter(users::id.ne(exclude))
        .order(users::username.asc())
        .limit(limit)
        .select(UserRow::as_select())
        .load(c)
        .await)?)
}

/// Store a new password hash and end every other live session of the user, together; returns the sessions
/// ended.
pub async fn change_password(
    conn: &mut DbConn,
    user_id: UserId,
    password_hash: &str,
    keep_session: SessionId,
    now: chrono::NaiveDateTime,
) -> DbResult<Vec<SessionId>> {
    write_transaction!(conn, |c| {
        diesel::update(users::table.find(user_id)).set(users::password_hash.eq(password_hash)).execute(c).await?;
        let ended: Vec<SessionId> = diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::id.ne(keep_session)),
        )
        .set(sessions::revoked_at.eq(now))
        .returning(sessions::id)
        .get_results(c)
        .await?;
        Ok::<_, DbError>(ended)
    })
}
