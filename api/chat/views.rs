//! Rows → wire types.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};

use super::ChatResult;
use crate::auth::service::public_user;
use crate::db::models::{ConversationRow, MembershipRow};
use crate::db::{DbConn, blocks, conversations, messages};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{Conversation, Member, Message, NotificationLevel, NotificationSettings, Reaction};
use crate::realtime::Realtime;

pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

pub fn message(row: crate::db::models::MessageRow, sender_name: String) -> Message {
    let deleted = row.deleted_at.is_some();
    Message {
        id: row.id,
        conversation_id: row.conversation_id.get(),
        seq: row.seq.get(),
        sender_id: row.sender_id.get(),
        sender_name,
        body: if deleted { String::new() } else { row.body },
        client_id: row.client_id,
        created_at: utc(row.created_at),
        edited_at: row.edited_at.map(utc),
        deleted,
        attachments: if deleted { Vec::new() } else { crate::db::attachments::from_column(row.attachments.as_deref()) },
        reply_to: row.reply_preview.as_deref().and_then(|json| serde_json::from_str(json).ok()),
        mentions: row.mentions.as_deref().and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default(),
        reactions: Vec::new(),
        event: crate::protocol::TimelineEvent::from_column(row.event.as_deref()),
    }
}

/// Reactions grouped by emoji in order of first use, each with its reactors in order.
pub fn reactions(rows: impl IntoIterator<Item = (String, UserId)>) -> Vec<Reaction> {
    let mut grouped: Vec<Reaction> = Vec::new();
    for (emoji, user_id) in rows {
        match grouped.iter_mut().find(|r| r.emoji == emoji) {
            Some(reaction) => {
                reaction.count += 1;
                reaction.user_ids.push(user_id.get());
            }
            None => grouped.push(Reaction { emoji, count: 1, user_ids: vec![user_id.get()] }),
        }
    }
    grouped
}

/// What a stored message lacks to be read: its reactions, and its quote's sender named as they are called now (a
/// reply preview keeps the name it was written with). A query per conversation among the messages (reactions are
/// kept per conversation), and one for the quoted names.
pub async fn complete(conn: &mut DbConn, messages: &mut [Message]) -> ChatResult<()> {
    add_reactions(conn, messages).await?;
    let quoted: HashSet<UserId> =
        messages.iter().filter_map(|m| m.reply_to.as_ref()).map(|r| UserId(r.sender_id)).collect();
    if quoted.is_empty() {
        return Ok(());
    }
    let quoted: Vec<UserId> = quoted.into_iter().collect();
    let names: HashMap<i64, String> =
        crate::db::users::by_ids(conn, &quoted).await?.into_iter().map(|u| (u.id.get(), u.display_name)).collect();
    for quote in messages.iter_mut().filter_map(|m| m.reply_to.as_mut()) {
        if let Some(name) = names.get(&quote.sender_id) {
            quote.sender_name.clone_from(name);
        }
    }
    Ok(())
}

/// Fill in the reactions of the messages, one query per conversation among them.
async fn add_reactions(conn: &mut DbConn, messages: &mut [Message]) -> ChatResult<()> {
    let mut seqs: HashMap<ConversationId, Vec<Seq>> = HashMap::new();
    for m in messages.iter().filter(|m| !m.deleted) {
        seqs.entry(ConversationId(m.conversation_id)).or_default().push(Seq(m.seq));
    }
    let mut found: HashMap<(ConversationId, Seq), Vec<(String, UserId)>> = HashMap::new();
    for (id, seqs) in seqs {
        for (seq, emoji, user_id) in crate::db::reactions::of_messages(conn, id, &seqs).await? {
            found.entry((id, seq)).or_default().push((emoji, user_id));
        }
    }
    for message in messages {
        if let Some(rows) = found.remove(&(ConversationId(message.conversation_id), Seq(message.seq))) {
            message.reactions = reactions(rows);
        }
    }
    Ok(())
}

