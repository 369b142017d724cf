//! `/api/conversations/{id}/messages/{seq}/reactions/{emoji}`: a member's reaction on a message.

use actix_web::{HttpResponse, web};

use crate::auth::AuthUser;
use crate::chat::reactions;
use crate::error::ApiResult;
use crate::ids::{ConversationId, Seq};
use crate::protocol::{ErrorBody, MessageReactions};
use crate::state::AppState;

/// React to a message with one emoji (URL-encoded); reacting twice changes nothing.
#[utoipa::path(operation_id = "add_reaction", put, path = "/api/conversations/{id}/messages/{seq}/reactions/{emoji}", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id"), ("seq" = i64, Path, description = "Message seq"),
        ("emoji" = String, Path, description = "One emoji, URL-encoded")),
    responses(
        (status = 200, description = "The message's reactions", body = MessageReactions),
        (status = 404, description = "No such message, or not a member", body = ErrorBody),
        (status = 409, description = "`too_many_reactions`: the message holds 20 different emojis already", body = ErrorBody),
        (status = 422, description = "Not exactly one emoji, or a deleted message", body = ErrorBody),
    ))]
pub async fn add(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, Seq, String)>,
) -> ApiResult<HttpResponse> {
    react(user, app, path, true).await
}

/// Take back your reaction; taking back one you never made changes nothing.
#[utoipa::path(operation_id = "remove_reaction", delete, path = "/api/conversations/{id}/messages/{seq}/reactions/{emoji}", tag = "messages",
    params(("id" = i64, Path, description = "Conversation id"), ("seq" = i64, Path, description = "Message seq"),
        ("emoji" = String, Path, description = "One emoji, URL-encoded")),
    responses(
        (status = 200, description = "The message's reactions", body = MessageReactions),
        (status = 404, description = "No such message, or not a member", body = ErrorBody),
        (status = 422, description = "Not exactly one emoji, or a deleted message", body = ErrorBody),
    ))]
pub async fn remove(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, Seq, String)>,
) -> ApiResult<HttpResponse> {
    react(user, app, path, false).await
}

async fn react(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, Seq, String)>,
    on: bool,
) -> ApiResult<HttpResponse> {
    let (id, seq, emoji) = path.into_inner();
    let mut conn = app.db.get().await?;
    let reactions = reactions::react(&mut conn, &app.realtime, user.user_id, id, seq, &emoji, on).await?;
    Ok(HttpResponse::Ok().json(reactions))
}
