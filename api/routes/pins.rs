//! `/api/conversations/{id}/pins`: pinned messages.

use actix_web::{HttpResponse, web};

use crate::auth::AuthUser;
use crate::chat::pins;
use crate::error::ApiResult;
use crate::ids::{ConversationId, Seq};
use crate::protocol::{ErrorBody, Pin, PinList};
use crate::state::AppState;

/// The conversation's pinned messages, newest pin first.
#[utoipa::path(operation_id = "list_pins", get, path = "/api/conversations/{id}/pins", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "Pins", body = PinList),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
    ))]
pub async fn list(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    Ok(HttpResponse::Ok().json(pins::list(&mut conn, user.user_id, path.into_inner()).await?))
}

/// Pin a message (groups: owner or admin; direct chats: either person); pinning twice changes nothing.
#[utoipa::path(operation_id = "pin_message", put, path = "/api/conversations/{id}/pins/{seq}", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id"), ("seq" = i64, Path, description = "Message seq")),
    responses(
        (status = 200, description = "The pin", body = Pin),
        (status = 403, description = "A member of a group (only the owner and admins pin)", body = ErrorBody),
        (status = 404, description = "No such message, or not a member", body = ErrorBody),
        (status = 409, description = "`too_many_pins`: 50 pins already", body = ErrorBody),
        (status = 422, description = "A deleted message", body = ErrorBody),
    ))]
pub async fn pin(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, Seq)>,
) -> ApiResult<HttpResponse> {
    let (id, seq) = path.into_inner();
    let mut conn = app.db.get().await?;
    match pins::set(&mut conn, &app.realtime, user.user_id, id, seq, true).await? {
        Some(pin) => Ok(HttpResponse::Ok().json(pin)),
        // Unpinned by someone else between the pin and reading it back.
        None => Err(crate::chat::ChatError::NotFound.into()),
    }
}

/// Unpin a message (who may pin may unpin); unpinning what is not pinned changes nothing.
#[utoipa::path(operation_id = "unpin_message", delete, path = "/api/conversations/{id}/pins/{seq}", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id"), ("seq" = i64, Path, description = "Message seq")),
    responses(
        (status = 204, description = "Not pinned (any more)"),
        (status = 403, description = "A member of a group", body = ErrorBody),
        (status = 404, description = "Not a member", body = ErrorBody),
    ))]
pub async fn unpin(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, Seq)>,
) -> ApiResult<HttpResponse> {
    let (id, seq) = path.into_inner();
    let mut conn = app.db.get().await?;
    pins::set(&mut conn, &app.realtime, user.user_id, id, seq, false).await?;
    Ok(HttpResponse::NoContent().finish())
}
