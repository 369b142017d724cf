//! Sessions: a login (or registration) and its chain of refresh tokens, which its owner can list and end.
//! Ending a session refuses its access tokens at once (see [`super::revocations`]) and tells the live side.

use chrono::NaiveDateTime;

use super::service::{hash_token, public_user, random_token};
use super::{AuthError, AuthKeys, AuthUser};
use crate::db::models::{NewSession, UserRow};
use crate::db::sessions::{Clock, Rotated, Scope};
use crate::db::{self, DbConn, users};
use crate::ids::{SessionId, UserId};
use crate::protocol::{Session, SessionInfo};
use crate::realtime::Realtime;

/// Longest device label kept: enough to tell browsers and apps apart, not a place to store data.
pub const DEVICE_LABEL_CHARS: usize = 120;

/// The device label of a session: the User-Agent, trimmed, without control characters, at most
/// [`DEVICE_LABEL_CHARS`] characters; none when empty.
pub fn device_label(user_agent: Option<&str>) -> Option<String> {
    let label: String = user_agent?
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(DEVICE_LABEL_CHARS)
        .collect();
    let label = label.trim_end().to_owned();
    (!label.is_empty()).then_some(label)
}

fn clock(keys: &AuthKeys) -> Clock {
    Clock {
        now: db::now(),
        refresh_ttl: chrono::Duration::from_std(keys.refresh_ttl()).unwrap_or(chrono::Duration::days(30)),
    }
}

fn unix(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp()
}

fn sign(
    keys: &AuthKeys,
    user: &UserRow,
    session_id: SessionId,
    issued_at: i64,
    ends: NaiveDateTime,
) -> Result<(String, i64), AuthError> {
    let (token, exp) = keys
        .issue(user.id, session_id, issued_at, unix(ends))
        .map_err(|e| AuthError::Internal(format!("cannot sign token: {e}")))?;
    Ok((token, (exp - issued_at).max(0)))
}

/// Start a session for `user` (after a registration or a login). Beyond the per-user cap the least recently
/// used session ends.
pub async fn start(
    conn: &mut DbConn,
    keys: &AuthKeys,
    realtime: &Realtime,
    user: &UserRow,
    device: Option<&str>,
) -> Result<Session, AuthError> {
    let clock = clock(keys);
    let issued_at = unix(clock.now);
    let limits = keys.session_limits();
    let max_age = chrono::Duration::from_std(limits.max_age).unwrap_or(chrono::Duration::days(90));
    let refresh_token = random_token(32);
    let new = NewSession {
        user_id: user.id,
        device,
        created_at: clock.now,
        last_used_at: clock.now,
        expires_at: clock.now + max_age,
    };
    // Ended sessions are kept a day (and never less than revocations matter, so a starting instance still
    // learns them), then deleted with their tokens.
    let purge_before = keys.revocations().horizon(clock.now).min(clock.now - chrono::Duration::days(1));
    let started =
        db::sessions::start(conn, &new, &hash_token(&refresh_token), clock, limits.max_per_user, purge_before).await?;
    if !started.evicted.is_empty() {
        tracing::info!(
            user_id = user.id.get(),
            ended = started.evicted.len(),
            "session cap reached: least recently used ended"
        );
        realtime.sessions_revoked(user.id, &started.evicted);
    }
    let (access_token, expires_in) = sign(keys, user, started.session.id, issued_at, started.session.expires_at)?;
    Ok(Session {
        user: public_user(user),
        session_id: started.session.id.get(),
        access_token,
        refresh_token,
        expires_in,
    })
}

/// Spend a refresh token for a new access token and a new refresh token. A token presented twice ends its
/// session: whoever holds the copy (the thief or the owner) has to log in again.
pub async fn refresh(
    conn: &mut DbConn,
    keys: &AuthKeys,
    realtime: &Realtime,
    refresh_token: &str,
) -> Result<Session, AuthError> {
    let clock = clock(keys);
    let issued_at = unix(clock.now);
    let next = random_token(32);
    match db::sessions::rotate(conn, &hash_token(refresh_token), &hash_token(&next), clock).await? {
        Rotated::Fresh(session) => {
            let user = users::by_id(conn, session.user_id).await?.ok_or(AuthError::InvalidRefreshToken)?;
            let (access_token, expires_in) = sign(keys, &user, session.id, issued_at, session.expires_at)?;
            Ok(Session {
                user: public_user(&user),
                session_id: session.id.get(),
                access_token,
                refresh_token: next,
                expires_in,
            })
        }
        Rotated::Reused { user_id, revoked } => {
            tracing::warn!(user_id = user_id.get(), "refresh token reused; its session is ended");
            realtime.sessions_revoked(user_id, &revoked);
            Err(AuthError::RefreshTokenReused)
        }
        Rotated::Invalid => Err(AuthError::InvalidRefreshToken),
    }
}

/// End sessions of `user_id`. `Scope::LiveOne` of a session that is not the user's or not live is NotFound.
pub async fn end(
    conn: &mut DbConn,
    keys: &AuthKeys,
    realtime: &Realtime,
    user_id: UserId,
    scope: Scope,
) -> Result<(), AuthError> {
    let ended = db::sessions::revoke(conn, user_id, scope, clock(keys)).await?;
    if ended.is_empty() && matches!(scope, Scope::LiveOne(_)) {
        return Err(AuthError::SessionNotFound);
    }
    realtime.sessions_revoked(user_id, &ended);
    Ok(())
}

/// The caller's live sessions, most recently used first; `current` marks the caller's own.
pub async fn list(conn: &mut DbConn, keys: &AuthKeys, caller: &AuthUser) -> Result<Vec<SessionInfo>, AuthError> {
    let rows = db::sessions::live_for_user(conn, caller.user_id, clock(keys)).await?;
    Ok(rows
        .into_iter()
        // A session revoked a moment ago by another instance may not be in this read yet.
        .filter(|row| !keys.revocations().is_revoked(row.id))
        .map(|row| SessionInfo {
            id: row.id.get(),
            device: row.device,
            created_at: row.created_at.and_utc(),
            last_used_at: row.last_used_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
            current: row.id == caller.session_id,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_label_is_the_trimmed_user_agent_without_control_characters() {
        assert_eq!(device_label(Some("  Firefox/140\r\n ")).as_deref(), Some("Firefox/140"));
        assert_eq!(device_label(Some("a\u{0}b\u{7}c")).as_deref(), Some("abc"));
        assert_eq!(device_label(Some("   ")), None);
        assert_eq!(device_label(None), None);
        let long = "é".repeat(500);
        assert_eq!(device_label(Some(&long)).map(|l| l.chars().count()), Some(DEVICE_LABEL_CHARS));
    }
}
