use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{NewRefreshToken, RefreshTokenRow};
use super::schema::refresh_tokens;
use super::{DbConn, DbResult};
use crate::with_conn;

pub async fn insert(conn: &mut DbConn, new: &NewRefreshToken<'_>) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(refresh_tokens::table).values(new).execute(c).await)?;
    Ok(())
}

pub async fn by_hash(conn: &mut DbConn, token_hash: &str) -> DbResult<Option<RefreshTokenRow>> {
    Ok(with_conn!(conn, |c| refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Mark a live token spent. False when someone spent or revoked it first: the caller must treat that as reuse.
pub async fn spend(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> DbResult<bool> {
    let changed = with_conn!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null())
    )
    .set(refresh_tokens::used_at.eq(at))
    .execute(c)
    .await)?;
    Ok(changed == 1)
}

pub async fn revoke_family(conn: &mut DbConn, family_id: &str, at: NaiveDateTime) -> DbResult<usize> {
    Ok(with_conn!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null())
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(c)
    .await)?)
}
