//! Blocks between users. The plain queries here are shared by the REST rules and the live side.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::UserRow;
use super::schema::{blocks, users};
use super::{DbConn, DbResult};
use crate::ids::UserId;
use crate::with_conn;

/// True when the block is new.
pub async fn add(conn: &mut DbConn, blocker_id: UserId, blocked_id: UserId) -> DbResult<bool> {
    let inserted = with_conn!(conn, |c| diesel::insert_into(blocks::table)
        .values((
            blocks::blocker_id.eq(blocker_id),
            blocks::blocked_id.eq(blocked_id),
            blocks::created_at.eq(super::now())
        ))
        .on_conflict((blocks::blocker_id, blocks::blocked_id))
        .do_nothing()
        .execute(c)
        .await)?;
    Ok(inserted == 1)
}

/// True when there was a block to remove.
pub async fn remove(conn: &mut DbConn, blocker_id: UserId, blocked_id: UserId) -> DbResult<bool> {
    let deleted = with_conn!(conn, |c| diesel::delete(blocks::table.find((blocker_id, blocked_id))).execute(c).await)?;
    Ok(deleted == 1)
}

pub async fn exists(conn: &mut DbConn, blocker_id: UserId, blocked_id: UserId) -> DbResult<bool> {
    let found: i64 = with_conn!(conn, |c| blocks::table.find((blocker_id, blocked_id)).count().get_result(c).await)?;
    Ok(found > 0)
}

pub async fn count(conn: &mut DbConn, blocker_id: UserId) -> DbResult<i64> {
    Ok(with_conn!(conn, |c| blocks::table.filter(blocks::blocker_id.eq(blocker_id)).count().get_result(c).await)?)
}

/// The users `blocker_id` has blocked, by username.
pub async fn blocked_by(conn: &mut DbConn, blocker_id: UserId) -> DbResult<Vec<UserRow>> {
    Ok(with_conn!(conn, |c| blocks::table
        .inner_join(users::table.on(users::id.eq(blocks::blocked_id)))
        .filter(blocks::blocker_id.eq(blocker_id))
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(c)
        .await)?)
}

/// Everyone `user` has blocked or is blocked by (each once).
pub async fn related_to(conn: &mut DbConn, user: UserId) -> DbResult<Vec<UserId>> {
    let pairs: Vec<(UserId, UserId)> = with_conn!(conn, |c| blocks::table
        .filter(blocks::blocker_id.eq(user).or(blocks::blocked_id.eq(user)))
        .select((blocks::blocker_id, blocks::blocked_id))
        .load(c)
        .await)?;
    let mut others: Vec<UserId> =
        pairs.into_iter().map(|(blocker, blocked)| if blocker == user { blocked } else { blocker }).collect();
    others.sort_unstable();
    others.dedup();
    Ok(others)
}

/// Among `others`: those `me` has blocked, and those who have blocked `me`.
pub async fn sides(conn: &mut DbConn, me: UserId, others: &[UserId]) -> DbResult<(Vec<UserId>, Vec<UserId>)> {
    let pairs: Vec<(UserId, UserId)> = with_conn!(conn, |c| blocks::table
        .filter(
            blocks::blocker_id
                .eq(me)
                .and(blocks::blocked_id.eq_any(others))
                .or(blocks::blocked_id.eq(me).and(blocks::blocker_id.eq_any(others))),
        )
        .select((blocks::blocker_id, blocks::blocked_id))
        .load(c)
        .await)?;
    let (mine, theirs): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(blocker, _)| *blocker == me);
    Ok((
        mine.into_iter().map(|(_, blocked)| blocked).collect(),
        theirs.into_iter().map(|(blocker, _)| blocker).collect(),
    ))
}
