//! Queries on conversations and memberships; every membership change bumps the conversation's version in its
//! transaction.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{ConversationRow, MembershipRow, MessageRow, NewConversation, UserRow};
use super::schema::{conversations, memberships, users};
use super::timeline::Timeline;
use super::{DbConn, DbError, DbResult};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{ConversationKind, NotificationLevel, Role, TimelineEvent};
use crate::with_conn;

pub async fn by_id(conn: &mut DbConn, id: ConversationId) -> DbResult<Option<ConversationRow>> {
    Ok(with_conn!(conn, |c| conversations::table
        .find(id)
        .select(ConversationRow::as_select())
        .first(c)
        .await
        .optional())?)
}

pub async fn by_direct_key(conn: &mut DbConn, key: &str) -> DbResult<Option<ConversationRow>> {
    Ok(with_conn!(conn, |c| conversations::table
        .filter(conversations::direct_key.eq(key))
        .select(ConversationRow::as_select())
        .first(c)
        .await
        .optional())?)
}

/// The two users of a direct conversation, from its key (`"<low id>:<high id>"`).
pub fn direct_pair(direct_key: &str) -> Option<(UserId, UserId)> {
    let (a, b) = direct_key.split_once(':')?;
    Some((UserId(a.parse().ok()?), UserId(b.parse().ok()?)))
}

/// A member as live delivery needs them: who, and how far they have read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberState {
    pub user_id: UserId,
    pub last_read_seq: Seq,
}

/// A conversation's membership at one version, read in one consistent statement.
#[derive(Debug, Clone)]
pub struct ConversationState {
    pub id: ConversationId,
    pub version: i64,
    pub last_seq: Seq,
    pub members: Vec<MemberState>,
}

/// Insert a conversation (at version 1) and its memberships in one transaction.
pub async fn create(
    conn: &mut DbConn,
    new: &NewConversation<'_>,
    members: &[(UserId, Role)],
) -> DbResult<(ConversationRow, Vec<MemberState>)> {
    let joined_at = new.created_at;
    crate::write_transaction!(conn, |c| {
        let row: ConversationRow = diesel::insert_into(conversations::table)
            .values(new.clone())
            .returning(ConversationRow::as_returning())
            .get_result(c)
            .await?;
        let rows: Vec<MembershipRow> = members
            .iter()
            .map(|&(user_id, role)| MembershipRow {
                conversation_id: row.id,
                user_id,
                role: role.to_owned(),
                last_read_seq: Seq(0),
                joined_at,
                notify_level: NotificationLevel::All.as_str().to_owned(),
                muted_until: None,
                last_delivered_seq: Seq(0),
            })
            .collect();
        for membership in &rows {
            diesel::insert_into(memberships::table).values(membership.clone()).execute(c).await?;
        }
        let mut row = row;
        if new.kind == ConversationKind::Group {
            let event = TimelineEvent::Created { title: new.title.map(str::to_owned) };
            let created = c.append_event(row.id, new.created_by, &event, joined_at).await?;
            row.last_seq = created.seq;
        }
        let states = rows
            .iter()
            .map(|m| MemberState {
                user_id: m.user_id,
                last_read_seq: if m.user_id == new.created_by { row.last_seq } else { Seq(0) },
            })
            .collect();
        Ok::<_, DbError>((row, states))
    })
}

/// What a membership or metadata change does.
#[derive(Debug, Clone, Copy)]
pub enum ChangeOp<'a> {
    Rename {
        title: &'a str,
    },
    Add {
        user_id: UserId,
        role: Role,
    },
    Remove {
        user_id: UserId,
    },
    /// A new role for a member; `Owner` hands the group over (the actor becomes an admin).
    SetRole {
        user_id: UserId,
        role: Role,
    },
}

/// What a change rule decides on, read under the conversation's lock (so it cannot change before the commit).
#[derive(Debug)]
pub struct ChangeContext {
    pub conversation: ConversationRow,
    pub actor: Option<MembershipRow>,
    pub target: Option<MembershipRow>,
    pub member_count: usize,
}

/// A committed change: the conversation at its new version and its members after it.
#[derive(Debug)]
pub struct Changed {
    pub conversation: ConversationRow,
    pub members: Vec<MemberState>,
    /// False when it changed nothing (adding a member twice).
    pub applied: bool,
    /// The timeline event the change stored (renames, additions, removals and departures have one).
    pub timeline: Option<MessageRow>,
}

