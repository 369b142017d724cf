//! Replies: what a message shows of the one it answers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a reply shows of the message it answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReplyPreview {
    pub seq: i64,
    pub sender_id: i64,
    pub sender_name: String,
    /// The original's first 100 characters (an attachment's name when it has no text); empty once deleted.
    pub excerpt: String,
    pub deleted: bool,
}
