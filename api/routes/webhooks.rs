//! Incoming webhooks: `/api/conversations/{id}/webhooks` (owner or admin, login session) and the secret URL
//! `/api/hooks/{secret}` that scripts post to without any other credential.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use super::MAX_BODY_BYTES;
use super::json::Json;
use crate::auth::AuthUser;
use crate::chat::webhooks;
use crate::error::{ApiError, ApiResult};
use crate::ids::ConversationId;
use crate::protocol::{CreateWebhookRequest, CreatedWebhook, ErrorBody, Message, WebhookList, WebhookMessage};
use crate::state::AppState;

/// Create an incoming webhook: its bot (named `name`) joins the group, and its secret URL posts as the bot.
/// The URL is in this answer only (the server keeps its secret's SHA-256).
#[utoipa::path(operation_id = "create_webhook", post, path = "/api/conversations/{id}/webhooks", tag = "webhooks",
    params(("id" = i64, Path, description = "Conversation id")), request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Created; `url` is shown this once", body = CreatedWebhook),
        (status = 403, description = "A member who is not the owner or an admin (`forbidden`), or an API token (`insufficient_scope`)", body = ErrorBody),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 422, description = "Bad name, or a direct conversation", body = ErrorBody),
        (status = 429, description = "`too_many_webhooks`: the conversation has 10 (or `rate_limited`)", body = ErrorBody),
    ))]
pub async fn create(
    req: HttpRequest,
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
    body: Json<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let (row, secret) = webhooks::create(&mut conn, &app.realtime, user.user_id, path.into_inner(), &body.name).await?;
    let hook_path = format!("/api/hooks/{secret}");
    let info = req.connection_info();
    let url = format!("{}://{}{hook_path}", info.scheme(), info.host());
    let created = CreatedWebhook { webhook: webhooks::view(&row), path: hook_path, url };
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(created))
}

/// The conversation's live webhooks, oldest first; never their URLs.
#[utoipa::path(operation_id = "list_webhooks", get, path = "/api/conversations/{id}/webhooks", tag = "webhooks",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "Live webhooks", body = WebhookList),
        (status = 403, description = "Not the owner or an admin, or an API token", body = ErrorBody),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 422, description = "A direct conversation (webhooks are for groups)", body = ErrorBody),
    ))]
pub async fn list(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let webhooks = webhooks::list(&mut conn, user.user_id, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookList { webhooks }))
}

/// Revoke a webhook: its URL answers 404 from now on (on every instance), and its bot leaves the group.
#[utoipa::path(operation_id = "revoke_webhook", delete, path = "/api/conversations/{id}/webhooks/{webhook_id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Conversation id"), ("webhook_id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not the owner or an admin, or an API token", body = ErrorBody),
        (status = 404, description = "No such live webhook of this conversation, or not a member", body = ErrorBody),
        (status = 422, description = "A direct conversation (webhooks are for groups)", body = ErrorBody),
    ))]
pub async fn revoke(
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<(ConversationId, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, webhook_id) = path.into_inner();
    let mut conn = app.db.get().await?;
    webhooks::revoke(&mut conn, &app.realtime, user.user_id, id, webhook_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Post a message as the webhook's bot: 201 with the stored message, or 200 with the original when this
/// `client_id` was posted before. JSON (`Content-Type: application/json`); a JSON body sent as a form, as
/// `curl -d` does, is taken too (and Slack's `payload=<json>` form field). An unknown or revoked URL is a 404.
#[utoipa::path(operation_id = "post_webhook", post, path = "/api/hooks/{secret}", tag = "webhooks",
    params(("secret" = String, Path, description = "The webhook's secret, from its URL")),
    request_body = WebhookMessage,
    responses(
        (status = 201, description = "Posted", body = Message),
        (status = 200, description = "This client_id was posted here before: the original", body = Message),
        (status = 400, description = "`malformed_json`: the body is not JSON", body = ErrorBody),
        (status = 404, description = "No such live webhook (or its bot was removed from the group)", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Neither JSON nor a form", body = ErrorBody),
        (status = 422, description = "Empty or overlong `text`, a bad `client_id`, or a body of the wrong shape", body = ErrorBody),
        (status = 429, description = "Too many posts to this webhook (`rate_limited`, see Retry-After)", body = ErrorBody),
    ))]
pub async fn post(
    req: HttpRequest,
    app: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let mut conn = app.db.get().await?;
    let hook = webhooks::find(&mut conn, &path).await?;
    drop(conn);
    app.limits.webhook_post(hook.id)?;
    let msg = hook_message(&req, body).await?;
    let sent = webhooks::post(&app.writer, &hook, &msg).await?;
    Ok(if sent.created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(sent.message))
}

/// The body of a post: JSON, or JSON sent as a form (`curl -d` without a content type; Slack's `payload=`).
async fn hook_message(req: &HttpRequest, body: web::Payload) -> ApiResult<WebhookMessage> {
    let form = match req.mime_type() {
        Ok(Some(mime)) if mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON) => false,
        Ok(Some(mime)) if mime.type_() == mime::APPLICATION && mime.subtype() == mime::WWW_FORM_URLENCODED => true,
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    let bytes = body
        .to_bytes_limited(MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_BODY_BYTES))?
        .map_err(|e| ApiError::BadRequest("bad_request", format!("The body could not be read: {e}.")))?;
    let payload = form
        .then(|| url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "payload").map(|(_, v)| v.into_owned()))
        .flatten();
    match payload {
        Some(json) => crate::json::parse(json.as_bytes()),
        None => crate::json::parse(&bytes),
    }
}
