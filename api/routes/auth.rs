use actix_web::{HttpRequest, HttpResponse, web};

use super::json::Json;
use super::resource;
use crate::auth::{AuthKeys, AuthUser, service};
use crate::db::DbPool;
use crate::error::ApiResult;
use crate::limits::RateLimits;
use crate::protocol::{ErrorBody, LoginRequest, RefreshRequest, RegisterRequest, Session};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/register").route(web::post().to(register)))
        .service(resource("/auth/login").route(web::post().to(login)))
        .service(resource("/auth/refresh").route(web::post().to(refresh)))
        .service(resource("/auth/logout").route(web::post().to(logout)));
}

/// Create an account and start a session.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in", body = Session),
        (status = 409, description = "Username taken", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address (see Retry-After)", body = ErrorBody),
    ))]
pub async fn register(
    req: HttpRequest,
    db: web::Data<DbPool>,
    keys: web::Data<AuthKeys>,
    limits: web::Data<RateLimits>,
    body: Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    limits.auth_attempt(limits.client_ip(&req), None)?;
    let mut conn = db.get().await?;
    let session = service::register(&mut conn, &keys, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(session))
}

/// Log in with username and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = Session),
        (status = 401, description = "Wrong username or password (the same answer for both)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this username (see Retry-After)", body = ErrorBody),
    ))]
pub async fn login(
    req: HttpRequest,
    db: web::Data<DbPool>,
    keys: web::Data<AuthKeys>,
    limits: web::Data<RateLimits>,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    limits.auth_attempt(limits.client_ip(&req), Some(&body.username))?;
    let mut conn = db.get().await?;
    let session = service::login(&mut conn, &keys, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(session))
}

/// Spend a refresh token for a new session (and a new refresh token).
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New session", body = Session),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = ErrorBody),
    ))]
pub async fn refresh(
    db: web::Data<DbPool>,
    keys: web::Data<AuthKeys>,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = db.get().await?;
    let session = service::refresh(&mut conn, &keys, &body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(session))
}

/// Revoke a refresh token and every token rotated from it.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = RefreshRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid access token", body = ErrorBody),
    ))]
pub async fn logout(user: AuthUser, db: web::Data<DbPool>, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let mut conn = db.get().await?;
    service::logout(&mut conn, user.user_id, &body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
