use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::{AuthKeys, TokenError};
use crate::error::ApiError;

/// The caller, proven by `Authorization: Bearer <access token>`.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub user_id: i64,
    /// The session the token belongs to (the `sid` claim).
    pub session_id: i64,
    /// Unix seconds at which the token expires (the socket closes then unless it gets a fresh token).
    pub expires_at: i64,
}

pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A valid access token of a session that has not been revoked. The revocation check is a lookup in memory
/// ([`super::revocations::Revocations`]): no database round trip per request.
pub fn authenticate(keys: &AuthKeys, token: Option<&str>) -> Result<AuthUser, ApiError> {
    let token = token.ok_or_else(ApiError::unauthorized)?;
    let verified = match keys.verify(token) {
        Ok(verified) => verified,
        Err(TokenError::Expired) => {
            return Err(ApiError::Unauthorized("token_expired", TokenError::Expired.to_string()));
        }
        Err(TokenError::Invalid) => {
            return Err(ApiError::Unauthorized("invalid_token", TokenError::Invalid.to_string()));
        }
    };
    if keys.revocations().is_revoked(verified.session_id) {
        return Err(session_revoked());
    }
    Ok(AuthUser { user_id: verified.user_id, session_id: verified.session_id, expires_at: verified.expires_at })
}

pub fn session_revoked() -> ApiError {
    ApiError::Unauthorized("session_revoked", "This session has ended; log in again.".into())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.app_data::<web::Data<AuthKeys>>() {
            Some(keys) => authenticate(keys, bearer_token(req)),
            None => Err(ApiError::Internal("AuthKeys missing from app data".into())),
        };
        // Every authenticated REST call counts against its user's rate limit.
        let result = result.and_then(|user| match req.app_data::<web::Data<crate::limits::RateLimits>>() {
            Some(limits) => limits.rest_call(user.user_id).map(|()| user),
            None => Ok(user),
        });
        ready(result)
    }
}
