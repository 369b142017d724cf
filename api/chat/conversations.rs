//! Rules of conversations: who sees one, who may rename it or change its members, and the events that follow.

use std::collections::BTreeSet;

use super::blocks::{Approach, ensure_unblocked};
use super::{ChatError, ChatResult, views};
use crate::db::conversations::{ChangeContext, ChangeOp, Changed, MemberState};
use crate::db::models::{ConversationRow, MembershipRow, NewConversation};
use crate::db::{self, DbConn, conversations, users};
use crate::domain::{Title, ValidationError};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{Conversation, ConversationKind, Role, ServerFrame};
use crate::realtime::{MembershipEvent, Realtime};

pub const MAX_GROUP_MEMBERS: usize = 256;

/// The conversation and the caller's membership, or NotFound for strangers (no existence leak).
pub async fn require_member(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    user_id: UserId,
) -> ChatResult<(ConversationRow, MembershipRow)> {
    let membership = conversations::membership(conn, conversation_id, user_id).await?.ok_or(ChatError::NotFound)?;
    let conversation = conversations::by_id(conn, conversation_id).await?.ok_or(ChatError::NotFound)?;
    Ok((conversation, membership))
}

pub async fn view(
    conn: &mut DbConn,
    realtime: &Realtime,
    conversation_id: ConversationId,
    viewer: UserId,
) -> ChatResult<Conversation> {
    let row = require_member(conn, conversation_id, viewer).await?;
    views::conversations(conn, realtime, vec![row]).await?.pop().ok_or(ChatError::NotFound)
}

/// The caller's conversations, most recent activity first.
pub async fn list(conn: &mut DbConn, realtime: &Realtime, viewer: UserId) -> ChatResult<Vec<Conversation>> {
    let mut rows = conversations::for_user(conn, viewer).await?;
    rows.sort_by_key(|(c, _)| std::cmp::Reverse((c.last_message_at.unwrap_or(c.created_at), c.id)));
    views::conversations(conn, realtime, rows).await
}

async fn require_user(conn: &mut DbConn, field: &'static str, user_id: UserId) -> ChatResult<()> {
    match users::by_id(conn, user_id).await? {
        Some(_) => Ok(()),
        None => Err(ValidationError::new(field, format!("There is no user with id {user_id}.")).into()),
    }
}

/// The direct conversation of the pair: the existing one (false) or a new one (true).
pub async fn open_direct(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    other: UserId,
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
        kind: ConversationKind::Direct,
        title: None,
        created_by: me,
        direct_key: Some(&key),
        last_seq: Seq(0),
        created_at: db::now(),
        version: 1,
    };
    let (created, members) = match conversations::create(conn, &new, &[(me, Role::Member), (other, Role::Member)]).await
    {
        Ok(created) => created,
        // Both opened it at the same moment: the database kept one, return it.
        Err(e) if e.is_unique_violation() => {
            let existing = conversations::by_direct_key(conn, &key).await?.ok_or(ChatError::NotFound)?;
            return Ok((view(conn, realtime, existing.id, me).await?, false));
        }
        Err(e) => return Err(e.into()),
    };
    announce(conn, realtime, &created, &members, &[me, other], &[]).await?;
    Ok((view(conn, realtime, created.id, me).await?, true))
}

