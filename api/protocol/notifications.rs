//! A member's notification level for one conversation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which new messages notify. Unread counts tick whatever the level.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NotificationLevel {
    /// Every message.
    All,
    /// Only messages that mention the member ("muted" in most apps).
    Mentions,
    /// None, mentions included.
    Nothing,
}

impl NotificationLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationLevel::All => "all",
            NotificationLevel::Mentions => "mentions",
            NotificationLevel::Nothing => "nothing",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "all" => Some(NotificationLevel::All),
            "mentions" => Some(NotificationLevel::Mentions),
            "nothing" => Some(NotificationLevel::Nothing),
            _ => None,
        }
    }
}

/// A member's level in a conversation, as answers and `notifications` frames carry it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct NotificationSettings {
    pub level: NotificationLevel,
    /// The level holds until then, and is `all` after; null: until changed. Only with `mentions` or `nothing`,
    /// in the future, at most a year ahead.
    #[serde(default)]
    #[schema(required = true)]
    pub until: Option<DateTime<Utc>>,
}

/// The body of `PUT /api/conversations/{id}/notifications`: as [`NotificationSettings`], but `until` may be
/// left out (until changed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct NotificationsRequest {
    pub level: NotificationLevel,
    /// Only with `mentions` or `nothing`, in the future, at most a year ahead; absent or null: until changed.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

impl From<NotificationsRequest> for NotificationSettings {
    fn from(request: NotificationsRequest) -> Self {
        NotificationSettings { level: request.level, until: request.until }
    }
}
