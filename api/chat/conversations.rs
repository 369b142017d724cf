use std::collections::BTreeSet;

use super::blocks::{Approach, ensure_unblocked};
use super::{ChatError, ChatResult, views};
use crate::db::models::{ConversationRow, MembershipRow, NewConversation};
use crate::db::{self, DbConn, conversations, users};
use crate::domain::{Title, ValidationError};
use crate::protocol::{Conversation, ReadState, Role, ServerFrame};
use crate::realtime::{Payload, Realtime, Route, to_json};

pub const MAX_GROUP_MEMBERS: usize = 256;

/// The conversation and the caller's membership, or NotFound for strangers (no existence leak).
pub async fn require_member(
    conn: &mut DbConn,
    conversation_id: i64,
    user_id: i64,
) -> ChatResult<(ConversationRow, MembershipRow)> {
    let membership = conversations::membership(conn, conversation_id, user_id).await?.ok_or(ChatError::NotFound)?;
    let conversation = conversations::by_id(conn, conversation_id).await?.ok_or(ChatError::NotFound)?;
    Ok((conversation, membership))
}

pub async fn view(
    conn: &mut DbConn,
    realtime: &Realtime,
    conversation_id: i64,
    viewer: i64,
) -> ChatResult<Conversation> {
    let row = require_member(conn, conversation_id, viewer).await?;
    views::conversations(conn, realtime, vec![row]).await?.pop().ok_or(ChatError::NotFound)
}

/// The caller's conversations, most recent activity first.
pub async fn list(conn: &mut DbConn, realtime: &Realtime, viewer: i64) -> ChatResult<Vec<Conversation>> {
    let mut rows = conversations::for_user(conn, viewer).await?;
    rows.sort_by_key(|(c, _)| std::cmp::Reverse((c.last_message_at.unwrap_or(c.created_at), c.id)));
    views::conversations(conn, realtime, rows).await
}

async fn require_user(conn: &mut DbConn, field: &'static str, user_id: i64) -> ChatResult<()> {
    match users::by_id(conn, user_id).await? {
        Some(_) => Ok(()),
        None => Err(ValidationError::new(field, format!("There is no user with id {user_id}.")).into()),
    }
}

/// The direct conversation of the pair: the existing one (false) or a new one (true).
pub async fn open_direct(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: i64,
    other: i64,
) -> ChatResult<(Conversation, bool)> {
    if other == me {
        return Err(ValidationError::new("user_id", "A direct conversation needs another user.").into());
    }
    require_user(conn, "user_id", other).await?;
    // New or existing: a block stops both.
    ensure_unblocked(conn, me, &[other], Approach::Direct).await?;
    let key = format!("{}:{}", me.min(other), me.max(other));
    if let Some(existing) = conversations::by_direct_key(conn, &key).await? {
        return Ok((view(conn, realtime, existing.id, me).await?, false));
    }
    let new = NewConversation {
        kind: "direct",
        title: None,
        created_by: me,
        direct_key: Some(&key),
        last_seq: 0,
        created_at: db::now(),
    };
    let created = match conversations::create(conn, &new, &[(me, "member"), (other, "member")]).await {
        Ok(row) => row,
        // Both opened it at the same moment: the database kept one, return it.
        Err(e) if e.is_unique_violation() => {
            let existing = conversations::by_direct_key(conn, &key).await?.ok_or(ChatError::NotFound)?;
            return Ok((view(conn, realtime, existing.id, me).await?, false));
        }
        Err(e) => return Err(e.into()),
    };
    announce_joined(conn, realtime, created.id, &[me, other]).await?;
    Ok((view(conn, realtime, created.id, me).await?, true))
}

pub async fn create_group(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: i64,
    title: &str,
    member_ids: &[i64],
) -> ChatResult<Conversation> {
    let title = Title::parse(title)?;
    let others: BTreeSet<i64> = member_ids.iter().copied().filter(|&id| id != me).collect();
    if others.len() + 1 > MAX_GROUP_MEMBERS {
        return Err(
            ValidationError::new("member_ids", format!("A group has at most {MAX_GROUP_MEMBERS} members.")).into()
        );
    }
    let ids: Vec<i64> = others.iter().copied().collect();
    let found = users::by_ids(conn, &ids).await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|u| u.id == **id)) {
        return Err(ValidationError::new("member_ids", format!("There is no user with id {missing}.")).into());
    }
    ensure_unblocked(conn, me, &ids, Approach::CreateGroup).await?;
    let mut members: Vec<(i64, &'static str)> = vec![(me, "owner")];
    members.extend(ids.iter().map(|&id| (id, "member")));
    let new = NewConversation {
        kind: "group",
        title: Some(title.as_str()),
        created_by: me,
        direct_key: None,
        last_seq: 0,
        created_at: db::now(),
    };
    let created = conversations::create(conn, &new, &members).await?;
    let everyone: Vec<i64> = members.iter().map(|(id, _)| *id).collect();
    announce_joined(conn, realtime, created.id, &everyone).await?;
    view(conn, realtime, created.id, me).await
}