/// Full views of conversations as their viewer (the user of the memberships in `rows`) sees them, in four
/// queries whatever their number.
pub async fn conversations(
    conn: &mut DbConn,
    realtime: &Realtime,
    rows: Vec<(ConversationRow, MembershipRow)>,
) -> ChatResult<Vec<Conversation>> {
    let ids: Vec<ConversationId> = rows.iter().map(|(c, _)| c.id).collect();
    let members = conversations::members(conn, &ids).await?;
    // Presence by consent: co-members see each other online, except across a block (either way) with the viewer.
    let hidden: HashSet<UserId> = match rows.first() {
        Some((_, membership)) => blocks::related_to(conn, membership.user_id).await?.into_iter().collect(),
        None => HashSet::new(),
    };
    let member_ids: Vec<UserId> = members
        .iter()
        .map(|(_, u)| u.id)
        .filter(|id| !hidden.contains(id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let online = realtime.online_among(member_ids).await;
    let presence = Presence { online: &online, hidden: &hidden };
    let (mut by_conversation, latest) = parts(conn, &ids, members, Some(&presence)).await?;
    let mention_counts = match rows.first() {
        Some((_, membership)) => crate::db::mentions::unread_counts(conn, membership.user_id, &ids).await?,
        None => HashMap::new(),
    };
    Ok(rows
        .into_iter()
        .map(|(conversation, membership)| {
            let members = by_conversation.remove(&conversation.id).unwrap_or_default();
            let last_message = latest.get(&conversation.id).cloned();
            let mention_count = mention_counts.get(&conversation.id).copied().unwrap_or(0);
            let mut view = view(conversation, members, last_message, membership.last_read_seq);
            view.mention_count = Some(mention_count);
            view.notifications = Some(notifications(&membership));
            view
        })
        .collect())
}

/// A member's notification level as it stands now: a level whose time is up is `all` again.
pub fn notifications(membership: &MembershipRow) -> NotificationSettings {
    let level = NotificationLevel::from_name(&membership.notify_level).unwrap_or(NotificationLevel::All);
    match membership.muted_until {
        Some(until) if until <= crate::db::now() => NotificationSettings { level: NotificationLevel::All, until: None },
        until => NotificationSettings { level, until: until.map(utc) },
    }
}

/// A conversation as every member sees it, for announcing a change: no presence (that travels in its own
/// events) and the viewer's own fields left at zero (each member's copy fills them in).
pub async fn shared(conn: &mut DbConn, conversation: &ConversationRow) -> ChatResult<Conversation> {
    let ids = [conversation.id];
    let members = conversations::members(conn, &ids).await?;
    let (mut by_conversation, mut latest) = parts(conn, &ids, members, None).await?;
    let members = by_conversation.remove(&conversation.id).unwrap_or_default();
    Ok(view(conversation.clone(), members, latest.remove(&conversation.id), Seq(0)))
}

type Parts = (HashMap<ConversationId, Vec<Member>>, HashMap<ConversationId, Message>);

/// What one viewer may know of members' presence.
struct Presence<'a> {
    online: &'a HashSet<UserId>,
    /// The other side of the viewer's blocks: no presence either way.
    hidden: &'a HashSet<UserId>,
}

impl Presence<'_> {
    fn of(&self, user_id: UserId) -> Option<bool> {
        (!self.hidden.contains(&user_id)).then(|| self.online.contains(&user_id))
    }
}

async fn parts(
    conn: &mut DbConn,
    ids: &[ConversationId],
    members: Vec<(MembershipRow, crate::db::models::UserRow)>,
    presence: Option<&Presence<'_>>,
) -> ChatResult<Parts> {
    let latest: HashMap<ConversationId, Message> = messages::latest_of(conn, ids)
        .await?
        .into_iter()
        .map(|(row, name)| (row.conversation_id, message(row, name)))
        .collect();
    let mut by_conversation: HashMap<ConversationId, Vec<Member>> = HashMap::new();
    for (membership, user) in members {
        let user_view = match presence.and_then(|p| p.of(user.id)) {
            Some(online) => crate::auth::service::visible_user(&user, online),
            None => public_user(&user),
        };
        by_conversation.entry(membership.conversation_id).or_default().push(Member {
            user: user_view,
            role: membership.role,
            last_read_seq: membership.last_read_seq.get(),
            last_delivered_seq: membership.last_delivered_seq.max(membership.last_read_seq).get(),
        });
    }
    Ok((by_conversation, latest))
}

fn view(
    conversation: ConversationRow,
    members: Vec<Member>,
    last_message: Option<Message>,
    last_read_seq: Seq,
) -> Conversation {
    Conversation {
        id: conversation.id.get(),
        kind: conversation.kind,
        title: conversation.title,
        members,
        last_message,
        last_seq: conversation.last_seq.get(),
        created_at: utc(conversation.created_at),
        last_read_seq: last_read_seq.get(),
        unread_count: (conversation.last_seq - last_read_seq).max(0),
        mention_count: None,
        notifications: None,
    }
}
