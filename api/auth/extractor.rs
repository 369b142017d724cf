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
    /// The login session the token belongs to.
    pub session_id: i64,
    /// Unix seconds at which the token expires (the socket closes then unless it gets a fresh token).
    pub expires_at: i64,
}

pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub fn authenticate(keys: &AuthKeys, token: Option<&str>) -> Result<AuthUser, ApiError> {
    let token = token.ok_or_else(ApiError::unauthorized)?;
    match keys.verify(token) {
        Ok(verified) => Ok(AuthUser { user_id: verified.user_id, session_id: 0, expires_at: verified.expires_at }),
        Err(TokenError::Expired) => Err(ApiError::Unauthorized("token_expired", TokenError::Expired.to_string())),
        Err(TokenError::Invalid) => Err(ApiError::Unauthorized("invalid_token", TokenError::Invalid.to_string())),
    }
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
