//! `/api/conversations`: conversations, members, read positions.

use actix_web::{HttpResponse, web};

use super::json::Json;
use crate::auth::AuthUser;
use crate::chat::{conversations, notifications};
use crate::error::ApiResult;
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{
    AddMemberRequest, ChangeRoleRequest, Conversation, ConversationList, CreateConversationRequest, ErrorBody,
    NotificationSettings, NotificationsRequest, ReadRequest, ReadState, RenameConversationRequest,
};
use crate::state::AppState;

/// Open the direct conversation with a user (200 with the existing one), or create a group (201).
#[utoipa::path(operation_id = "create_conversation", post, path = "/api/conversations", tag = "conversations",
    request_body = CreateConversationRequest,
    responses(
        (status = 201, description = "Created", body = Conversation),
        (status = 200, description = "The existing direct conversation with that user", body = Conversation),
        (status = 403, description = "A block between you and the user, or one of the members (`forbidden`, or `blocked_by_you` when it is yours; groups name the field `member_ids`)", body = ErrorBody),
        (status = 422, description = "Bad title, yourself, or unknown users", body = ErrorBody),
    ))]
pub async fn create(
    user: AuthUser,
    app: web::Data<AppState>,
    body: Json<CreateConversationRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    match body.into_inner() {
        CreateConversationRequest::Direct { user_id } => {
            let (conversation, created) =
                conversations::open_direct(&mut conn, &app.realtime, user.user_id, UserId(user_id)).await?;
            Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(conversation))
        }
        CreateConversationRequest::Group { title, member_ids } => {
            let conversation = conversations::create_group(
                &mut conn,
                &app.realtime,
                user.user_id,
                &title,
                &member_ids.iter().copied().map(UserId).collect::<Vec<_>>(),
            )
            .await?;
            Ok(HttpResponse::Created().json(conversation))
        }
    }
}

/// The caller's conversations, most recent activity first.
#[utoipa::path(operation_id = "list_conversations", get, path = "/api/conversations", tag = "conversations",
    responses(
        (status = 200, description = "Conversations", body = ConversationList),
    ))]
pub async fn list(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let conversations = conversations::list(&mut conn, &app.realtime, user.user_id).await?;
    Ok(HttpResponse::Ok().json(ConversationList { conversations }))
}

/// One conversation (404 for non-members, as for one that does not exist).
#[utoipa::path(operation_id = "get_conversation", get, path = "/api/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation", body = Conversation),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
    ))]
pub async fn get(user: AuthUser, app: web::Data<AppState>, path: web::Path<ConversationId>) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let conversation = conversations::view(&mut conn, &app.realtime, path.into_inner(), user.user_id).await?;
    Ok(HttpResponse::Ok().json(conversation))
}

/// Rename a group (owner or admin).
#[utoipa::path(operation_id = "rename_conversation", patch, path = "/api/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path, description = "Conversation id")), request_body = RenameConversationRequest,
    responses(
        (status = 200, description = "Renamed", body = Conversation),
        (status = 403, description = "Not owner or admin", body = ErrorBody),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 422, description = "Bad title, or a direct conversation", body = ErrorBody),
    ))]
pub async fn rename(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
    body: Json<RenameConversationRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let conversation =
        conversations::rename(&mut conn, &app.realtime, user.user_id, path.into_inner(), &body.title).await?;
    Ok(HttpResponse::Ok().json(conversation))
}

/// Add a member to a group (owner or admin).
#[utoipa::path(operation_id = "add_member", post, path = "/api/conversations/{id}/members", tag = "conversations",
    params(("id" = i64, Path, description = "Conversation id")), request_body = AddMemberRequest,
    responses(
        (status = 200, description = "The conversation with its members", body = Conversation),
        (status = 403, description = "Not owner or admin; or a block between you and the user (`blocked_by_you` when it is yours)", body = ErrorBody),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 422, description = "Unknown user, or a direct conversation", body = ErrorBody),
    ))]
pub async fn add_member(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
    body: Json<AddMemberRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let conversation =
        conversations::add_member(&mut conn, &app.realtime, user.user_id, path.into_inner(), UserId(body.user_id))
            .await?;
    Ok(HttpResponse::Ok().json(conversation))
}

/// Leave a group (your own id), or remove a member (owner or admin; only the owner removes admins).
#[utoipa::path(operation_id = "remove_member", delete, path = "/api/conversations/{id}/members/{user_id}", tag = "conversations",
    params(("id" = i64, Path, description = "Conversation id"), ("user_id" = i64, Path, description = "Member to remove")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not allowed to remove that member", body = ErrorBody),
        (status = 404, description = "No such conversation or member", body = ErrorBody),
        (status = 422, description = "A direct conversation", body = ErrorBody),
    ))]
pub async fn remove_member(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, UserId)>,
) -> ApiResult<HttpResponse> {
    let (id, member) = path.into_inner();
    let mut conn = app.db.get().await?;
    conversations::remove_member(&mut conn, &app.realtime, user.user_id, id, member).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark messages up to a seq as read (the position never moves back).
#[utoipa::path(operation_id = "mark_read", post, path = "/api/conversations/{id}/read", tag = "conversations",
    params(("id" = i64, Path, description = "Conversation id")), request_body = ReadRequest,
    responses(
        (status = 200, description = "The read position", body = ReadState),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 422, description = "Negative seq", body = ErrorBody),
    ))]
pub async fn mark_read(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
    body: Json<ReadRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let state = crate::chat::receipts::mark_read(
        &mut conn,
        &app.realtime,
        user.user_id,
        path.into_inner(),
        Seq(body.up_to_seq),
    )
    .await?;
    Ok(HttpResponse::Ok().json(state))
}

/// Give a member a role (owner only): `admin`, `member`, or `owner` to hand the group over (you become an admin).
#[utoipa::path(operation_id = "change_member_role", patch, path = "/api/conversations/{id}/members/{user_id}", tag = "conversations",
    params(("id" = i64, Path, description = "Conversation id"), ("user_id" = i64, Path, description = "The member")),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "The conversation with its members", body = Conversation),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "No such conversation or member, or not a member", body = ErrorBody),
        (status = 422, description = "A direct conversation, your own role, or an unknown role", body = ErrorBody),
    ))]
pub async fn change_role(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, UserId)>,
    body: Json<ChangeRoleRequest>,
) -> ApiResult<HttpResponse> {
    let (id, member) = path.into_inner();
    let mut conn = app.db.get().await?;
    let conversation = conversations::set_role(&mut conn, &app.realtime, user.user_id, id, member, body.role).await?;
    Ok(HttpResponse::Ok().json(conversation))
}

/// Your notification level here: `all`, `mentions` (muted but for mentions) or `nothing`, optionally until a time.
#[utoipa::path(operation_id = "set_notifications", put, path = "/api/conversations/{id}/notifications", tag = "conversations",
    params(("id" = i64, Path, description = "Conversation id")), request_body = NotificationsRequest,
    responses(
        (status = 200, description = "The level now", body = NotificationSettings),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 422, description = "An unknown level; `until` with `all`, in the past, or over a year ahead", body = ErrorBody),
    ))]
pub async fn set_notifications(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
    body: Json<NotificationsRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let wanted = NotificationSettings::from(body.into_inner());
    let settings = notifications::set(&mut conn, &app.realtime, user.user_id, path.into_inner(), &wanted).await?;
    Ok(HttpResponse::Ok().json(settings))
}
