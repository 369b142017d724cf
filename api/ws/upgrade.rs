//! `GET /ws`: authenticate before the upgrade, then hand the socket to its actor.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::session;
use crate::auth::access::Scope;
use crate::auth::extractor::{authenticate_any, bearer_token};
use crate::auth::{AuthError, Need};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The query parameter `key` (`ticket`, `token`). The query string is read here and nowhere logged.
fn query_param(req: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// The token (an access token or an API token) from `Authorization: Bearer` or `?token=`.
fn socket_token(req: &HttpRequest) -> Option<String> {
    bearer_token(req).map(str::to_owned).or_else(|| query_param(req, "token"))
}

pub async fn upgrade(req: HttpRequest, body: web::Payload, ctx: web::Data<AppState>) -> ApiResult<HttpResponse> {
    // Browsers send Origin on every socket; a page from elsewhere must not ride the user's token. Checked
    // against the configured origins, never the Host header (the sender chooses it).
    if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && !ctx.origins.permits(origin)
    {
        return Err(ApiError::Forbidden("origin_not_allowed", "This origin may not open sockets here.".into()));
    }
    // A single-use ticket (browsers), else an access token. The socket reads the user's conversations on the
    // same connection before the upgrade is answered, so a database outage is a clean 503.
    let (user, conn) = match query_param(&req, "ticket") {
        // The upgrade was counted when the ticket was issued.
        Some(ticket) => {
            let mut conn = ctx.db.get().await?;
            (crate::auth::tickets::redeem(&mut conn, &ctx.keys, &ticket).await?, conn)
        }
        None => {
            let user = authenticate_any(&ctx.db, &ctx.keys, socket_token(&req).as_deref()).await?;
            ctx.limits.socket_upgrade(user.user_id, ctx.limits.client_ip(&req))?;
            (user, ctx.db.get().await?)
        }
    };
    // A socket receives every event of the user's conversations: an API token needs `read` to open one.
    user.access.allows(Need::Scope(Scope::Read)).map_err(AuthError::InsufficientScope)?;
    // Taken before the upgrade, and held by the socket for its life.
    let permit = ctx.quota.admit(user.user_id).ok_or_else(|| super::too_many_sockets(&ctx))?;
    let opened = session::open(ctx.into_inner(), user, permit, conn).await?;
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::BadRequest("not_a_websocket", format!("This route speaks WebSocket only: {e}.")))?;
    let actor = session::run(opened, session, stream);
    tracing::trace!(bytes = std::mem::size_of_val(&actor), "socket actor state");
    actix_web::rt::spawn(actor);
    Ok(response)
}
