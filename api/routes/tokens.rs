//! `/api/tokens`: the caller's API tokens. A login session only: a token cannot mint, list or revoke tokens.

use actix_web::{HttpResponse, web};

use super::json::Json;
use crate::auth::{AuthUser, api_tokens};
use crate::error::ApiResult;
use crate::ids::SessionId;
use crate::protocol::{ApiTokenList, CreateApiTokenRequest, CreatedApiToken, ErrorBody};
use crate::state::AppState;

/// Create an API token: `Authorization: Bearer <secret>` on REST and on the socket, within its scopes, until it
/// expires or is revoked. The secret is in this answer only (the server keeps its SHA-256).
#[utoipa::path(operation_id = "create_api_token", post, path = "/api/tokens", tag = "tokens", request_body = CreateApiTokenRequest,
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = CreatedApiToken),
        (status = 403, description = "`insufficient_scope`: called with an API token (tokens need a login session)", body = ErrorBody),
        (status = 422, description = "Bad name, no or unknown scopes, expires_in_days outside 1..366", body = ErrorBody),
        (status = 429, description = "`too_many_tokens`: the caller holds 20 live tokens; revoke one (or `rate_limited`)", body = ErrorBody),
    ))]
pub async fn create(
    user: AuthUser,
    app: web::Data<AppState>,
    body: Json<CreateApiTokenRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let created = api_tokens::create(&mut conn, &app.keys, &user, &body).await?;
    Ok(HttpResponse::Created().insert_header(("cache-control", "no-store")).json(created))
}

/// The caller's API tokens that are not revoked (expired ones included), newest first; never their secrets.
#[utoipa::path(operation_id = "list_api_tokens", get, path = "/api/tokens", tag = "tokens",
    responses(
        (status = 200, description = "The caller's tokens", body = ApiTokenList),
        (status = 403, description = "`insufficient_scope`: called with an API token", body = ErrorBody),
    ))]
pub async fn list(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let tokens = api_tokens::list(&mut conn, &user).await?;
    Ok(HttpResponse::Ok().json(ApiTokenList { tokens }))
}

/// Revoke one of the caller's API tokens: refused at once on every instance, its open sockets closed.
#[utoipa::path(operation_id = "revoke_api_token", delete, path = "/api/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "`insufficient_scope`: called with an API token", body = ErrorBody),
        (status = 404, description = "No such live token of the caller (someone else's answers the same)", body = ErrorBody),
    ))]
pub async fn revoke(user: AuthUser, app: web::Data<AppState>, path: web::Path<SessionId>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    api_tokens::revoke(&mut conn, &app.realtime, &user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
