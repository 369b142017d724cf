//! `GET /ws`: authenticate before the upgrade, then hand the socket to its actor.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::extractor::{authenticate, bearer_token};
use crate::error::{ApiError, ApiResult};
use crate::realtime::session::{self, SessionContext};
use crate::startup::AllowedOrigins;

/// The token from `Authorization: Bearer` or `?token=`. The query string is read here and nowhere logged.
fn socket_token(req: &HttpRequest) -> Option<String> {
    if let Some(token) = bearer_token(req) {
        return Some(token.to_owned());
    }
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
}

pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    ctx: web::Data<Arc<SessionContext>>,
    origins: web::Data<AllowedOrigins>,
) -> ApiResult<HttpResponse> {
    // Browsers send Origin on every socket; a page from elsewhere must not ride the user's token.
    if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        if !origins.permits(origin, host) {
            return Err(ApiError::Forbidden("origin_not_allowed", "This origin may not open sockets here.".into()));
        }
    }
    let user = authenticate(&ctx.keys, socket_token(&req).as_deref())?;
    ctx.rate_limits.socket_upgrade(user.user_id, ctx.rate_limits.client_ip(&req))?;
    // Taken before the upgrade, and held by the socket for its life.
    let permit = ctx.quota.admit(user.user_id).ok_or_else(|| {
        ApiError::TooMany(
            "too_many_sockets",
            format!("You have {} sockets open here already; close one first.", ctx.quota.per_user()),
        )
    })?;
    let conn = ctx.db.get().await?;
    let opened = session::open(ctx.get_ref().clone(), user, permit, conn).await?;
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::BadRequest("not_a_websocket", format!("This route speaks WebSocket only: {e}.")))?;
    let actor = session::run(opened, session, stream);
    tracing::trace!(bytes = std::mem::size_of_val(&actor), "socket actor state");
    actix_web::rt::spawn(actor);
    Ok(response)
}
