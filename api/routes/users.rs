//! `/api/users`: the caller's account and finding people.

use actix_web::{HttpRequest, HttpResponse, web};

use super::json::Json;
use crate::auth::AuthError;
use crate::auth::{AuthUser, service, service::public_user};
use crate::db::users;
use crate::domain::ValidationError;
use crate::error::{ApiError, ApiResult};
use crate::limits::Subject;
use crate::protocol::{ChangePasswordRequest, ErrorBody, UpdateProfileRequest, User, UserList, UserSearchQuery};
use crate::state::AppState;

/// Change the caller's password. Every other session of the caller ends; this one goes on. Wrong current
/// passwords are slowed down like failed logins (per account and address).
#[utoipa::path(operation_id = "change_password", post, path = "/api/users/me/password", tag = "users",
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; the caller's other sessions are ended"),
        (status = 403, description = "The current password is wrong (`wrong_password`)", body = ErrorBody),
        (status = 422, description = "The new password is too short or too long (field `new_password`)", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords from this address (see Retry-After)", body = ErrorBody),
        (status = 503, description = "Too busy hashing passwords (see Retry-After)", body = ErrorBody),
    ))]
pub async fn change_password(
    req: HttpRequest,
    user: AuthUser,
    app: web::Data<AppState>,
    body: Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let attempt = service::change_password(&mut conn, &app.hasher, &app.realtime, &user, body.into_inner());
    app.limits
        .sign_in(Subject::Account(user.user_id), app.limits.client_ip(&req), attempt, AuthError::is_wrong_secret)
        .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account.
#[utoipa::path(operation_id = "get_me", get, path = "/api/users/me", tag = "users",
    responses(
        (status = 200, description = "The caller", body = User),
    ))]
pub async fn me(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    // A token can outlive its account only if accounts are deleted; answer as for a bad token then.
    let row = users::by_id(&mut conn, user.user_id).await?.ok_or_else(ApiError::unauthorized)?;
    Ok(HttpResponse::Ok().json(public_user(&row)))
}

/// Change the caller's display name; their other sessions and everyone who shares a conversation with them get a
/// `user` frame.
#[utoipa::path(operation_id = "update_me", patch, path = "/api/users/me", tag = "users",
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "The caller, updated", body = User),
        (status = 422, description = "An empty, overlong (over 64 characters) or control-character name (field `display_name`)", body = ErrorBody),
    ))]
pub async fn update_me(
    user: AuthUser,
    app: web::Data<AppState>,
    body: Json<UpdateProfileRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let updated = crate::chat::profile::rename(&mut conn, &app.realtime, user.user_id, &body.display_name).await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// People whose username or display name holds `query` (at most 20, the caller excluded), best match first: the
/// username itself, usernames starting with it, display names with a word starting with it, then the rest.
#[utoipa::path(operation_id = "search_users", get, path = "/api/users", tag = "users", params(UserSearchQuery),
    responses(
        (status = 200, description = "Matching users", body = UserList),
        (status = 422, description = "Empty or overlong query", body = ErrorBody),
    ))]
pub async fn search(
    user: AuthUser,
    app: web::Data<AppState>,
    query: web::Query<UserSearchQuery>,
) -> ApiResult<HttpResponse> {
    // Counted as sent (lower-casing may change the length), as the spec's `maxLength` says.
    let needle = query.query.trim().to_lowercase();
    if needle.is_empty() || query.query.chars().count() > 32 {
        return Err(ValidationError::new("query", "query must be 1 to 32 characters long.").into());
    }
    // PostgreSQL's text cannot hold NUL: found by schemathesis as a 500 on that backend.
    if needle.contains('\0') {
        return Err(ValidationError::new("query", "query must not contain NUL characters.").into());
    }
    let mut conn = app.db.get().await?;
    let rows = users::search(&mut conn, &needle, user.user_id, 20).await?;
    Ok(HttpResponse::Ok().json(UserList { users: rows.iter().map(public_user).collect() }))
}
