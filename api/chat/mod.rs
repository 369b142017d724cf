//! The chat rules, as plain functions over a connection: who may see and do what, and which events follow.
//! REST handlers and socket actors both call these.

pub(crate) mod blocks;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod live;
pub mod messages;
pub(crate) mod views;
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
}

impl From<diesel::result::Error> for ChatError {
    fn from(err: diesel::result::Error) -> Self {
        ChatError::Db(DbError::Query(err))
    }
}

pub type ChatResult<T> = Result<T, ChatError>;
