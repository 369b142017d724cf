//! The chat rules, as plain functions over a connection: who may see and do what, and which events follow.
//! REST handlers and socket actors both call these.

pub mod attachments;
pub(crate) mod blocks;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod live;
pub(crate) mod mentions;
pub mod messages;
pub(crate) mod notifications;
pub(crate) mod pins;
pub(crate) mod profile;
pub(crate) mod reactions;
pub(crate) mod receipts;
pub(crate) mod search;
pub(crate) mod search_terms;
pub(crate) mod views;
pub(crate) mod webhooks;
pub(crate) mod writer;

use crate::db::DbError;
use crate::domain::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Absent, or not the caller's to see: the two are indistinguishable on purpose.
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// Refused with a code of its own (and the request field at fault, if any).
    #[error("{message}")]
    Refused { code: &'static str, message: &'static str, field: Option<&'static str> },
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("The message store is shutting down.")]
    ShuttingDown,
    /// A body over its size limit (bytes).
    #[error("The file is larger than {0} bytes.")]
    TooLarge(u64),
    /// A file of a type that is not accepted.
    #[error("{0}")]
    UnsupportedType(&'static str),
    /// A per-user bound reached: waiting for something to finish or expire helps, retrying at once does not.
    #[error("{message}")]
    TooMany { code: &'static str, message: &'static str },
    /// The conversation's state does not allow it (a cap on pins or on a message's reactions).
    #[error("{message}")]
    Conflict { code: &'static str, message: &'static str },
    /// File storage failed (the detail is logged, not shown).
    #[error("File storage is unavailable.")]
    Storage(String),
}

impl From<diesel::result::Error> for ChatError {
    fn from(err: diesel::result::Error) -> Self {
        ChatError::Db(DbError::Query(err))
    }
}

pub type ChatResult<T> = Result<T, ChatError>;
