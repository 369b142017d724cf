//! API tokens: long-lived, scoped, revocable credentials for scripts and bots (`Authorization: Bearer
//! chat_pat_…`). Each is a session of its own with the SHA-256 of its secret and no refresh tokens, so revoking
//! it is ending that session: every instance refuses it (it is looked up on each use) and its sockets close as
//! any ended session's do.

use chrono::NaiveDateTime;

use super::access::{Access, Need, Scopes};
use super::service::{hash_token, random_token};
use super::{AuthError, AuthKeys, AuthUser};
use crate::db::models::{NewTokenSession, SessionRow};
use crate::db::{self, DbConn, DbPool};
use crate::domain::{DisplayName, ValidationError};
use crate::ids::{SessionId, UserId};
use crate::protocol::{ApiToken, CreateApiTokenRequest, CreatedApiToken};
use crate::realtime::Realtime;

/// What every API token starts with: tells it from an access token, and lets secret scanners find leaked ones.
pub const PREFIX: &str = "chat_pat_";
/// Live (unexpired, unrevoked) tokens a user may hold.
pub const MAX_PER_USER: usize = 20;
pub const DEFAULT_DAYS: i64 = 30;
pub const MAX_DAYS: i64 = 366;
/// `last_used_at` is written at most this often per token: a busy script does not write on every call.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

pub fn is_api_token(token: &str) -> bool {
    token.starts_with(PREFIX)
}

fn utc(at: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    at.and_utc()
}

fn view(row: SessionRow) -> ApiToken {
    ApiToken {
        id: row.id.get(),
        name: row.device.unwrap_or_default(),
        scopes: Scopes::from_stored(row.scopes.as_deref().unwrap_or_default()).list(),
        created_at: utc(row.created_at),
        expires_at: utc(row.expires_at),
        // Stored NOT NULL like a login's; equal to the creation until the first use.
        last_used_at: (row.last_used_at != row.created_at).then(|| utc(row.last_used_at)),
    }
}

/// Only a login session mints tokens: a stolen token must not be able to make more of itself.
fn require_session(caller: &AuthUser) -> Result<(), AuthError> {
    caller.access.allows(Need::Session).map_err(AuthError::InsufficientScope)
}

fn lifetime(days: Option<i64>) -> Result<chrono::Duration, ValidationError> {
    match days.unwrap_or(DEFAULT_DAYS) {
        days @ 1..=MAX_DAYS => Ok(chrono::Duration::days(days)),
        _ => Err(ValidationError::new("expires_in_days", format!("expires_in_days must be 1 to {MAX_DAYS}."))),
    }
}

/// Create a token for the caller; its secret is in the answer and nowhere else.
pub async fn create(
    conn: &mut DbConn,
    keys: &AuthKeys,
    caller: &AuthUser,
    req: &CreateApiTokenRequest,
) -> Result<CreatedApiToken, AuthError> {
    require_session(caller)?;
    let name = DisplayName::parse(&req.name)
        .map_err(|e| ValidationError::new("name", e.message.replace("Display name", "Name")))?;
    let scopes = Scopes::parse(&req.scopes)?;
    let lifetime = lifetime(req.expires_in_days)?;
    let secret = format!("{PREFIX}{}", random_token(32));
    let now = db::now();
    let (hash, stored_scopes) = (hash_token(&secret), scopes.to_stored());
    let new = NewTokenSession {
        user_id: caller.user_id,
        device: Some(name.as_str()),
        created_at: now,
        last_used_at: now,
        expires_at: now + lifetime,
        api_token_hash: Some(&hash),
        scopes: Some(&stored_scopes),
    };
    // Dead tokens are kept a day (and as long as revocations matter), then deleted.
    let purge_before = keys.revocations().horizon(now).min(now - chrono::Duration::days(1));
    let row = db::api_tokens::create(conn, &new, MAX_PER_USER, purge_before)
        .await?
        .ok_or(AuthError::TooManyTokens(MAX_PER_USER))?;
    Ok(CreatedApiToken { token: view(row), secret })
}

/// The caller's tokens (never their secrets).
pub async fn list(conn: &mut DbConn, caller: &AuthUser) -> Result<Vec<ApiToken>, AuthError> {
    require_session(caller)?;
    Ok(db::api_tokens::for_user(conn, caller.user_id).await?.into_iter().map(view).collect())
}

/// Revoke one of the caller's tokens: refused at once everywhere, its sockets closed. Someone else's, unknown
/// or already revoked is NotFound.
pub async fn revoke(conn: &mut DbConn, realtime: &Realtime, caller: &AuthUser, id: SessionId) -> Result<(), AuthError> {
    require_session(caller)?;
    let revoked = db::api_tokens::revoke(conn, caller.user_id, id, db::now()).await?;
    if revoked.is_empty() {
        return Err(AuthError::SessionNotFound);
    }
    realtime.sessions_revoked(caller.user_id, &revoked);
    Ok(())
}

/// The caller an API token proves. Looked up on every use (one indexed read), so a revocation on any instance
/// holds at once on all.
pub async fn authenticate(db: &DbPool, keys: &AuthKeys, token: &str) -> Result<AuthUser, AuthError> {
    let mut conn = db.get().await?;
    let row = db::api_tokens::by_hash(&mut conn, &hash_token(token))
        .await?
        .ok_or(AuthError::Token(super::TokenError::Invalid))?;
    let now = db::now();
    admit(&row, keys, now)?;
    if row.last_used_at == row.created_at || now - row.last_used_at >= TOUCH_EVERY {
        db::api_tokens::touch(&mut conn, row.id, now).await?;
    }
    Ok(as_caller(row.user_id, &row))
}

/// A token's session as the caller it proves (also for a socket ticket issued with a token).
pub fn as_caller(user_id: UserId, row: &SessionRow) -> AuthUser {
    AuthUser {
        user_id,
        session_id: row.id,
        expires_at: row.expires_at.and_utc().timestamp(),
        access: Access::Token(Scopes::from_stored(row.scopes.as_deref().unwrap_or_default())),
    }
}

fn admit(row: &SessionRow, keys: &AuthKeys, now: NaiveDateTime) -> Result<(), AuthError> {
    if row.revoked_at.is_some() || keys.revocations().is_revoked(row.id) {
        return Err(AuthError::ApiTokenRevoked);
    }
    if row.expires_at <= now {
        return Err(AuthError::ApiTokenExpired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifetime_is_one_to_366_days_thirty_by_default() {
        assert_eq!(lifetime(None).unwrap(), chrono::Duration::days(30));
        assert_eq!(lifetime(Some(366)).unwrap(), chrono::Duration::days(366));
        assert_eq!(lifetime(Some(0)).unwrap_err().field, "expires_in_days");
        assert_eq!(lifetime(Some(367)).unwrap_err().field, "expires_in_days");
    }

    #[test]
    fn only_tokens_with_the_prefix_are_api_tokens() {
        assert!(is_api_token(&format!("{PREFIX}abc")));
        assert!(!is_api_token("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }
}
