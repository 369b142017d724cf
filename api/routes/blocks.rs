//! `/api/users/me/blocks`: whom the caller has blocked.

use actix_web::{HttpResponse, web};

use crate::auth::AuthUser;
use crate::chat::blocks;
use crate::error::ApiResult;
use crate::ids::UserId;
use crate::protocol::{BlockList, ErrorBody};
use crate::state::AppState;

/// The users the caller has blocked, by username.
#[utoipa::path(operation_id = "list_blocks", get, path = "/api/users/me/blocks", tag = "users",
    responses(
        (status = 200, description = "Blocked users", body = BlockList),
    ))]
pub async fn list(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let blocked = blocks::list(&mut conn, user.user_id).await?;
    Ok(HttpResponse::Ok().json(BlockList { blocked }))
}

/// Block a user (idempotent): while either of two users has blocked the other, neither can open a direct
/// conversation with, add to a group, or add as a contact the other. Groups already shared stay.
#[utoipa::path(operation_id = "block_user", put, path = "/api/users/me/blocks/{user_id}", tag = "users",
    params(("user_id" = i64, Path, description = "The user to block")),
    responses(
        (status = 204, description = "Blocked (or already was)"),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "Yourself, or already 1000 blocks", body = ErrorBody),
    ))]
pub async fn block(user: AuthUser, app: web::Data<AppState>, path: web::Path<UserId>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    blocks::block(&mut conn, user.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Unblock a user (idempotent).
#[utoipa::path(operation_id = "unblock_user", delete, path = "/api/users/me/blocks/{user_id}", tag = "users",
    params(("user_id" = i64, Path, description = "The user to unblock")),
    responses(
        (status = 204, description = "Not blocked (any more)"),
    ))]
pub async fn unblock(user: AuthUser, app: web::Data<AppState>, path: web::Path<UserId>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    blocks::unblock(&mut conn, user.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
