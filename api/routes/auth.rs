//! `/api/auth/*` and `/api/ws-ticket`: accounts, sessions, socket tickets.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::json::Json;
use crate::auth::AuthError;
use crate::auth::sessions::{self, device_label};
use crate::auth::{AuthUser, service};
use crate::db::sessions::Scope;
use crate::error::ApiResult;
use crate::ids::SessionId;
use crate::limits::Subject;
use crate::protocol::{ErrorBody, LoginRequest, RefreshRequest, RegisterRequest, Session, SessionList, WsTicket};
use crate::state::AppState;

/// The session's device label, from the User-Agent (kept for its owner, never logged).
fn device(req: &HttpRequest) -> Option<String> {
    device_label(req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()))
}

/// Create an account and start a session.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in", body = Session),
        (status = 409, description = "Username taken", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address (see Retry-After)", body = ErrorBody),
        (status = 503, description = "Too busy hashing passwords (see Retry-After)", body = ErrorBody),
    ))]
pub async fn register(
    req: HttpRequest,
    app: web::Data<AppState>,
    body: Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(sign_up(&req, &app, body.into_inner()).await?))
}

/// Registration as both `register`s do it (this one, and the web client's with a cookie).
pub(super) async fn sign_up(req: &HttpRequest, app: &AppState, body: RegisterRequest) -> ApiResult<Session> {
    app.limits.auth_attempt(app.limits.client_ip(req))?;
    let mut conn = app.db.get().await?;
    Ok(service::register(&mut conn, &app.keys, &app.hasher, &app.realtime, body, device(req).as_deref()).await?)
}

/// Log in with username and password. After five failures for a username from one address, each further
/// attempt from there must wait longer (1 s, 2 s, 4 s… up to 15 min); other addresses are not held up.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = Session),
        (status = 401, description = "Wrong username or password (the same answer for both)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address, or failures for this username from it (see Retry-After)", body = ErrorBody),
        (status = 503, description = "Too busy hashing passwords (see Retry-After)", body = ErrorBody),
    ))]
pub async fn login(req: HttpRequest, app: web::Data<AppState>, body: Json<LoginRequest>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sign_in(&req, &app, body.into_inner()).await?))
}

/// A login as both `login`s do it, slowed down after failures the same way.
pub(super) async fn sign_in(req: &HttpRequest, app: &AppState, body: LoginRequest) -> ApiResult<Session> {
    let ip = app.limits.client_ip(req);
    app.limits.auth_attempt(ip)?;
    let mut conn = app.db.get().await?;
    let subject = Subject::username(&body.username);
    let device = device(req);
    let attempt = service::login(&mut conn, &app.keys, &app.hasher, &app.realtime, body, device.as_deref());
    Ok(app.limits.sign_in(subject, ip, attempt, AuthError::is_wrong_secret).await??)
}

/// Spend a refresh token for a new access token (and a new refresh token) of the same session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "The session's new tokens", body = Session),
        (status = 401, description = "Unknown, expired or reused refresh token, or the session has ended", body = ErrorBody),
    ))]
pub async fn refresh(app: web::Data<AppState>, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let session = sessions::refresh(&mut conn, &app.keys, &app.realtime, &body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(session))
}

/// End the caller's session (the access token's): its refresh token and access tokens stop working at once.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Logged out"),
    ))]
pub async fn logout(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    sessions::end(&mut conn, &app.keys, &app.realtime, user.user_id, Scope::One(user.session_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// End every session of the caller, this one included.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth",
    responses(
        (status = 204, description = "Every session ended"),
    ))]
pub async fn logout_all(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    sessions::end(&mut conn, &app.keys, &app.realtime, user.user_id, Scope::All).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's live sessions, most recently used first.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "auth",
    responses(
        (status = 200, description = "Live sessions", body = SessionList),
    ))]
pub async fn list_sessions(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let sessions = sessions::list(&mut conn, &app.keys, &user).await?;
    Ok(HttpResponse::Ok().json(SessionList { sessions }))
}

/// End one of the caller's sessions (the caller's own included).
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "auth",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such live session of the caller (someone else's answers the same)", body = ErrorBody),
    ))]
pub async fn end_session(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<SessionId>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    sessions::end(&mut conn, &app.keys, &app.realtime, user.user_id, Scope::LiveOne(path.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A ticket that opens one WebSocket (`GET /ws?ticket=…`) for the caller's session, once, within 30 seconds:
/// browsers use it so that no long-lived token sits in a URL. At most 10 are outstanding per user (issuing
/// another drops the oldest). Issuing counts as the socket upgrade for the upgrade rate limits, and is refused
/// while the caller holds the most sockets allowed here: a browser cannot read why an upgrade was refused, but
/// it can read this answer.
#[utoipa::path(post, path = "/api/ws-ticket", tag = "auth",
    responses(
        (status = 201, description = "A fresh ticket", body = WsTicket),
        (status = 429, description = "Too many socket upgrades (`rate_limited`, see Retry-After), or the caller holds the most sockets allowed (`too_many_sockets`)", body = ErrorBody),
    ))]
pub async fn ws_ticket(req: HttpRequest, user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    crate::ws::admit_upgrade(&app, &user, &req)?;
    let mut conn = app.db.get().await?;
    let (ticket, expires_in) = crate::auth::tickets::issue(&mut conn, &user).await?;
    Ok(HttpResponse::Created().json(WsTicket { ticket, expires_in }))
}
