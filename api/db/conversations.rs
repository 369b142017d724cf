use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::models::{ConversationRow, MembershipRow, NewConversation, UserRow};
use super::schema::{conversations, memberships, users};
use super::{DbConn, DbError, DbResult};
use crate::with_conn;

pub async fn by_id(conn: &mut DbConn, id: i64) -> DbResult<Option<ConversationRow>> {
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

/// Insert a conversation and its memberships in one transaction.
pub async fn create(
    conn: &mut DbConn,
    new: &NewConversation<'_>,
    members: &[(i64, &'static str)],
) -> DbResult<ConversationRow> {
    let joined_at = new.created_at;
    with_conn!(conn, |c| c
        .transaction(async |c| {
            let row: ConversationRow = diesel::insert_into(conversations::table)
                .values(new)
                .returning(ConversationRow::as_returning())
                .get_result(c)
                .await?;
            let rows: Vec<MembershipRow> = members
                .iter()
                .map(|&(user_id, role)| MembershipRow {
                    conversation_id: row.id,
                    user_id,
                    role: role.to_owned(),
                    last_read_seq: 0,
                    joined_at,
                })
                .collect();
            for membership in &rows {
                diesel::insert_into(memberships::table).values(membership).execute(c).await?;
            }
            Ok::<_, DbError>(row)
        })
        .await)
}

pub async fn membership(conn: &mut DbConn, conversation_id: i64, user_id: i64) -> DbResult<Option<MembershipRow>> {
    Ok(with_conn!(conn, |c| memberships::table
        .find((conversation_id, user_id))
        .select(MembershipRow::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Members with their accounts, owners first, then by join time.
pub async fn members(conn: &mut DbConn, conversation_ids: &[i64]) -> DbResult<Vec<(MembershipRow, UserRow)>> {
    let mut rows: Vec<(MembershipRow, UserRow)> = with_conn!(conn, |c| memberships::table
        .inner_join(users::table)
        .filter(memberships::conversation_id.eq_any(conversation_ids))
        .select((MembershipRow::as_select(), UserRow::as_select()))
        .load(c)
        .await)?;
    rows.sort_by(|a, b| {
        (a.0.conversation_id, role_rank(&a.0.role), a.0.joined_at, a.1.id).cmp(&(
            b.0.conversation_id,
            role_rank(&b.0.role),
            b.0.joined_at,
            b.1.id,
        ))
    });
    Ok(rows)
}

fn role_rank(role: &str) -> u8 {
    match role {
        "owner" => 0,
        "admin" => 1,
        _ => 2,
    }
}

pub async fn member_ids(conn: &mut DbConn, conversation_id: i64) -> DbResult<Vec<i64>> {
    Ok(with_conn!(conn, |c| memberships::table
        .filter(memberships::conversation_id.eq(conversation_id))
        .select(memberships::user_id)
        .load(c)
        .await)?)
}

/// The caller's conversations with the caller's membership.
pub async fn for_user(conn: &mut DbConn, user_id: i64) -> DbResult<Vec<(ConversationRow, MembershipRow)>> {
    Ok(with_conn!(conn, |c| conversations::table
        .inner_join(memberships::table)
        .filter(memberships::user_id.eq(user_id))
        .select((ConversationRow::as_select(), MembershipRow::as_select()))
        .load(c)
        .await)?)
}

/// The user's conversations with their last seq (where a socket's live delivery starts).
pub async fn positions_for_user(conn: &mut DbConn, user_id: i64) -> DbResult<Vec<(i64, i64)>> {
    Ok(with_conn!(conn, |c| conversations::table
        .inner_join(memberships::table)
        .filter(memberships::user_id.eq(user_id))
        .select((conversations::id, conversations::last_seq))
        .load(c)
        .await)?)
}

pub async fn ids_for_user(conn: &mut DbConn, user_id: i64) -> DbResult<Vec<i64>> {
    Ok(with_conn!(conn, |c| memberships::table
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::conversation_id)
        .load(c)
        .await)?)
}

/// Everyone who shares at least one conversation with `user_id` (not the user).
pub async fn co_member_ids(conn: &mut DbConn, user_id: i64) -> DbResult<Vec<i64>> {
    let mine = ids_for_user(conn, user_id).await?;
    Ok(with_conn!(conn, |c| memberships::table
        .filter(memberships::conversation_id.eq_any(&mine))
        .filter(memberships::user_id.ne(user_id))
        .select(memberships::user_id)
        .distinct()
        .load(c)
        .await)?)
}

pub async fn rename(conn: &mut DbConn, id: i64, title: &str) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(conversations::table.find(id))
        .set(conversations::title.eq(title))
        .execute(c)
        .await)?;
    Ok(())
}

/// True when the user was not a member yet.
pub async fn add_member(conn: &mut DbConn, conversation_id: i64, user_id: i64, role: &str) -> DbResult<bool> {
    let row =
        MembershipRow { conversation_id, user_id, role: role.to_owned(), last_read_seq: 0, joined_at: super::now() };
    let inserted = with_conn!(conn, |c| diesel::insert_into(memberships::table)
        .values(&row)
        .on_conflict((memberships::conversation_id, memberships::user_id))
        .do_nothing()
        .execute(c)
        .await)?;
    Ok(inserted == 1)
}

/// Remove a member; when the last owner leaves a group with others in it, the longest-standing admin (else
/// member) becomes owner. Returns false when the user was not a member.
pub async fn remove_member(conn: &mut DbConn, conversation_id: i64, user_id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| c
        .transaction(async |c| {
            let deleted = diesel::delete(memberships::table.find((conversation_id, user_id))).execute(c).await?;
            if deleted == 0 {
                return Ok::<_, DbError>(false);
            }
            let remaining: Vec<MembershipRow> = memberships::table
                .filter(memberships::conversation_id.eq(conversation_id))
                .select(MembershipRow::as_select())
                .load(c)
                .await?;
            if !remaining.is_empty() && !remaining.iter().any(|m| m.role == "owner") {
                let heir =
                    remaining.iter().min_by_key(|m| (role_rank(&m.role), m.joined_at, m.user_id)).map(|m| m.user_id);
                if let Some(heir) = heir {
                    diesel::update(memberships::table.find((conversation_id, heir)))
                        .set(memberships::role.eq("owner"))
                        .execute(c)
                        .await?;
                }
            }
            Ok(true)
        })
        .await)
}

/// Move the read position forward (never back, never past the last message); returns (last_read_seq, last_seq).
pub async fn mark_read(conn: &mut DbConn, conversation_id: i64, user_id: i64, up_to_seq: i64) -> DbResult<(i64, i64)> {
    with_conn!(conn, |c| c
        .transaction(async |c| {
            let last_seq: i64 =
                conversations::table.find(conversation_id).select(conversations::last_seq).first(c).await?;
            let target = up_to_seq.min(last_seq);
            diesel::update(
                memberships::table.find((conversation_id, user_id)).filter(memberships::last_read_seq.lt(target)),
            )
            .set(memberships::last_read_seq.eq(target))
            .execute(c)
            .await?;
            let last_read: i64 =
                memberships::table.find((conversation_id, user_id)).select(memberships::last_read_seq).first(c).await?;
            Ok::<_, DbError>((last_read, last_seq))
        })
        .await)
}
