//! The WebSocket's frames, both ways.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Conversation, Message, NotificationSettings, Reaction, User};

/// Frames a client sends over `/ws`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Send a message: the rules of `POST /api/conversations/{id}/messages`, answered by an `ack` (or an
    /// `error` frame carrying the `client_id`).
    NewMessage {
        conversation_id: i64,
        #[schema(min_length = 1, max_length = 64, pattern = r"^[!-~]{1,64}$")]
        client_id: String,
        #[serde(default)]
        #[schema(max_length = 4000, pattern = r"^[^\u0000]*$")]
        body: String,
        #[serde(default)]
        #[schema(max_items = 10)]
        attachment_ids: Vec<String>,
        #[serde(default)]
        #[schema(minimum = 1)]
        reply_to_seq: Option<i64>,
    },
    /// A page of history: the rules of `GET /api/conversations/{id}/messages`, answered by a `messages` frame.
    FetchMessages {
        conversation_id: i64,
        #[serde(default)]
        #[schema(minimum = 1)]
        before_seq: Option<i64>,
        #[serde(default)]
        #[schema(minimum = 0)]
        after_seq: Option<i64>,
        #[serde(default)]
        #[schema(minimum = 1)]
        around_seq: Option<i64>,
        #[serde(default)]
        #[schema(minimum = 1, maximum = 100)]
        limit: Option<i64>,
    },
    Typing {
        conversation_id: i64,
        is_typing: bool,
    },
    Read {
        conversation_id: i64,
        #[schema(minimum = 0)]
        up_to_seq: i64,
    },
    /// This client has received the conversation up to `up_to_seq` (not read it: `read` says that, and implies
    /// this). Answered by nothing; the other members get a `delivered` frame when the position moved.
    Delivered {
        conversation_id: i64,
        #[schema(minimum = 0)]
        up_to_seq: i64,
    },
    Auth {
        token: String,
    },
    /// Add (`on: true`) or take back a reaction; answered by a `reaction` frame, or an `error` frame.
    React {
        conversation_id: i64,
        seq: i64,
        emoji: String,
        on: bool,
    },
}

/// Frames the server sends over `/ws`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Ack {
        client_id: String,
        message: Message,
    },
    Message {
        message: Message,
    },
    Messages {
        conversation_id: i64,
        messages: Vec<Message>,
        has_more: bool,
        has_newer: bool,
    },
    MessageUpdated {
        message: Message,
    },
    Typing {
        conversation_id: i64,
        user_id: i64,
        is_typing: bool,
    },
    Read {
        conversation_id: i64,
        user_id: i64,
        up_to_seq: i64,
    },
    /// A member's clients have received the conversation up to `up_to_seq` ("delivered" ticks).
    Delivered {
        conversation_id: i64,
        user_id: i64,
        up_to_seq: i64,
    },
    Unread {
        conversation_id: i64,
        unread_count: i64,
        mention_count: i64,
    },
    /// A member added or took back a reaction; `reactions` is the message's whole list after it.
    Reaction {
        conversation_id: i64,
        seq: i64,
        user_id: i64,
        emoji: String,
        added: bool,
        reactions: Vec<Reaction>,
    },
    /// A message was pinned or unpinned (`user_id`: by whom).
    Pin {
        conversation_id: i64,
        seq: i64,
        pinned: bool,
        user_id: i64,
    },
    /// The caller changed their notification level here (on another of their sockets too).
    Notifications {
        conversation_id: i64,
        notifications: NotificationSettings,
    },
    Presence {
        user_id: i64,
        online: bool,
        /// When `online` turns false: the moment the user's last session went away.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A user's profile changed (their display name): to their other sessions and to everyone who shares a
    /// conversation with them.
    User {
        user: User,
    },
    Conversation {
        conversation: Conversation,
    },
    Removed {
        conversation_id: i64,
    },
    Error {
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
}

/// Close codes of `/ws` (4000–4999 are the application's).
pub mod close_code {
    pub const GOING_AWAY: u16 = 1001;
    pub const TOKEN_EXPIRED: u16 = 4001;
    pub const TOO_SLOW: u16 = 4008;
    pub const FLOODING: u16 = 4029;
}
