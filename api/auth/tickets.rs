//! Socket tickets: a browser cannot set headers on a WebSocket, and a long-lived access token in a URL ends up
//! in logs and histories. Instead it asks (with its token) for a ticket that opens one socket, once, within
//! 30 seconds: `GET /ws?ticket=…`.

use std::time::Duration;

use super::service::{hash_token, random_token};
use super::{AuthError, AuthKeys, AuthUser};
use crate::db::sessions::Clock;
use crate::db::tickets::{self, NewTicket};
use crate::db::{self, DbConn};

pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// Tickets a user may have outstanding; issuing another drops the oldest.
pub const MAX_OUTSTANDING: usize = 10;

/// A new ticket for the caller's session; returns it and its lifetime in seconds.
pub async fn issue(conn: &mut DbConn, caller: &AuthUser) -> Result<(String, i64), AuthError> {
    let ticket = random_token(32);
    let now = db::now();
    let ttl = chrono::Duration::from_std(TICKET_TTL).unwrap_or(chrono::Duration::seconds(30));
    let new = NewTicket {
        ticket_hash: hash_token(&ticket),
        user_id: caller.user_id,
        session_id: caller.session_id,
        expires_at: now + ttl,
        created_at: now,
    };
    tickets::issue(conn, &new, MAX_OUTSTANDING).await?;
    Ok((ticket, ttl.num_seconds()))
}

/// Redeem a ticket (once, on any instance) for the user and session it was issued to. Unknown, used and
/// expired tickets are `InvalidTicket`; a ticket of a session that has ended since is `SessionRevoked`.
/// The socket then lives as long as an access token issued now would (or until the session's end).
pub async fn redeem(conn: &mut DbConn, keys: &AuthKeys, ticket: &str) -> Result<AuthUser, AuthError> {
    let now = db::now();
    let (user_id, session_id, expires_at) =
        tickets::take(conn, &hash_token(ticket)).await?.ok_or(AuthError::InvalidTicket)?;
    if expires_at <= now {
        return Err(AuthError::InvalidTicket);
    }
    if keys.revocations().is_revoked(session_id) {
        return Err(AuthError::SessionRevoked);
    }
    let refresh_ttl = chrono::Duration::from_std(keys.refresh_ttl()).unwrap_or(chrono::Duration::days(30));
    let session =
        db::sessions::live(conn, session_id, Clock { now, refresh_ttl }).await?.ok_or(AuthError::SessionRevoked)?;
    if session.api_token_hash.is_some() {
        // An API token's socket lives as long as the token (it cannot be renewed with a fresh access token).
        return Ok(super::api_tokens::as_caller(user_id, &session));
    }
    let access_ttl = chrono::Duration::from_std(keys.access_ttl()).unwrap_or(chrono::Duration::minutes(15));
    let ends = (now + access_ttl).min(session.expires_at);
    Ok(AuthUser { user_id, session_id, expires_at: ends.and_utc().timestamp(), access: super::Access::Session })
}
