//! The caller of a REST route: `Authorization: Bearer <access token or API token>`, checked
//! (`auth::extractor`), held to what the route needs (the route table), and counted against the user's REST
//! rate limit (and an API token's own).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::auth::extractor::{AuthUser, authenticate_any, bearer_token};
use crate::auth::{Access, AuthError, Need};
use crate::error::ApiError;
use crate::state::AppState;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(app) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Box::pin(async { Err(ApiError::Internal("AppState missing from app data".into())) });
        };
        let token = bearer_token(req).map(str::to_owned);
        let need = super::need_of(req.method(), req.match_pattern().as_deref());
        Box::pin(async move { admit(&app, token.as_deref(), need).await })
    }
}

/// The caller of a request that needs `need`, with the rate limits applied.
pub async fn admit(app: &AppState, token: Option<&str>, need: Need) -> Result<AuthUser, ApiError> {
    let user = authenticate_any(&app.db, &app.keys, token).await?;
    user.access.allows(need).map_err(AuthError::InsufficientScope)?;
    // Every authenticated REST call counts against its user's rate limit, and a token's against its own too.
    app.limits.rest_call(user.user_id)?;
    if let Access::Token(_) = user.access {
        app.limits.token_call(user.session_id)?;
    }
    Ok(user)
}