/// Apply a change atomically: the version is bumped first (which locks the conversation's row, or the database
/// on SQLite), then `decide` rules on the state as it stands under that lock, then the change is made and the
/// members are read. A refusal rolls everything back. Membership checks made outside such a transaction can race
/// a concurrent removal; these cannot.
pub async fn change<E>(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    actor_id: UserId,
    op: ChangeOp<'_>,
    decide: impl FnOnce(&ChangeContext) -> Result<(), E> + Send,
) -> Result<Changed, E>
where
    E: From<DbError> + From<diesel::result::Error> + Send,
{
    crate::write_transaction!(conn, |c| {
        let Some(mut conversation) = diesel::update(conversations::table.find(conversation_id))
            .set(conversations::version.eq(conversations::version + 1))
            .returning(ConversationRow::as_returning())
            .get_result::<ConversationRow>(c)
            .await
            .optional()?
        else {
            return Err(E::from(diesel::result::Error::NotFound));
        };
        let current: Vec<MembershipRow> = memberships::table
            .filter(memberships::conversation_id.eq(conversation_id))
            .select(MembershipRow::as_select())
            .load(c)
            .await?;
        let target_id = match op {
            ChangeOp::Add { user_id, .. } | ChangeOp::Remove { user_id } | ChangeOp::SetRole { user_id, .. } => {
                Some(user_id)
            }
            ChangeOp::Rename { .. } => None,
        };
        let context = ChangeContext {
            actor: current.iter().find(|m| m.user_id == actor_id).cloned(),
            target: target_id.and_then(|id| current.iter().find(|m| m.user_id == id).cloned()),
            member_count: current.len(),
            conversation: conversation.clone(),
        };
        decide(&context)?;
        let applied = match op {
            ChangeOp::Rename { title } => {
                diesel::update(conversations::table.find(conversation_id))
                    .set(conversations::title.eq(title))
                    .execute(c)
                    .await?;
                conversation.title = Some(title.to_owned());
                true
            }
            ChangeOp::Add { user_id, role } => {
                let row = MembershipRow {
                    conversation_id,
                    user_id,
                    role,
                    last_read_seq: Seq(0),
                    joined_at: super::now(),
                    notify_level: NotificationLevel::All.as_str().to_owned(),
                    muted_until: None,
                    last_delivered_seq: Seq(0),
                };
                diesel::insert_into(memberships::table)
                    .values(row)
                    .on_conflict((memberships::conversation_id, memberships::user_id))
                    .do_nothing()
                    .execute(c)
                    .await?
                    == 1
            }
            ChangeOp::Remove { user_id } => {
                let deleted = diesel::delete(memberships::table.find((conversation_id, user_id))).execute(c).await?;
                let remaining: Vec<&MembershipRow> = current.iter().filter(|m| m.user_id != user_id).collect();
                // The last owner left a group with others in it: the longest-standing admin (else member) owns it.
                if deleted == 1 && !remaining.is_empty() && !remaining.iter().any(|m| m.role == Role::Owner) {
                    let heir = remaining
                        .iter()
                        .min_by_key(|m| (std::cmp::Reverse(m.role), m.joined_at, m.user_id))
                        .map(|m| m.user_id);
                    if let Some(heir) = heir {
                        diesel::update(memberships::table.find((conversation_id, heir)))
                            .set(memberships::role.eq(Role::Owner.as_str()))
                            .execute(c)
                            .await?;
                    }
                }
                deleted == 1
            }
            ChangeOp::SetRole { user_id, role } => {
                if role == Role::Owner {
                    diesel::update(memberships::table.find((conversation_id, actor_id)))
                        .set(memberships::role.eq(Role::Admin.as_str()))
                        .execute(c)
                        .await?;
                }
                diesel::update(memberships::table.find((conversation_id, user_id)))
                    .filter(memberships::role.ne(role.as_str()))
                    .set(memberships::role.eq(role.as_str()))
                    .execute(c)
                    .await?
                    == 1
            }
        };
        let event = match op {
            _ if !applied => None,
            ChangeOp::Rename { title } => Some(TimelineEvent::Renamed { title: Some(title.to_owned()) }),
            ChangeOp::Add { user_id, .. } => {
                Some(TimelineEvent::MemberAdded { user_id: user_id.get(), user_name: c.display_name(user_id).await? })
            }
            ChangeOp::Remove { user_id } if user_id == actor_id => Some(TimelineEvent::MemberLeft),
            ChangeOp::Remove { user_id } => {
                Some(TimelineEvent::MemberRemoved { user_id: user_id.get(), user_name: c.display_name(user_id).await? })
            }
            ChangeOp::SetRole { .. } => None,
        };
        let timeline = match event {
            Some(event) => {
                let row = c.append_event(conversation_id, actor_id, &event, super::now()).await?;
                if let ChangeOp::Add { user_id, .. } = op {
                    c.read_before(conversation_id, user_id, row.seq).await?;
                }
                conversation.last_seq = row.seq;
                Some(row)
            }
            None => None,
        };
        let members = memberships::table
            .filter(memberships::conversation_id.eq(conversation_id))
            .select((memberships::user_id, memberships::last_read_seq))
            .load::<(UserId, Seq)>(c)
            .await?
            .into_iter()
            .map(|(user_id, last_read_seq)| MemberState { user_id, last_read_seq })
            .collect();
        Ok(Changed { conversation, members, applied, timeline })
    })
}

