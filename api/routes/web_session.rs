//! `/api/auth/web/*`: sessions for the browser. The refresh token lives in an `HttpOnly; Secure; SameSite=Strict`
//! cookie scoped to this path, so no script on the page can read it and it outlives the tab; the access token
//! is answered in the body for the page to keep in memory. Against cross-site request forgery, every call here
//! must carry an `Origin` the server admits (browsers send it on every POST and a page cannot forge it), on top
//! of SameSite=Strict. Other clients keep the JSON-body endpoints beside these.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::{sign_in, sign_up};
use super::json::Json;
use crate::auth::AuthUser;
use crate::auth::sessions;
use crate::db::sessions::Scope;
use crate::error::{ApiError, ApiResult};
use crate::protocol::{ErrorBody, LoginRequest, RegisterRequest, Session, WebSession};
use crate::state::AppState;

pub const COOKIE: &str = "chat_refresh";
const COOKIE_PATH: &str = "/api/auth/web";

/// Only a page of an admitted origin may use its cookie here.
fn same_origin(req: &HttpRequest, app: &AppState) -> ApiResult<()> {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match origin {
        Some(origin) if app.origins.permits(origin) => Ok(()),
        _ => Err(ApiError::Forbidden("bad_origin", "Send this from the web client's own origin.".into())),
    }
}

/// The refresh token from the request's cookie.
fn refresh_cookie(req: &HttpRequest) -> Option<String> {
    let cookies = req.headers().get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// `Set-Cookie` for a refresh token (`Max-Age` its idle lifetime), or one that removes the cookie.
fn set_cookie(app: &AppState, token: Option<&str>) -> (header::HeaderName, String) {
    let (value, max_age) = match token {
        Some(token) => (token, app.keys.refresh_ttl().as_secs()),
        None => ("", 0),
    };
    let secure = if app.cookie_secure { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    (header::SET_COOKIE, cookie)
}

fn answer(app: &AppState, mut response: actix_web::HttpResponseBuilder, session: Session) -> HttpResponse {
    let cookie = set_cookie(app, Some(&session.refresh_token));
    response.insert_header(cookie).insert_header((header::CACHE_CONTROL, "no-store")).json(WebSession::from(session))
}

/// Register and start a browser session (the refresh token set as a cookie).
#[utoipa::path(operation_id = "web_register", post, path = "/api/auth/web/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in; `Set-Cookie: chat_refresh=…; HttpOnly; Secure; SameSite=Strict`", body = WebSession),
        (status = 403, description = "`bad_origin`: no admitted `Origin`", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address (see Retry-After)", body = ErrorBody),
    ))]
pub async fn register(
    req: HttpRequest,
    app: web::Data<AppState>,
    body: Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    same_origin(&req, &app)?;
    let session = sign_up(&req, &app, body.into_inner()).await?;
    Ok(answer(&app, HttpResponse::Created(), session))
}

/// Log in and start a browser session (the refresh token set as a cookie); failures slow down as for `login`.
#[utoipa::path(operation_id = "web_login", post, path = "/api/auth/web/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the refresh token set as the `chat_refresh` cookie", body = WebSession),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 403, description = "`bad_origin`: no admitted `Origin`", body = ErrorBody),
        (status = 429, description = "Too many attempts (see Retry-After)", body = ErrorBody),
    ))]
pub async fn login(req: HttpRequest, app: web::Data<AppState>, body: Json<LoginRequest>) -> ApiResult<HttpResponse> {
    same_origin(&req, &app)?;
    let session = sign_in(&req, &app, body.into_inner()).await?;
    Ok(answer(&app, HttpResponse::Ok(), session))
}

/// Spend the cookie's refresh token for a new access token; the cookie is replaced by the next one. A spent or
/// unknown token is refused and the cookie removed (a spent one also ends its session, as for `refresh`).
#[utoipa::path(operation_id = "web_refresh", post, path = "/api/auth/web/refresh", tag = "auth",
    responses(
        (status = 200, description = "The session's new access token; a new `chat_refresh` cookie", body = WebSession),
        (status = 401, description = "No cookie, or its token is unknown, expired or spent (the cookie is removed)", body = ErrorBody),
        (status = 403, description = "`bad_origin`: no admitted `Origin`", body = ErrorBody),
    ))]
pub async fn refresh(req: HttpRequest, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    same_origin(&req, &app)?;
    let Some(token) = refresh_cookie(&req) else {
        return Err(ApiError::Unauthorized("unauthorized", "No session cookie: log in.".into()));
    };
    let mut conn = app.db.get().await?;
    match sessions::refresh(&mut conn, &app.keys, &app.realtime, &token).await {
        Ok(session) => Ok(answer(&app, HttpResponse::Ok(), session)),
        Err(err) => {
            let mut refused = actix_web::ResponseError::error_response(&ApiError::from(err));
            let (name, value) = set_cookie(&app, None);
            if let Ok(value) = header::HeaderValue::from_str(&value) {
                refused.headers_mut().insert(name, value);
            }
            Ok(refused)
        }
    }
}

/// End the caller's session and remove the cookie.
#[utoipa::path(operation_id = "web_logout", post, path = "/api/auth/web/logout", tag = "auth",
    responses(
        (status = 204, description = "Logged out; the cookie removed"),
        (status = 403, description = "`bad_origin`: no admitted `Origin`", body = ErrorBody),
    ))]
pub async fn logout(req: HttpRequest, user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    same_origin(&req, &app)?;
    let mut conn = app.db.get().await?;
    sessions::end(&mut conn, &app.keys, &app.realtime, user.user_id, Scope::One(user.session_id)).await?;
    Ok(HttpResponse::NoContent().insert_header(set_cookie(&app, None)).finish())
}
