//! Rules of the caller's address book.

use std::collections::HashSet;

use super::{ChatError, ChatResult};
use crate::auth::service::{public_user, visible_user};
use crate::db::{DbConn, blocks, contacts, conversations, users};
use crate::domain::ValidationError;
use crate::ids::UserId;
use crate::protocol::User;
use crate::realtime::Realtime;

/// The caller's contacts. Presence by consent: `online` only for contacts who share a conversation with the
/// caller (adding someone as a contact does not let you watch them) and with no block between the two.
pub async fn list(conn: &mut DbConn, realtime: &Realtime, owner_id: UserId) -> ChatResult<Vec<User>> {
    let rows = contacts::list(conn, owner_id).await?;
    let sharing: HashSet<UserId> = conversations::co_member_ids(conn, owner_id).await?.into_iter().collect();
    let blocked: HashSet<UserId> = blocks::related_to(conn, owner_id).await?.into_iter().collect();
    let visible: HashSet<UserId> =
        rows.iter().map(|u| u.id).filter(|id| sharing.contains(id) && !blocked.contains(id)).collect();
    let online = realtime.online_among(visible.iter().copied().collect()).await;
    Ok(rows
        .iter()
        .map(|row| match visible.contains(&row.id) {
            true => visible_user(row, online.contains(&row.id)),
            false => public_user(row),
        })
        .collect())
}

/// Adds a contact; true when it is new.
pub async fn add(conn: &mut DbConn, owner_id: UserId, contact_id: UserId) -> ChatResult<(User, bool)> {
    if contact_id == owner_id {
        return Err(ValidationError::new("user_id", "You cannot add yourself as a contact.").into());
    }
    let user = users::by_id(conn, contact_id)
        .await?
        .ok_or_else(|| ChatError::from(ValidationError::new("user_id", "There is no user with that id.")))?;
    super::blocks::ensure_unblocked(conn, owner_id, &[contact_id], super::blocks::Approach::Contact).await?;
    let added = contacts::add(conn, owner_id, contact_id).await?;
    Ok((public_user(&user), added))
}

pub async fn remove(conn: &mut DbConn, owner_id: UserId, contact_id: UserId) -> ChatResult<()> {
    if contacts::remove(conn, owner_id, contact_id).await? { Ok(()) } else { Err(ChatError::NotFound) }
}
