//! `/api/conversations/{id}/messages`: history, sending, edits and deletes.

use actix_web::{HttpResponse, web};

use super::json::Json;
use crate::auth::AuthUser;
use crate::chat::messages;
use crate::domain::{Page, PageCursors};
use crate::error::ApiResult;
use crate::ids::{ConversationId, Seq};
use crate::protocol::{EditMessageRequest, ErrorBody, HistoryQuery, Message, MessagePage, SendMessageRequest};
use crate::state::AppState;

/// History, by seq: the newest page, `before_seq` to page back, `after_seq` to catch up, `around_seq` to open a
/// message in context.
#[utoipa::path(operation_id = "list_messages", get, path = "/api/conversations/{id}/messages", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id"), HistoryQuery),
    responses(
        (status = 200, description = "Messages ascending by seq", body = MessagePage),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 422, description = "More than one cursor, or limit out of 1..100", body = ErrorBody),
    ))]
pub async fn history(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
    query: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let cursors =
        PageCursors { before_seq: query.before_seq, after_seq: query.after_seq, around_seq: query.around_seq };
    let page = Page::parse(cursors, query.limit)?;
    let mut conn = app.db.get().await?;
    let page = messages::history(&mut conn, user.user_id, path.into_inner(), page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Send a message: 201 when stored now, 200 with the original when the caller already sent this `client_id` here.
#[utoipa::path(operation_id = "send_message", post, path = "/api/conversations/{id}/messages", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id")), request_body = SendMessageRequest,
    responses(
        (status = 201, description = "Stored", body = Message),
        (status = 200, description = "The caller already sent this client_id here: the original", body = Message),
        (status = 403, description = "`attachment_unavailable`: an attachment id is not the caller's unsent upload to this conversation (nothing was stored)", body = ErrorBody),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 422, description = "Empty (without attachments) or overlong body, bad client_id, more than 10 or repeated attachment_ids, a reply_to_seq that is no message here", body = ErrorBody),
    ))]
pub async fn send(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
    body: Json<SendMessageRequest>,
) -> ApiResult<HttpResponse> {
    let draft = messages::Draft {
        client_id: &body.client_id,
        body: &body.body,
        attachment_ids: &body.attachment_ids,
        reply_to_seq: body.reply_to_seq,
    };
    let sent = messages::send(&app.writer, user.user_id, path.into_inner(), &draft).await?;
    Ok(if sent.created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(sent.message))
}

/// Edit your own message.
#[utoipa::path(operation_id = "edit_message", patch, path = "/api/conversations/{id}/messages/{seq}", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id"), ("seq" = i64, Path, description = "Message seq")),
    request_body = EditMessageRequest,
    responses(
        (status = 200, description = "Edited", body = Message),
        (status = 403, description = "Someone else's message", body = ErrorBody),
        (status = 404, description = "No such message, or not a member", body = ErrorBody),
        (status = 422, description = "Bad body, or a deleted message", body = ErrorBody),
    ))]
pub async fn edit(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, Seq)>,
    body: Json<EditMessageRequest>,
) -> ApiResult<HttpResponse> {
    let (id, seq) = path.into_inner();
    let mut conn = app.db.get().await?;
    let message = messages::edit(&mut conn, &app.realtime, user.user_id, id, seq, &body.body).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Delete your own message: a tombstone keeps its seq; its attachments are removed from storage.
#[utoipa::path(operation_id = "delete_message", delete, path = "/api/conversations/{id}/messages/{seq}", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id"), ("seq" = i64, Path, description = "Message seq")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Someone else's message", body = ErrorBody),
        (status = 404, description = "No such message, or not a member", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a timeline event, which cannot be deleted", body = ErrorBody),
    ))]
pub async fn delete(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, Seq)>,
) -> ApiResult<HttpResponse> {
    let (id, seq) = path.into_inner();
    let mut conn = app.db.get().await?;
    messages::delete(&mut conn, &app.realtime, &app.attachments.storage, user.user_id, id, seq).await?;
    Ok(HttpResponse::NoContent().finish())
}