/// Every conversation of `user_id` with its version, last seq and all its members, in one statement: what a
/// socket's routing starts from.
pub async fn states_for_user(conn: &mut DbConn, user_id: UserId) -> DbResult<Vec<ConversationState>> {
    let others = diesel::alias!(memberships as others);
    let rows: Vec<(ConversationId, i64, Seq, UserId, Seq)> = with_conn!(conn, |c| conversations::table
        .inner_join(memberships::table.on(memberships::conversation_id.eq(conversations::id)))
        .inner_join(others.on(others.field(memberships::conversation_id).eq(conversations::id)))
        .filter(memberships::user_id.eq(user_id))
        .select((
            conversations::id,
            conversations::version,
            conversations::last_seq,
            others.field(memberships::user_id),
            others.field(memberships::last_read_seq),
        ))
        .order(conversations::id.asc())
        .load(c)
        .await)?;
    Ok(group_states(rows))
}

/// A conversation joined with one of its members (none for a conversation without members).
type StateRow = (ConversationId, i64, Seq, Option<UserId>, Option<Seq>);

/// One conversation's state (an instance whose routing fell behind reads it).
pub async fn state(conn: &mut DbConn, conversation_id: ConversationId) -> DbResult<Option<ConversationState>> {
    let rows: Vec<StateRow> = with_conn!(conn, |c| conversations::table
        .left_join(memberships::table.on(memberships::conversation_id.eq(conversations::id)))
        .filter(conversations::id.eq(conversation_id))
        .select((
            conversations::id,
            conversations::version,
            conversations::last_seq,
            memberships::user_id.nullable(),
            memberships::last_read_seq.nullable(),
        ))
        .load(c)
        .await)?;
    let Some(&(id, version, last_seq, _, _)) = <[_]>::first(&rows) else { return Ok(None) };
    let members = rows
        .into_iter()
        .filter_map(|(_, _, _, user_id, last_read_seq)| {
            Some(MemberState { user_id: user_id?, last_read_seq: last_read_seq? })
        })
        .collect();
    Ok(Some(ConversationState { id, version, last_seq, members }))
}

fn group_states(rows: Vec<(ConversationId, i64, Seq, UserId, Seq)>) -> Vec<ConversationState> {
    let mut states: Vec<ConversationState> = Vec::new();
    for (id, version, last_seq, user_id, last_read_seq) in rows {
        let member = MemberState { user_id, last_read_seq };
        match states.last_mut() {
            Some(state) if state.id == id => state.members.push(member),
            _ => states.push(ConversationState { id, version, last_seq, members: vec![member] }),
        }
    }
    states
}

pub async fn membership(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    user_id: UserId,
) -> DbResult<Option<MembershipRow>> {
    Ok(with_conn!(conn, |c| memberships::table
        .find((conversation_id, user_id))
        .select(MembershipRow::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Members with their accounts, owners first, then by join time.
pub async fn members(
    conn: &mut DbConn,
    conversation_ids: &[ConversationId],
) -> DbResult<Vec<(MembershipRow, UserRow)>> {
    let mut rows: Vec<(MembershipRow, UserRow)> = with_conn!(conn, |c| memberships::table
        .inner_join(users::table)
        .filter(memberships::conversation_id.eq_any(conversation_ids))
        .select((MembershipRow::as_select(), UserRow::as_select()))
        .load(c)
        .await)?;
    rows.sort_by(|a, b| {
        (a.0.conversation_id, std::cmp::Reverse(a.0.role), a.0.joined_at, a.1.id).cmp(&(
            b.0.conversation_id,
            std::cmp::Reverse(b.0.role),
            b.0.joined_at,
            b.1.id,
        ))
    });
    Ok(rows)
}

/// The caller's conversations with the caller's membership.
pub async fn for_user(conn: &mut DbConn, user_id: UserId) -> DbResult<Vec<(ConversationRow, MembershipRow)>> {
    Ok(with_conn!(conn, |c| conversations::table
        .inner_join(memberships::table)
        .filter(memberships::user_id.eq(user_id))
        .select((ConversationRow::as_select(), MembershipRow::as_select()))
        .load(c)
        .await)?)
}

pub async fn ids_for_user(conn: &mut DbConn, user_id: UserId) -> DbResult<Vec<ConversationId>> {
    Ok(with_conn!(conn, |c| memberships::table
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::conversation_id)
        .load(c)
        .await)?)
}

/// Everyone who shares at least one conversation with `user_id` (not the user).
pub async fn co_member_ids(conn: &mut DbConn, user_id: UserId) -> DbResult<Vec<UserId>> {
    let mine = ids_for_user(conn, user_id).await?;
    Ok(with_conn!(conn, |c| memberships::table
        .filter(memberships::conversation_id.eq_any(&mine))
        .filter(memberships::user_id.ne(user_id))
        .select(memberships::user_id)
        .distinct()
        .load(c)
        .await)?)
}

/// Set a member's notification level; the membership after it, or None when not a member.
pub async fn set_notifications(
    conn: &mut DbConn,
    conversation_id: ConversationId,
    user_id: UserId,
    level: &str,
    until: Option<chrono::NaiveDateTime>,
) -> DbResult<Option<MembershipRow>> {
    Ok(with_conn!(conn, |c| diesel::update(memberships::table.find((conversation_id, user_id)))
        .set((memberships::notify_level.eq(level), memberships::muted_until.eq(until)))
        .returning(MembershipRow::as_returning())
        .get_result(c)
        .await
        .optional())?)
}
