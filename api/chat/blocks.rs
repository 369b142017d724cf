//! Blocking: a user refuses another. Where either has blocked the other, neither can open a direct chat with,
//! add to a group, or add as a contact the other. Groups they already share stay as they are.
//!
//! The blocked party learns no more than that it cannot: the same `forbidden` as other refusals. The blocker
//! is reminded of their own block (`blocked_by_you`), which tells them nothing new.

use super::{ChatError, ChatResult};
use crate::auth::service::public_user;
use crate::db::{DbConn, blocks, users};
use crate::domain::ValidationError;
use crate::ids::UserId;
use crate::protocol::User;

/// How many users one may block: enough for anyone, and a bound on the table.
pub const MAX_BLOCKS_PER_USER: i64 = 1000;

/// What the caller tried to do with users who may be blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approach {
    Direct,
    Contact,
    AddMember,
    /// Several at once: the whole request is refused, naming the field.
    CreateGroup,
}

/// Block `other` (idempotent). Unknown users are NotFound.
pub async fn block(conn: &mut DbConn, me: UserId, other: UserId) -> ChatResult<()> {
    if other == me {
        return Err(ValidationError::new("user_id", "You cannot block yourself.").into());
    }
    users::by_id(conn, other).await?.ok_or(ChatError::NotFound)?;
    if blocks::exists(conn, me, other).await? {
        return Ok(());
    }
    if blocks::count(conn, me).await? >= MAX_BLOCKS_PER_USER {
        return Err(
            ValidationError::new("user_id", format!("You can block at most {MAX_BLOCKS_PER_USER} users.")).into()
        );
    }
    blocks::add(conn, me, other).await?;
    Ok(())
}

/// Unblock `other` (idempotent).
pub async fn unblock(conn: &mut DbConn, me: UserId, other: UserId) -> ChatResult<()> {
    blocks::remove(conn, me, other).await?;
    Ok(())
}

pub async fn list(conn: &mut DbConn, me: UserId) -> ChatResult<Vec<User>> {
    Ok(blocks::blocked_by(conn, me).await?.iter().map(public_user).collect())
}

/// Refuse when `me` and any of `others` have blocked one another (either way).
pub async fn ensure_unblocked(conn: &mut DbConn, me: UserId, others: &[UserId], approach: Approach) -> ChatResult<()> {
    if others.is_empty() {
        return Ok(());
    }
    let (mine, theirs) = blocks::sides(conn, me, others).await?;
    let field = (approach == Approach::CreateGroup).then_some("member_ids");
    let several = approach == Approach::CreateGroup;
    if !mine.is_empty() {
        let message = if several {
            "You have blocked one of these users; unblock them first."
        } else {
            "You have blocked this user; unblock them first."
        };
        return Err(ChatError::Refused { code: "blocked_by_you", message, field });
    }
    if !theirs.is_empty() {
        let message = match approach {
            Approach::CreateGroup => "You can't add one of these users.",
            Approach::Direct => "You can't start a conversation with this user.",
            Approach::Contact | Approach::AddMember => "You can't add this user.",
        };
        return Err(ChatError::Refused { code: "forbidden", message, field });
    }
    Ok(())
}