pub async fn create_group(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    title: &str,
    member_ids: &[UserId],
) -> ChatResult<Conversation> {
    let title = Title::parse(title)?;
    let others: BTreeSet<UserId> = member_ids.iter().copied().filter(|&id| id != me).collect();
    if others.len() + 1 > MAX_GROUP_MEMBERS {
        return Err(
            ValidationError::new("member_ids", format!("A group has at most {MAX_GROUP_MEMBERS} members.")).into()
        );
    }
    let ids: Vec<UserId> = others.iter().copied().collect();
    let found = users::by_ids(conn, &ids).await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|u| u.id == **id)) {
        return Err(ValidationError::new("member_ids", format!("There is no user with id {missing}.")).into());
    }
    ensure_unblocked(conn, me, &ids, Approach::CreateGroup).await?;
    let mut members: Vec<(UserId, Role)> = vec![(me, Role::Owner)];
    members.extend(ids.iter().map(|&id| (id, Role::Member)));
    let new = NewConversation {
        kind: ConversationKind::Group,
        title: Some(title.as_str()),
        created_by: me,
        direct_key: None,
        last_seq: Seq(0),
        created_at: db::now(),
        version: 1,
    };
    let (created, states) = conversations::create(conn, &new, &members).await?;
    let everyone: Vec<UserId> = members.iter().map(|(id, _)| *id).collect();
    announce(conn, realtime, &created, &states, &everyone, &[]).await?;
    view(conn, realtime, created.id, me).await
}

pub async fn rename(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    title: &str,
) -> ChatResult<Conversation> {
    let title = Title::parse(title)?;
    let changed = conversations::change(conn, id, me, ChangeOp::Rename { title: title.as_str() }, may_rename).await?;
    announce_change(conn, realtime, &changed, &[], &[]).await?;
    view(conn, realtime, id, me).await
}

pub async fn add_member(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    user_id: UserId,
) -> ChatResult<Conversation> {
    require_user(conn, "user_id", user_id).await?;
    // Someone already in the group stays (blocks do not undo shared groups); adding them again changes nothing.
    if conversations::membership(conn, id, user_id).await?.is_some() {
        return view(conn, realtime, id, me).await;
    }
    ensure_unblocked(conn, me, &[user_id], Approach::AddMember).await?;
    let op = ChangeOp::Add { user_id, role: Role::Member };
    let changed = conversations::change(conn, id, me, op, may_add).await?;
    if changed.applied {
        announce_change(conn, realtime, &changed, &[user_id], &[]).await?;
    }
    view(conn, realtime, id, me).await
}

/// The owner gives a member a role: `admin`, `member`, or `owner` to hand the group over.
pub async fn set_role(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    user_id: UserId,
    role: Role,
) -> ChatResult<Conversation> {
    let op = ChangeOp::SetRole { user_id, role };
    let changed = conversations::change(conn, id, me, op, |ctx| may_set_role(ctx, me, user_id)).await?;
    if changed.applied {
        announce_change(conn, realtime, &changed, &[], &[]).await?;
    }
    view(conn, realtime, id, me).await
}

/// Leave (anyone), or remove someone (owner/admin; only an owner removes an owner or admin).
pub async fn remove_member(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    user_id: UserId,
) -> ChatResult<()> {
    let changed =
        conversations::change(conn, id, me, ChangeOp::Remove { user_id }, |ctx| may_remove(ctx, me, user_id)).await?;
    if !changed.applied {
        return Err(ChatError::NotFound);
    }
    announce_change(conn, realtime, &changed, &[], &[user_id]).await?;
    Ok(())
}

/// The rules of changes, decided on the state as it stands under the conversation's lock. A stranger (or someone
/// removed a moment ago) gets NotFound, as for a conversation that does not exist.
fn manager_of_group(
    ctx: &ChangeContext,
    field: &'static str,
    direct: &'static str,
    not_allowed: &'static str,
) -> ChatResult<Role> {
    let actor = ctx.actor.as_ref().ok_or(ChatError::NotFound)?;
    if ctx.conversation.kind == ConversationKind::Direct {
        return Err(ValidationError::new(field, direct).into());
    }
    let role = actor.role;
    if !role.can_manage() {
        return Err(ChatError::Forbidden(not_allowed));
    }
    Ok(role)
}

fn may_rename(ctx: &ChangeContext) -> ChatResult<()> {
    manager_of_group(
        ctx,
        "title",
        "Direct conversations have no title.",
        "Only the owner or an admin can rename this conversation.",
    )
    .map(|_| ())
}

