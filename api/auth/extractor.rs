//! Who is calling: an access token's user and session, checked against the revoked sessions, or an API token's
//! (looked up by its hash). The HTTP extractor that applies this to REST calls lives with the routes
//! (`routes::extract`).

use actix_web::HttpRequest;
use actix_web::http::header;

use super::access::Access;
use super::jwt::{TokenError, VerifiedToken};
use super::{AuthError, AuthKeys, api_tokens};
use crate::db::DbPool;
use crate::ids::{SessionId, UserId};

/// The caller, proven by `Authorization: Bearer <access token>`.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub user_id: UserId,
    /// The session the token belongs to (the `sid` claim).
    pub session_id: SessionId,
    /// Unix seconds at which the token expires (the socket closes then unless it gets a fresh token).
    pub expires_at: i64,
    /// A login session may do everything; an API token what its scopes allow.
    pub access: Access,
}

pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A valid access token of a session that has not been revoked. The revocation check is a lookup in memory
/// ([`super::revocations::Revocations`]): no database round trip per request.
pub fn authenticate(keys: &AuthKeys, token: Option<&str>) -> Result<AuthUser, AuthError> {
    let token = token.ok_or(AuthError::MissingToken)?;
    admit(keys, keys.verify(token))
}

/// An API token (`chat_pat_…`), or else an access token as [`authenticate`] takes it.
pub async fn authenticate_any(db: &DbPool, keys: &AuthKeys, token: Option<&str>) -> Result<AuthUser, AuthError> {
    match token {
        Some(token) if api_tokens::is_api_token(token) => api_tokens::authenticate(db, keys, token).await,
        other => authenticate(keys, other),
    }
}

/// The same for a media token (`POST /api/media-token`), which only attachment downloads take.
pub fn authenticate_media(keys: &AuthKeys, token: &str) -> Result<AuthUser, AuthError> {
    admit(keys, keys.verify_media(token))
}

fn admit(keys: &AuthKeys, verified: Result<VerifiedToken, TokenError>) -> Result<AuthUser, AuthError> {
    let verified = verified.map_err(AuthError::Token)?;
    if keys.revocations().is_revoked(verified.session_id) {
        return Err(AuthError::SessionRevoked);
    }
    Ok(AuthUser {
        user_id: verified.user_id,
        session_id: verified.session_id,
        expires_at: verified.expires_at,
        access: Access::Session,
    })
}
