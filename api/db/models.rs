//! Rows as stored. Conversion into the wire types of [`crate::protocol`] lives next to those types' users.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;
use crate::ids::{ConversationId, Seq, SessionId, UserId};
use crate::protocol::{ConversationKind, Role};

// Roles and kinds are enums in code and their snake_case names in the database (a CHECK keeps them to those).

impl From<Role> for String {
    fn from(role: Role) -> String {
        role.as_str().to_owned()
    }
}

impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(stored: String) -> Result<Self, String> {
        Role::from_name(&stored).ok_or_else(|| format!("unknown role {stored:?}"))
    }
}

impl From<ConversationKind> for String {
    fn from(kind: ConversationKind) -> String {
        kind.as_str().to_owned()
    }
}

impl TryFrom<String> for ConversationKind {
    type Error = String;

    fn try_from(stored: String) -> Result<Self, String> {
        match stored.as_str() {
            "direct" => Ok(ConversationKind::Direct),
            "group" => Ok(ConversationKind::Group),
            _ => Err(format!("unknown conversation kind {stored:?}")),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: SessionId,
    pub user_id: UserId,
    pub device: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// Set for an API token's session (see `auth::api_tokens`).
    pub api_token_hash: Option<String>,
    pub scopes: Option<String>,
}

/// An API token: a session with no refresh tokens, found by its secret's hash.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewTokenSession<'a> {
    pub user_id: UserId,
    /// The token's name, shown to its owner.
    pub device: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub api_token_hash: Option<&'a str>,
    pub scopes: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub bot_user_id: UserId,
    pub name: String,
    pub secret_hash: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook<'a> {
    pub conversation_id: ConversationId,
    pub bot_user_id: UserId,
    pub name: &'a str,
    pub secret_hash: &'a str,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub user_id: UserId,
    pub device: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: i64,
    pub user_id: UserId,
    pub session_id: SessionId,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub token_hash: &'a str,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = conversations)]
pub struct ConversationRow {
    pub id: ConversationId,
    #[diesel(deserialize_as = String)]
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub created_by: UserId,
    pub direct_key: Option<String>,
    pub last_seq: Seq,
    pub last_message_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// Bumped by every membership or metadata change (see the live-delivery migration).
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = conversations)]
pub struct NewConversation<'a> {
    #[diesel(serialize_as = String)]
    pub kind: ConversationKind,
    pub title: Option<&'a str>,
    pub created_by: UserId,
    pub direct_key: Option<&'a str>,
    pub last_seq: Seq,
    pub created_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub role: Role,
    pub last_read_seq: Seq,
    pub joined_at: NaiveDateTime,
    /// `all`, `mentions` or `nothing` (`protocol::NotificationLevel`), until `muted_until` if set.
    pub notify_level: String,
    pub muted_until: Option<NaiveDateTime>,
    pub last_delivered_seq: Seq,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub seq: Seq,
    pub sender_id: UserId,
    pub body: String,
    pub client_id: String,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    /// The attachments' metadata as JSON (`protocol::Attachment`s), written when the send claimed them.
    pub attachments: Option<String>,
    pub reply_to_seq: Option<Seq>,
    /// JSON of `protocol::ReplyPreview`, kept in step with the original by its edits and its deletion.
    pub reply_preview: Option<String>,
    /// JSON array of the mentioned members' ids.
    pub mentions: Option<String>,
    /// JSON of `protocol::TimelineEvent` when the row is a change to the conversation, not a message.
    pub event: Option<String>,
}

/// A message to insert, its seq handed out under the write lock.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = messages)]
pub struct NewMessage {
    pub conversation_id: ConversationId,
    pub seq: Seq,
    pub sender_id: UserId,
    pub body: String,
    pub client_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub public_id: String,
    pub conversation_id: ConversationId,
    pub uploader_id: UserId,
    pub message_id: Option<i64>,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub thumbnail_type: Option<String>,
    pub created_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
}

/// An upload as it starts: its bytes reserved against the quota, not yet sendable.
#[derive(Debug, Insertable)]
#[diesel(table_name = attachments)]
pub struct NewAttachment<'a> {
    pub public_id: &'a str,
    pub conversation_id: ConversationId,
    pub uploader_id: UserId,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub created_at: NaiveDateTime,
}
