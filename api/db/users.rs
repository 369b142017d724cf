//! Queries on users.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{NewUser, UserRow};
use super::schema::{sessions, users, webhooks};
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

diesel::define_sql_function! {
    /// Lower case (PostgreSQL folds every script; SQLite's built-in folds ASCII letters only).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `text` as a literal inside a LIKE pattern: `_` is legal in usernames and a wildcard, so it (and `%`, `\`) is
/// escaped with `\`.
fn like_literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped
}

/// People whose username or display name holds `needle` (already lower-cased), without `exclude`, best first:
/// the username itself, usernames that start with it, display names with a word that starts with it, then the
/// rest; alphabetically within each. Bot users of webhooks are left out.
pub async fn search(conn: &mut DbConn, needle: &str, exclude: UserId, limit: i64) -> DbResult<Vec<UserRow>> {
    let literal = like_literal(needle);
    let (anywhere, start, word) = (format!("%{literal}%"), format!("{literal}%"), format!("% {literal}%"));
    let tier = |n: i32| n.into_sql::<diesel::sql_types::Integer>();
    let rank = diesel::dsl::case_when(users::username.eq(needle), tier(0))
        .when(users::username.like(&start).escape('\\'), tier(1))
        .when(lower(users::display_name).like(&start).escape('\\'), tier(2))
        .when(lower(users::display_name).like(&word).escape('\\'), tier(2))
        .otherwise(tier(3));
    Ok(with_conn!(conn, |c| users::table
        .filter(users::id.ne(exclude))
        // Webhooks' bot users are no one to find or add.
        .filter(diesel::dsl::not(users::id.eq_any(webhooks::table.select(webhooks::bot_user_id))))
        .filter(
            users::username.like(&anywhere).escape('\\').or(lower(users::display_name).like(&anywhere).escape('\\')),
        )
        .order((rank, users::username.asc()))
        .limit(limit)
        .select(UserRow::as_select())
        .load(c)
        .await)?)
}

/// Record that the user's last session went away now; returns the moment.
pub async fn seen_now(conn: &mut DbConn, user_id: UserId) -> DbResult<chrono::DateTime<chrono::Utc>> {
    let now = super::now();
    with_conn!(conn, |c| diesel::update(users::table.find(user_id)).set(users::last_seen_at.eq(now)).execute(c).await)?;
    Ok(chrono::DateTime::from_naive_utc_and_offset(now, chrono::Utc))
}

/// A new display name; the updated user, or `None` if there is no such user.
pub async fn set_display_name(conn: &mut DbConn, user_id: UserId, display_name: &str) -> DbResult<Option<UserRow>> {
    Ok(with_conn!(conn, |c| diesel::update(users::table.find(user_id))
        .set(users::display_name.eq(display_name))
        .returning(UserRow::as_returning())
        .get_result(c)
        .await
        .optional())?)
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
