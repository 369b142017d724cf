//! Reactions on messages.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One emoji on a message and who reacted with it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Reaction {
    #[schema(example = "👍")]
    pub emoji: String,
    pub count: i64,
    /// Everyone who reacted with it, first first: whether the caller did is whether their id is here.
    pub user_ids: Vec<i64>,
}

/// A message's reactions after a change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct MessageReactions {
    pub conversation_id: i64,
    pub seq: i64,
    pub reactions: Vec<Reaction>,
}
