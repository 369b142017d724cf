//! Incoming webhooks: a secret URL that posts into one group as a bot user of its own. The owner or an admin
//! creates one (the bot joins the group, a `member_added` event like any other), lists and revokes them (the bot
//! leaves). A post is an ordinary send by the bot — the same storage, seq, idempotency and live fan-out — so a
//! bot removed from the group by hand can no longer post either.

use super::conversations::{self, require_member};
use super::messages::{self, Draft};
use super::writer::{MessageWriter, Sent};
use super::{ChatError, ChatResult};
use crate::auth::service::{hash_token, random_token};
use crate::db::models::{ConversationRow, NewUser, NewWebhook, WebhookRow};
use crate::db::{self, DbConn, users};
use crate::domain::{DisplayName, ValidationError};
use crate::ids::{ConversationId, UserId};
use crate::protocol::{ConversationKind, Webhook, WebhookMessage};
use crate::realtime::Realtime;

/// What every webhook secret starts with, so secret scanners can find a leaked URL.
pub const PREFIX: &str = "chat_hook_";
/// Live webhooks a conversation may have.
pub const MAX_PER_CONVERSATION: usize = 10;
/// No password hashes to this: a bot user cannot log in.
const NO_PASSWORD: &str = "!webhook bot: no password";

pub fn view(row: &WebhookRow) -> Webhook {
    Webhook {
        id: row.id,
        conversation_id: row.conversation_id.get(),
        name: row.name.clone(),
        bot_user_id: row.bot_user_id.get(),
        created_by: row.created_by.get(),
        created_at: row.created_at.and_utc(),
    }
}

/// The group, when `me` is its owner or an admin. Strangers (and people removed from it) get NotFound.
async fn require_manager(conn: &mut DbConn, id: ConversationId, me: UserId) -> ChatResult<ConversationRow> {
    let (conversation, membership) = require_member(conn, id, me).await?;
    if conversation.kind == ConversationKind::Direct {
        return Err(
            ValidationError::new("id", "Webhooks post into groups; a direct conversation has two members.").into()
        );
    }
    if !membership.role.can_manage() {
        return Err(ChatError::Forbidden("Only the owner or an admin can manage this conversation's webhooks."));
    }
    Ok(conversation)
}

/// Create a webhook and its bot; returns it with its secret (shown once, stored hashed).
pub async fn create(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    name: &str,
) -> ChatResult<(WebhookRow, String)> {
    let name = DisplayName::parse(name)
        .map_err(|e| ValidationError::new("name", e.message.replace("Display name", "Name")))?;
    require_manager(conn, id, me).await?;
    if db::webhooks::for_conversation(conn, id).await?.len() >= MAX_PER_CONVERSATION {
        return Err(ChatError::TooMany {
            code: "too_many_webhooks",
            message: "This conversation has 10 webhooks already; revoke one first.",
        });
    }
    let now = db::now();
    // Lower-case hex, as usernames are; 64 random bits make a clash with a taken name practically impossible.
    let username = format!("hook-{}", &hash_token(&random_token(16))[..16]);
    let bot = users::insert(
        conn,
        &NewUser { username: &username, display_name: name.as_str(), password_hash: NO_PASSWORD, created_at: now },
    )
    .await?;
    let secret = format!("{PREFIX}{}", random_token(32));
    let new = NewWebhook {
        conversation_id: id,
        bot_user_id: bot.id,
        name: name.as_str(),
        secret_hash: &hash_token(&secret),
        created_by: me,
        created_at: now,
    };
    let row = db::webhooks::insert(conn, &new).await?;
    if let Err(err) = conversations::add_member(conn, realtime, me, id, bot.id).await {
        // The caller lost the right in between: the hook never worked, and is not left working.
        db::webhooks::revoke(conn, id, row.id, now).await?;
        return Err(err);
    }
    Ok((row, secret))
}

pub async fn list(conn: &mut DbConn, me: UserId, id: ConversationId) -> ChatResult<Vec<Webhook>> {
    require_manager(conn, id, me).await?;
    Ok(db::webhooks::for_conversation(conn, id).await?.iter().map(view).collect())
}

/// Revoke a webhook: its URL is a 404 from now on, and its bot leaves the group.
pub async fn revoke(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    webhook_id: i64,
) -> ChatResult<()> {
    require_manager(conn, id, me).await?;
    let row = db::webhooks::revoke(conn, id, webhook_id, db::now()).await?.ok_or(ChatError::NotFound)?;
    match conversations::remove_member(conn, realtime, me, id, row.bot_user_id).await {
        // Someone removed the bot already.
        Ok(()) | Err(ChatError::NotFound) => Ok(()),
        Err(err) => Err(err),
    }
}

/// The live webhook a secret opens; NotFound for anything else, revealing nothing.
pub async fn find(conn: &mut DbConn, secret: &str) -> ChatResult<WebhookRow> {
    if !secret.starts_with(PREFIX) {
        return Err(ChatError::NotFound);
    }
    db::webhooks::by_secret_hash(conn, &hash_token(secret)).await?.ok_or(ChatError::NotFound)
}

/// Post as the webhook's bot: an ordinary send. Without a `client_id` every post is a new message.
pub async fn post(writer: &MessageWriter, hook: &WebhookRow, msg: &WebhookMessage) -> ChatResult<Sent> {
    let client_id = msg.client_id.clone().unwrap_or_else(|| format!("hook-{}", random_token(16)));
    let draft = Draft { client_id: &client_id, body: &msg.text, attachment_ids: &[], reply_to_seq: None };
    messages::send(writer, hook.bot_user_id, hook.conversation_id, &draft).await.map_err(|err| match err {
        // The post's field is `text`.
        ChatError::Validation(v) if v.field == "body" => {
            ChatError::Validation(ValidationError::new("text", v.message.replace("Message body", "Text")))
        }
        other => other,
    })
}
