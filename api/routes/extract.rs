//! The caller of a REST route: `Authorization: Bearer <access token>`, checked (`auth::extractor`), and
//! counted against the user's REST rate limit.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::AuthKeys;
use crate::auth::extractor::{AuthUser, authenticate, bearer_token};
use crate::error::ApiError;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.app_data::<web::Data<AuthKeys>>() {
            Some(keys) => authenticate(keys, bearer_token(req)).map_err(ApiError::from),
            None => Err(ApiError::Internal("AuthKeys missing from app data".into())),
        };
        // Every authenticated REST call counts against its user's rate limit.
        let result = result.and_then(|user| match req.app_data::<web::Data<crate::limits::RateLimits>>() {
            Some(limits) => limits.rest_call(user.user_id).map(|()| user).map_err(ApiError::from),
            None => Ok(user),
        });
        ready(result)
    }
}
