//! `GET /ws`: authenticate before the upgrade, then hand the socket to its actor.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::extractor::{authenticate, bearer_token};
use crate::db::conversations;
use crate::error::{ApiError, ApiResult};
use crate::realtime::session::{self, SessionContext};
use crate::startup::AllowedOrigins;

/// The query parameter `key` (`ticket`, `token`). The query string is read here and nowhere logged.
fn query_param(req: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// The token from `Authorization: Bearer` or `?token=`.
fn socket_token(req: &HttpRequest) -> Option<String> {
    bearer_token(req).map(str::to_owned).or_else(|| query_param(req, "token"))
}

pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    ctx: web::Data<Arc<SessionContext>>,
    origins: web::Data<AllowedOrigins>,
) -> ApiResult<HttpResponse> {
    // Browsers send Origin on every socket; a page from elsewhere must not ride the user's token. Checked
    // against the configured origins, never the Host header (the sender chooses it).
    if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && !origins.permits(origin)
    {
        return Err(ApiError::Forbidden("origin_not_allowed", "This origin may not open sockets here.".into()));
    }
    // A single-use ticket (browsers), else an access token.
    let user = match query_param(&req, "ticket") {
        Some(ticket) => {
            let mut conn = ctx.db.get().await?;
            crate::auth::tickets::redeem(&mut conn, &ctx.keys, &ticket).await?
        }
        None => authenticate(&ctx.keys, socket_token(&req).as_deref())?,
    };
    // The conversations to route to this socket; read before the upgrade so a database outage is a clean 503.
    let mut conn = ctx.db.get().await?;
    let conversations = conversations::positions_for_user(&mut conn, user.user_id).await?;
    drop(conn);
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::BadRequest("not_a_websocket", format!("This route speaks WebSocket only: {e}.")))?;
    let ctx = ctx.get_ref().clone();
    let actor = session::run(ctx, user.user_id, user.expires_at, conversations, session, stream);
    tracing::trace!(bytes = std::mem::size_of_val(&actor), "socket actor state");
    actix_web::rt::spawn(actor);
    Ok(response)
}