pub async fn rename(conn: &mut DbConn, realtime: &Realtime, me: i64, id: i64, title: &str) -> ChatResult<Conversation> {
    let (conversation, membership) = require_member(conn, id, me).await?;
    let title = Title::parse(title)?;
    if conversation.kind == "direct" {
        return Err(ValidationError::new("title", "Direct conversations have no title.").into());
    }
    if !Role::parse(&membership.role).can_manage() {
        return Err(ChatError::Forbidden("Only the owner or an admin can rename this conversation."));
    }
    conversations::rename(conn, id, title.as_str()).await?;
    announce_changed(conn, realtime, id).await?;
    view(conn, realtime, id, me).await
}

pub async fn add_member(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: i64,
    id: i64,
    user_id: i64,
) -> ChatResult<Conversation> {
    let (conversation, membership) = require_member(conn, id, me).await?;
    if conversation.kind == "direct" {
        return Err(ValidationError::new("user_id", "A direct conversation has exactly two members.").into());
    }
    if !Role::parse(&membership.role).can_manage() {
        return Err(ChatError::Forbidden("Only the owner or an admin can add members."));
    }
    require_user(conn, "user_id", user_id).await?;
    // Someone already in the group stays (blocks do not undo shared groups); adding them again changes nothing.
    if conversations::membership(conn, id, user_id).await?.is_some() {
        return view(conn, realtime, id, me).await;
    }
    ensure_unblocked(conn, me, &[user_id], Approach::AddMember).await?;
    if conversations::member_ids(conn, id).await?.len() >= MAX_GROUP_MEMBERS {
        return Err(ValidationError::new("user_id", format!("A group has at most {MAX_GROUP_MEMBERS} members.")).into());
    }
    if conversations::add_member(conn, id, user_id, "member").await? {
        realtime.publish(Route::Users(vec![user_id]), Payload::Joined { conversation_id: id, user_id });
        announce_changed(conn, realtime, id).await?;
    }
    view(conn, realtime, id, me).await
}

/// Leave (anyone), or remove someone (owner/admin; only an owner removes an owner or admin).
pub async fn remove_member(conn: &mut DbConn, realtime: &Realtime, me: i64, id: i64, user_id: i64) -> ChatResult<()> {
    let (conversation, membership) = require_member(conn, id, me).await?;
    if conversation.kind == "direct" {
        return Err(
            ValidationError::new("user_id", "Members cannot leave or be removed from a direct conversation.").into()
        );
    }
    if user_id != me {
        let my_role = Role::parse(&membership.role);
        let target = conversations::membership(conn, id, user_id).await?.ok_or(ChatError::NotFound)?;
        let their_role = Role::parse(&target.role);
        if !my_role.can_manage() || (their_role.can_manage() && my_role != Role::Owner) {
            return Err(ChatError::Forbidden("You may not remove this member."));
        }
    }
    if !conversations::remove_member(conn, id, user_id).await? {
        return Err(ChatError::NotFound);
    }
    // Routing stops before anything else is published, so the removed member receives nothing more.
    let removed = to_json(&ServerFrame::Removed { conversation_id: id });
    realtime.publish(Route::Users(vec![user_id]), Payload::Left { conversation_id: id, user_id, json: removed });
    announce_changed(conn, realtime, id).await?;
    Ok(())
}

/// Move the read position forward; tells the reader's sockets the unread count and the others the receipt.
pub async fn mark_read(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: i64,
    id: i64,
    up_to_seq: i64,
) -> ChatResult<ReadState> {
    if up_to_seq < 0 {
        return Err(ValidationError::new("up_to_seq", "up_to_seq must not be negative.").into());
    }
    require_member(conn, id, me).await?;
    let (last_read_seq, last_seq) = conversations::mark_read(conn, id, me, up_to_seq).await?;
    let state = ReadState { last_read_seq, unread_count: (last_seq - last_read_seq).max(0) };
    realtime.frame(
        Route::Users(vec![me]),
        &ServerFrame::Unread { conversation_id: id, unread_count: state.unread_count },
        false,
    );
    realtime.frame_skipping(
        Route::Conversation(id),
        &ServerFrame::Read { conversation_id: id, user_id: me, up_to_seq: last_read_seq },
        false,
        None,
        Some(me),
    );
    Ok(state)
}

/// New members: start routing the conversation to them, then send each member its view.
async fn announce_joined(conn: &mut DbConn, realtime: &Realtime, id: i64, members: &[i64]) -> ChatResult<()> {
    for &user_id in members {
        realtime.publish(Route::Users(vec![user_id]), Payload::Joined { conversation_id: id, user_id });
    }
    announce_changed(conn, realtime, id).await
}

/// Each member gets the conversation as they see it (their own read position and unread count).
async fn announce_changed(conn: &mut DbConn, realtime: &Realtime, id: i64) -> ChatResult<()> {
    for user_id in conversations::member_ids(conn, id).await? {
        let conversation = view(conn, realtime, id, user_id).await?;
        realtime.frame(Route::Users(vec![user_id]), &ServerFrame::Conversation { conversation }, false);
    }
    Ok(())
}
