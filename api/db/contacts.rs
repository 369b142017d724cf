//! Queries on contacts.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::UserRow;
use super::schema::{contacts, users};
use super::{DbConn, DbResult};
use crate::ids::UserId;
use crate::with_conn;

pub async fn list(conn: &mut DbConn, owner_id: UserId) -> DbResult<Vec<UserRow>> {
    Ok(with_conn!(conn, |c| contacts::table
        .inner_join(users::table.on(users::id.eq(contacts::contact_id)))
        .filter(contacts::owner_id.eq(owner_id))
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(c)
        .await)?)
}

/// True when the contact is new.
pub async fn add(conn: &mut DbConn, owner_id: UserId, contact_id: UserId) -> DbResult<bool> {
    let inserted = with_conn!(conn, |c| diesel::insert_into(contacts::table)
        .values((
            contacts::owner_id.eq(owner_id),
            contacts::contact_id.eq(contact_id),
            contacts::created_at.eq(super::now()),
        ))
        .on_conflict((contacts::owner_id, contacts::contact_id))
        .do_nothing()
        .execute(c)
        .await)?;
    Ok(inserted == 1)
}

pub async fn remove(conn: &mut DbConn, owner_id: UserId, contact_id: UserId) -> DbResult<bool> {
    let deleted = with_conn!(conn, |c| diesel::delete(
        contacts::table.filter(contacts::owner_id.eq(owner_id)).filter(contacts::contact_id.eq(contact_id))
    )
    .execute(c)
    .await)?;
    Ok(deleted == 1)
}
