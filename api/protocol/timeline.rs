//! Timeline events: changes to a conversation that take a seq in its stream like messages, so history and
//! catch-up replay them and clients draw them as lines between messages.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What changed. The actor is the carrying message's sender; names are as they were at the time (clients may
/// prefer the current ones of people they know).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineEvent {
    /// The group was created (seq 1 of every group).
    Created {
        title: Option<String>,
    },
    MemberAdded {
        user_id: i64,
        user_name: String,
    },
    /// Someone else took the member out (a member who goes themself is `member_left`).
    MemberRemoved {
        user_id: i64,
        user_name: String,
    },
    MemberLeft,
    Renamed {
        title: Option<String>,
    },
}

impl TimelineEvent {
    /// The form stored in `messages.event`.
    pub fn to_column(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_column(json: Option<&str>) -> Option<TimelineEvent> {
        serde_json::from_str(json?).ok()
    }

    /// The client id an event's row carries: unique per conversation and sender as the column requires, and
    /// never one a client can send (client ids have no spaces), so no send is ever taken for a resend of it.
    pub fn client_id(seq: i64) -> String {
        format!("event {seq}")
    }
}
