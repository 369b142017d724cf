//! API tokens (`/api/tokens`) and incoming webhooks (`/api/conversations/{id}/webhooks`, `/api/hooks/{secret}`):
//! long-lived credentials for scripts and bots.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an API token may do. A token never manages tokens, webhooks, the account or its sessions: those need a
/// login session.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ApiTokenScope {
    /// Read conversations, history, search, people and files; mark read/delivered; open a socket.
    Read,
    /// Send, edit and delete messages; reactions, pins, typing, uploads.
    Send,
    /// Create conversations, rename, members and roles, notification settings, contacts, blocks.
    Manage,
}

impl ApiTokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiTokenScope::Read => "read",
            ApiTokenScope::Send => "send",
            ApiTokenScope::Manage => "manage",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateApiTokenRequest {
    /// 1–64 characters, to tell the caller's tokens apart (the rules of a display name).
    #[schema(
        example = "nightly backup",
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// At least one.
    #[schema(min_items = 1)]
    pub scopes: Vec<ApiTokenScope>,
    /// Days until it expires, 1–366 (default 30).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 366)]
    pub expires_in_days: Option<i64>,
}

/// An API token, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<ApiTokenScope>,
    pub created_at: DateTime<Utc>,
    /// After this it is refused (401 `token_expired`).
    pub expires_at: DateTime<Utc>,
    /// The last time it was used (to the minute), or null when never.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just created, with its secret: shown this once, stored only hashed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiToken {
    pub token: ApiToken,
    /// `Authorization: Bearer <secret>` on REST and on the socket.
    #[schema(example = "chat_pat_8f0Zq3…")]
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiTokenList {
    /// Not revoked (expired ones included), newest first.
    pub tokens: Vec<ApiToken>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    /// 1–64 characters: the bot's display name on its messages (the rules of a display name).
    #[schema(
        example = "CI",
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
}

/// An incoming webhook of a conversation, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Webhook {
    pub id: i64,
    pub conversation_id: i64,
    pub name: String,
    /// The bot user its messages are sent as (a member of the conversation).
    pub bot_user_id: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

/// A webhook just created, with its secret URL: shown this once, stored only hashed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    /// `POST` JSON `{"text": …}` here to post into the conversation; anyone holding it can.
    #[schema(example = "/api/hooks/chat_hook_Zk3…")]
    pub path: String,
    /// `path` on the address this request reached.
    #[schema(example = "https://chat.example.com/api/hooks/chat_hook_Zk3…")]
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    /// Live webhooks, oldest first.
    pub webhooks: Vec<Webhook>,
}

/// What a webhook posts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookMessage {
    /// The message: up to 4000 characters, no NUL, not all blank.
    #[schema(
        example = "deploy done",
        min_length = 1,
        max_length = 4000,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub text: String,
    /// Optional idempotency key, 1–64 printable characters: a resend with the same one answers the message
    /// already stored (200) instead of posting it twice.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[!-~]{1,64}$")]
    pub client_id: Option<String>,
}
