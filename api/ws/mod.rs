//! The WebSocket at `/ws`: the upgrade (authentication, limits, registration with the hub before the 101), and
//! the socket actor that serves it. Above the chat rules, beside the REST routes: it calls `chat`, `realtime`,
//! `auth`, `limits` and `db`; nothing below calls it.

mod actor;
mod outlet;
mod session;
mod upgrade;

pub use upgrade::upgrade;

use crate::auth::access::Scope;
use crate::auth::{AuthUser, Need};
use crate::error::ApiError;
use crate::protocol::ClientFrame;
use crate::state::AppState;

pub(crate) fn too_many_sockets(app: &AppState) -> ApiError {
    ApiError::TooMany(
        "too_many_sockets",
        format!("You have {} sockets open here already; close one first.", app.quota.per_user()),
    )
}

/// The checks of a socket upgrade that a browser cannot read the answer of, made where it can (issuing a
/// ticket): the upgrade rate limits, and the socket cap (advisory here; the upgrade takes the place).
pub fn admit_upgrade(app: &AppState, user: &AuthUser, req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    app.limits.socket_upgrade(user.user_id, app.limits.client_ip(req))?;
    if app.quota.is_full(user.user_id) {
        return Err(too_many_sockets(app));
    }
    Ok(())
}

/// What a client frame needs of an API token's scopes (a login session's socket may send them all).
pub(crate) fn need_of(frame: &ClientFrame) -> Need {
    match frame {
        ClientFrame::NewMessage { .. } | ClientFrame::Typing { .. } | ClientFrame::React { .. } => {
            Need::Scope(Scope::Send)
        }
        ClientFrame::FetchMessages { .. } | ClientFrame::Read { .. } | ClientFrame::Delivered { .. } => {
            Need::Scope(Scope::Read)
        }
        ClientFrame::Auth { .. } => Need::Open,
    }
}
