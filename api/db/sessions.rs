//! Sessions and their refresh tokens. A session is live while it is not revoked, is before its absolute end,
//! and was refreshed within the refresh-token lifetime (its newest token has not expired).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{NewRefreshToken, NewSession, RefreshTokenRow, SessionRow};
use super::schema::{refresh_tokens, sessions};
use super::{DbConn, DbError, DbResult};
use crate::ids::{SessionId, UserId};
use crate::{with_conn, write_transaction};

/// The instant "now" and the refresh-token lifetime, which together say which sessions are live.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: NaiveDateTime,
    pub refresh_ttl: chrono::Duration,
}

impl Clock {
    /// Sessions last refreshed before this have no unexpired refresh token left.
    fn idle_since(&self) -> NaiveDateTime {
        self.now - self.refresh_ttl
    }

    /// A new refresh token's expiry: a full lifetime, but never past the session's absolute end.
    pub fn token_expiry(&self, session_ends: NaiveDateTime) -> NaiveDateTime {
        (self.now + self.refresh_ttl).min(session_ends)
    }
}

/// A new session and the sessions it pushed out (the least recently used beyond the per-user cap).
#[derive(Debug)]
pub struct Started {
    pub session: SessionRow,
    pub evicted: Vec<SessionId>,
}

/// Insert a session and its first refresh token; end the user's least recently used live sessions beyond
/// `max_per_user`; delete the user's sessions that ended before `purge_before` (their tokens go with them).
pub async fn start(
    conn: &mut DbConn,
    new: &NewSession<'_>,
    token_hash: &str,
    clock: Clock,
    max_per_user: usize,
    purge_before: NaiveDateTime,
) -> DbResult<Started> {
    let user_id = new.user_id;
    write_transaction!(conn, |c| {
        let session: SessionRow = diesel::insert_into(sessions::table)
            .values(new)
            .returning(SessionRow::as_returning())
            .get_result(c)
            .await?;
        let token = NewRefreshToken {
            user_id,
            session_id: session.id,
            token_hash,
            expires_at: clock.token_expiry(session.expires_at),
            created_at: clock.now,
        };
        diesel::insert_into(refresh_tokens::table).values(&token).execute(c).await?;
        // API tokens have a cap of their own: logins never push them out.
        let live: Vec<SessionId> = sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::api_token_hash.is_null())
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(clock.now))
            .filter(sessions::last_used_at.gt(clock.idle_since()))
            .order((sessions::last_used_at.desc(), sessions::id.desc()))
            .select(sessions::id)
            .load(c)
            .await?;
        // The new session was used last, so it is never among the evicted.
        let evicted: Vec<SessionId> = live.into_iter().skip(max_per_user.max(1)).collect();
        if !evicted.is_empty() {
            diesel::update(sessions::table.filter(sessions::id.eq_any(&evicted)))
                .set(sessions::revoked_at.eq(clock.now))
                .execute(c)
                .await?;
        }
        diesel::delete(
            sessions::table.filter(sessions::user_id.eq(user_id)).filter(
                sessions::revoked_at
                    .lt(purge_before)
                    .or(sessions::expires_at.lt(purge_before))
                    // An API token has no refresh tokens to go idle: only its expiry or revocation ends it.
                    .or(sessions::last_used_at
                        .lt(purge_before - clock.refresh_ttl)
                        .and(sessions::api_token_hash.is_null())),
            ),
        )
        .execute(c)
        .await?;
        Ok::<_, DbError>(Started { session, evicted })
    })
}

/// What presenting a refresh token came to.
#[derive(Debug)]
pub enum Rotated {
    /// Spent; a new token was stored under `new_hash`. The session as it is now.
    Fresh(SessionRow),
    /// The token had been spent before: the session is revoked (`revoked` holds its id unless it already was).
    Reused { user_id: UserId, revoked: Vec<SessionId> },
    /// Unknown, expired, or its session has ended.
    Invalid,
}

