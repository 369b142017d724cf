//! The wire contract: every type REST, the WebSocket, the OpenAPI spec and the tests exchange, defined once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

mod accounts;
mod api_tokens;
mod attachments;
mod frames;
mod notifications;
mod pins;
mod reactions;
mod replies;
mod search;
mod timeline;
pub use accounts::{
    ChangePasswordRequest, LoginRequest, RefreshRequest, RegisterRequest, Session, SessionInfo, SessionList,
    UpdateProfileRequest, WebSession, WsTicket,
};
pub use api_tokens::{
    ApiToken, ApiTokenList, ApiTokenScope, CreateApiTokenRequest, CreateWebhookRequest, CreatedApiToken,
    CreatedWebhook, Webhook, WebhookList, WebhookMessage,
};
pub use attachments::{Attachment, FileBytes, MediaQuery, MediaToken, UploadQuery};
pub use frames::{ClientFrame, ServerFrame, close_code};
pub use notifications::{NotificationLevel, NotificationSettings, NotificationsRequest};
pub use pins::{Pin, PinList};
pub use reactions::{MessageReactions, Reaction};
pub use replies::ReplyPreview;
pub use search::{SearchHit, SearchPage, SearchQuery, SnippetPart};
pub use timeline::TimelineEvent;

/// The one error shape of every REST error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ErrorDetail {
    /// Stable, snake_case, for programs.
    #[schema(example = "invalid_credentials")]
    pub code: String,
    /// A sentence for people.
    #[schema(example = "Wrong username or password.")]
    pub message: String,
    /// The request field at fault, for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id, as in the server's logs (and the `x-request-id` header): quote it when reporting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct User {
    pub id: i64,
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "Alice")]
    pub display_name: String,
    /// Whether any session of the user is connected; present only where the caller may know it (they share a
    /// conversation, and neither has blocked the other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// When the user's last connected session went away (null: never, or connected since), present under the
    /// same rule as `online`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearchQuery {
    /// 1–32 characters (not all blank, no NUL) found anywhere in a username or display name,
    /// case-insensitively.
    #[param(
        min_length = 1,
        max_length = 32,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub query: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<User>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlockList {
    /// Users the caller has blocked, by username.
    pub blocked: Vec<User>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AddContactRequest {
    pub user_id: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Direct,
    Group,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        match name {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub fn can_manage(self) -> bool {
        self >= Role::Admin
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CreateConversationRequest {
    /// The direct chat with one other user (the existing one when there is one).
    Direct { user_id: i64 },
    /// A group; the caller becomes its owner.
    Group {
        /// 1–100 characters, not all blank (blanks around it are dropped), no NUL.
        #[schema(
            min_length = 1,
            max_length = 100,
            pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
        )]
        title: String,
        /// Besides the caller: at most 255.
        #[serde(default)]
        #[schema(max_items = 255)]
        member_ids: Vec<i64>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Member {
    pub user: User,
    pub role: Role,
    /// The member's read position: clients draw read ticks (✓✓) from it after a reload.
    pub last_read_seq: i64,
    /// How far the member's clients have received the conversation (≥ `last_read_seq`): "delivered" ticks.
    pub last_delivered_seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Conversation {
    pub id: i64,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub members: Vec<Member>,
    pub last_message: Option<Message>,
    /// Seq of the newest message; 0 when there is none.
    pub last_seq: i64,
    pub created_at: DateTime<Utc>,
    // The viewer's own fields come last: a change is serialised once and completed per member
    // (`conversation_head` / `conversation_frame`).
    /// The caller's read position.
    pub last_read_seq: i64,
    /// `last_seq − last_read_seq`.
    pub unread_count: i64,
    /// Unread messages that mention the caller. In REST views only: absent from `conversation` frames, which
    /// do not change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention_count: Option<i64>,
    /// The caller's notification level here. In REST views only: absent from `conversation` frames (the
    /// `notifications` frame carries its changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationSettings>,
}

/// A conversation's JSON up to (not including) the viewer's own fields: what every member's copy of a
/// `conversation` frame shares.
pub fn conversation_head(conversation: &Conversation) -> String {
    let json = serde_json::to_string(conversation).unwrap_or_default();
    // Keys are written in field order and quotes inside strings are escaped, so the last occurrence of this
    // key is the field itself.
    match json.rfind(",\"last_read_seq\":") {
        Some(end) => json[..end].to_owned(),
        None => json,
    }
}

/// One member's `conversation` frame from the shared head and their own read position.
pub fn conversation_frame(head: &str, last_read_seq: i64, unread_count: i64) -> String {
    format!(
        "{{\"type\":\"conversation\",\"conversation\":{head},\"last_read_seq\":{last_read_seq},\"unread_count\":{unread_count}}}}}"
    )
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<Conversation>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenameConversationRequest {
    /// 1–100 characters, not all blank (blanks around it are dropped), no NUL.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub title: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AddMemberRequest {
    pub user_id: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangeRoleRequest {
    /// `admin` or `member`; `owner` hands the group over (the caller becomes an admin).
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadRequest {
    #[schema(minimum = 0)]
    pub up_to_seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReadState {
    pub last_read_seq: i64,
    pub unread_count: i64,
    /// Unread messages that mention the caller.
    pub mention_count: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only messages with a smaller seq (paging back).
    #[param(minimum = 1)]
    pub before_seq: Option<i64>,
    /// Only messages with a larger seq (catching up).
    #[param(minimum = 0)]
    pub after_seq: Option<i64>,
    /// The page around this seq (to open a search result or a reply in context): up to `limit / 2` older
    /// messages, then this one and newer ones; near either end the other side fills the page. At most one of
    /// the three cursors.
    #[param(minimum = 1)]
    pub around_seq: Option<i64>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    /// Ascending by seq.
    pub messages: Vec<Message>,
    /// More messages lie beyond this page in the direction asked (older ones, except with `after_seq`).
    pub has_more: bool,
    /// Newer messages than this page's newest exist (false for the latest page; `after_seq` pages say it in
    /// `has_more` too).
    pub has_newer: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SendMessageRequest {
    /// Up to 4000 characters (blanks around it are dropped), no NUL; not all blank unless the message carries
    /// attachments.
    #[serde(default)]
    #[schema(max_length = 4000, pattern = r"^[^\u0000]*$")]
    pub body: String,
    /// Chosen by the client, 1–64 printable ASCII characters without spaces: the sender's idempotency key. A
    /// resend by the same sender with the same one returns the original message; another member's use of it is a
    /// message of their own.
    #[schema(min_length = 1, max_length = 64, pattern = r"^[!-~]{1,64}$")]
    pub client_id: String,
    /// Up to 10 of the caller's own uploads to this conversation that no message carries yet, each once.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachment_ids: Vec<String>,
    /// The seq of the message of this conversation this one answers.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub reply_to_seq: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EditMessageRequest {
    /// 1–4000 characters, not all blank (blanks around it are dropped), no NUL.
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = r"^[^\u0000]*[^\u0000\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    /// 1, 2, 3… per conversation, no gaps.
    pub seq: i64,
    pub sender_id: i64,
    pub sender_name: String,
    /// Empty when deleted.
    pub body: String,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    /// In the order sent; empty when none or deleted.
    #[serde(default)]
    #[schema(required = true)]
    pub attachments: Vec<Attachment>,
    /// The message this one answers, as it stands now.
    #[serde(default)]
    #[schema(required = true)]
    pub reply_to: Option<ReplyPreview>,
    /// Members mentioned with `@username`, resolved when the message was stored or last edited.
    #[serde(default)]
    #[schema(required = true)]
    pub mentions: Vec<i64>,
    /// In order of first use. Empty on a new message's `message` frame and ack, on `last_message`, and when
    /// deleted; `reaction` frames carry the changes.
    #[serde(default)]
    #[schema(required = true)]
    pub reactions: Vec<Reaction>,
    /// A change to the conversation rather than something said (`body` empty; not editable, pinnable, …).
    #[serde(default)]
    #[schema(required = true)]
    pub event: Option<TimelineEvent>,
}

#[cfg(test)]
mod tests;
