//! API tokens: sessions with a secret's hash and scopes instead of refresh tokens (see `auth::api_tokens`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{NewTokenSession, SessionRow};
use super::schema::sessions;
use super::{DbConn, DbError, DbResult};
use crate::ids::{SessionId, UserId};
use crate::{with_conn, write_transaction};

/// Store a new token unless the user already holds `max_live` live ones (then `None`); first delete the
/// user's tokens that were revoked or expired before `purge_before`. Two creations racing on PostgreSQL may
/// both pass the count: the cap bounds what a user keeps, not an exact number.
pub async fn create(
    conn: &mut DbConn,
    new: &NewTokenSession<'_>,
    max_live: usize,
    purge_before: NaiveDateTime,
) -> DbResult<Option<SessionRow>> {
    let (user_id, now) = (new.user_id, new.created_at);
    write_transaction!(conn, |c| {
        let tokens = sessions::user_id.eq(user_id).and(sessions::api_token_hash.is_not_null());
        diesel::delete(
            sessions::table
                .filter(tokens)
                .filter(sessions::revoked_at.lt(purge_before).or(sessions::expires_at.lt(purge_before))),
        )
        .execute(c)
        .await?;
        let live: i64 = sessions::table
            .filter(tokens)
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .count()
            .get_result(c)
            .await?;
        if usize::try_from(live).unwrap_or(usize::MAX) >= max_live {
            return Ok(None);
        }
        let row: SessionRow = diesel::insert_into(sessions::table)
            .values(new)
            .returning(SessionRow::as_returning())
            .get_result(c)
            .await?;
        Ok::<_, DbError>(Some(row))
    })
}

/// The user's tokens that are not revoked (expired ones included, so their owner sees them end), newest first.
pub async fn for_user(conn: &mut DbConn, user_id: UserId) -> DbResult<Vec<SessionRow>> {
    Ok(with_conn!(conn, |c| sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::api_token_hash.is_not_null())
        .filter(sessions::revoked_at.is_null())
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .select(SessionRow::as_select())
        .load(c)
        .await)?)
}

/// The token whose secret hashes to `hash`, revoked or not.
pub async fn by_hash(conn: &mut DbConn, hash: &str) -> DbResult<Option<SessionRow>> {
    Ok(with_conn!(conn, |c| sessions::table
        .filter(sessions::api_token_hash.eq(hash))
        .select(SessionRow::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Note that the token was used now.
pub async fn touch(conn: &mut DbConn, id: SessionId, now: NaiveDateTime) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(sessions::table.find(id))
        .set(sessions::last_used_at.eq(now))
        .execute(c)
        .await)?;
    Ok(())
}

/// Revoke the user's token `id` if it is theirs and not revoked yet; the ids revoked now (empty or one).
pub async fn revoke(conn: &mut DbConn, user_id: UserId, id: SessionId, now: NaiveDateTime) -> DbResult<Vec<SessionId>> {
    Ok(with_conn!(conn, |c| diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::api_token_hash.is_not_null())
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .returning(sessions::id)
    .get_results(c)
    .await)?)
}
