//! The caller of a REST route: `Authorization: Bearer <access token>`, checked (`auth::extractor`), and
//! counted against the user's REST rate limit.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::extractor::{AuthUser, authenticate, bearer_token};
use crate::error::ApiError;
use crate::state::AppState;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(app) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::Internal("AppState missing from app data".into())));
        };
        // Every authenticated REST call counts against its user's rate limit.
        let result = authenticate(&app.keys, bearer_token(req))
            .map_err(ApiError::from)
            .and_then(|user| app.limits.rest_call(user.user_id).map(|()| user).map_err(ApiError::from));
        ready(result)
    }
}