/// Spend the refresh token `old_hash` and store its successor `new_hash`, in one transaction.
pub async fn rotate(conn: &mut DbConn, old_hash: &str, new_hash: &str, clock: Clock) -> DbResult<Rotated> {
    write_transaction!(conn, |c| {
        let Some(token): Option<RefreshTokenRow> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(old_hash))
            .select(RefreshTokenRow::as_select())
            .first(c)
            .await
            .optional()?
        else {
            return Ok(Rotated::Invalid);
        };
        let revoke_session = diesel::update(
            sessions::table.filter(sessions::id.eq(token.session_id)).filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(clock.now))
        .returning(sessions::id);
        if token.used_at.is_some() {
            let revoked: Vec<SessionId> = revoke_session.get_results(c).await?;
            return Ok(Rotated::Reused { user_id: token.user_id, revoked });
        }
        if token.expires_at <= clock.now {
            return Ok(Rotated::Invalid);
        }
        let session: SessionRow =
            sessions::table.find(token.session_id).select(SessionRow::as_select()).first(c).await?;
        if session.revoked_at.is_some() || session.expires_at <= clock.now {
            return Ok(Rotated::Invalid);
        }
        let spent = diesel::update(
            refresh_tokens::table.filter(refresh_tokens::id.eq(token.id)).filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(clock.now))
        .execute(c)
        .await?;
        if spent != 1 {
            // Spent by a concurrent request (PostgreSQL): the same as a reuse.
            let revoked: Vec<SessionId> = revoke_session.get_results(c).await?;
            return Ok(Rotated::Reused { user_id: token.user_id, revoked });
        }
        let session: SessionRow = diesel::update(sessions::table.find(session.id))
            .set(sessions::last_used_at.eq(clock.now))
            .returning(SessionRow::as_returning())
            .get_result(c)
            .await?;
        let next = NewRefreshToken {
            user_id: token.user_id,
            session_id: session.id,
            token_hash: new_hash,
            expires_at: clock.token_expiry(session.expires_at),
            created_at: clock.now,
        };
        diesel::insert_into(refresh_tokens::table).values(&next).execute(c).await?;
        Ok::<_, DbError>(Rotated::Fresh(session))
    })
}

/// The user's live login sessions (API tokens are listed apart), most recently used first.
pub async fn live_for_user(conn: &mut DbConn, user_id: UserId, clock: Clock) -> DbResult<Vec<SessionRow>> {
    Ok(with_conn!(conn, |c| sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::api_token_hash.is_null())
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(clock.now))
        .filter(sessions::last_used_at.gt(clock.idle_since()))
        .order((sessions::last_used_at.desc(), sessions::id.desc()))
        .select(SessionRow::as_select())
        .load(c)
        .await)?)
}

/// The session when it is live (an API token's: not revoked nor expired, however long unused).
pub async fn live(conn: &mut DbConn, id: SessionId, clock: Clock) -> DbResult<Option<SessionRow>> {
    Ok(with_conn!(conn, |c| sessions::table
        .find(id)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(clock.now))
        .filter(sessions::last_used_at.gt(clock.idle_since()).or(sessions::api_token_hash.is_not_null()))
        .select(SessionRow::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Which of a user's sessions to revoke.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// This one, if it is the user's, live, and a login (API tokens are revoked as tokens).
    LiveOne(SessionId),
    /// This one, if it is the user's and not revoked yet (an expired session may still have access tokens out).
    One(SessionId),
    All,
}

/// Revoke sessions of `user_id`; returns the ids revoked now.
pub async fn revoke(conn: &mut DbConn, user_id: UserId, scope: Scope, clock: Clock) -> DbResult<Vec<SessionId>> {
    let mine = sessions::user_id.eq(user_id).and(sessions::revoked_at.is_null());
    Ok(with_conn!(conn, |c| match scope {
        Scope::LiveOne(id) => {
            diesel::update(
                sessions::table
                    .filter(mine)
                    .filter(sessions::id.eq(id))
                    .filter(sessions::api_token_hash.is_null())
                    .filter(sessions::expires_at.gt(clock.now))
                    .filter(sessions::last_used_at.gt(clock.idle_since())),
            )
            .set(sessions::revoked_at.eq(clock.now))
            .returning(sessions::id)
            .get_results(c)
            .await
        }
        Scope::One(id) => {
            diesel::update(sessions::table.filter(mine).filter(sessions::id.eq(id)))
                .set(sessions::revoked_at.eq(clock.now))
                .returning(sessions::id)
                .get_results(c)
                .await
        }
        Scope::All => {
            diesel::update(sessions::table.filter(mine))
                .set(sessions::revoked_at.eq(clock.now))
                .returning(sessions::id)
                .get_results(c)
                .await
        }
    })?)
}

/// Sessions revoked after `since` (any user), oldest revocation first: what other instances need to refuse.
pub async fn revoked_since(conn: &mut DbConn, since: NaiveDateTime) -> DbResult<Vec<(SessionId, NaiveDateTime)>> {
    Ok(with_conn!(conn, |c| sessions::table
        .filter(sessions::revoked_at.gt(since))
        .order(sessions::revoked_at.asc())
        .select((sessions::id, sessions::revoked_at.assume_not_null()))
        .load(c)
        .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_token_never_outlives_its_session() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap().naive_utc();
        let clock = Clock { now, refresh_ttl: chrono::Duration::days(30) };
        // Far from the session's end: a full lifetime.
        assert_eq!(clock.token_expiry(now + chrono::Duration::days(80)), now + chrono::Duration::days(30));
        // Close to it: cut at the end, however often the session is refreshed.
        let ends = now + chrono::Duration::days(3);
        assert_eq!(clock.token_expiry(ends), ends);
        let later = Clock { now: now + chrono::Duration::days(2), ..clock };
        assert_eq!(later.token_expiry(ends), ends);
    }
}