fn may_add(ctx: &ChangeContext) -> ChatResult<()> {
    manager_of_group(
        ctx,
        "user_id",
        "A direct conversation has exactly two members.",
        "Only the owner or an admin can add members.",
    )?;
    if ctx.target.is_none() && ctx.member_count >= MAX_GROUP_MEMBERS {
        return Err(ValidationError::new("user_id", format!("A group has at most {MAX_GROUP_MEMBERS} members.")).into());
    }
    Ok(())
}

fn may_remove(ctx: &ChangeContext, me: UserId, user_id: UserId) -> ChatResult<()> {
    let actor = ctx.actor.as_ref().ok_or(ChatError::NotFound)?;
    if ctx.conversation.kind == ConversationKind::Direct {
        return Err(
            ValidationError::new("user_id", "Members cannot leave or be removed from a direct conversation.").into()
        );
    }
    if user_id != me {
        let my_role = actor.role;
        let target = ctx.target.as_ref().ok_or(ChatError::NotFound)?;
        let their_role = target.role;
        if !my_role.can_manage() || (their_role.can_manage() && my_role != Role::Owner) {
            return Err(ChatError::Forbidden("You may not remove this member."));
        }
    }
    Ok(())
}

fn may_set_role(ctx: &ChangeContext, me: UserId, user_id: UserId) -> ChatResult<()> {
    let role =
        manager_of_group(ctx, "role", "Direct conversations have no roles.", "Only the owner can change roles.")?;
    if role != Role::Owner {
        return Err(ChatError::Forbidden("Only the owner can change roles."));
    }
    if user_id == me {
        return Err(
            ValidationError::new("user_id", "To step down, hand the group to another member (role owner).").into()
        );
    }
    ctx.target.as_ref().ok_or(ChatError::NotFound)?;
    Ok(())
}

async fn announce_change(
    conn: &mut DbConn,
    realtime: &Realtime,
    changed: &Changed,
    joined: &[UserId],
    left: &[UserId],
) -> ChatResult<()> {
    let timeline_seq = changed.timeline.as_ref().map(|row| row.seq);
    announce_at(conn, realtime, &changed.conversation, &changed.members, joined, left, timeline_seq).await?;
    if let Some(row) = changed.timeline.clone() {
        // After the membership it was stored under: routing reaches the member it added, not the one it took out.
        let (seq, version) = (row.seq, changed.conversation.version);
        let name = users::by_ids(conn, &[row.sender_id]).await?.pop().map(|u| u.display_name).unwrap_or_default();
        let frame = ServerFrame::Message { message: views::message(row, name) };
        realtime.message(&frame, changed.conversation.id, seq, version, None, std::time::Instant::now());
    }
    Ok(())
}

/// Publish a committed change: the membership as of its version (which routes it on every instance), with the
/// conversation view built once — each member's copy differs only in their own read position.
async fn announce(
    conn: &mut DbConn,
    realtime: &Realtime,
    conversation: &ConversationRow,
    members: &[MemberState],
    joined: &[UserId],
    left: &[UserId],
) -> ChatResult<()> {
    announce_at(conn, realtime, conversation, members, joined, left, None).await
}

async fn announce_at(
    conn: &mut DbConn,
    realtime: &Realtime,
    conversation: &ConversationRow,
    members: &[MemberState],
    joined: &[UserId],
    left: &[UserId],
    timeline_seq: Option<Seq>,
) -> ChatResult<()> {
    let shared = views::shared(conn, conversation).await?;
    let event = MembershipEvent {
        conversation_id: conversation.id,
        version: conversation.version,
        last_seq: conversation.last_seq,
        members: members.iter().map(|m| (m.user_id, m.last_read_seq)).collect(),
        left: left.to_vec(),
        timeline_seq,
        view: crate::protocol::conversation_head(&shared),
    };
    realtime.membership(event, joined);
    Ok(())
}
