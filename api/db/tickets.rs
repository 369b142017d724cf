//! Socket tickets: stored by hash, redeemed once by whichever instance the socket reaches.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::ws_tickets;
use super::{DbConn, DbError, DbResult};
use crate::ids::{SessionId, UserId};
use crate::{with_conn, write_transaction};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ws_tickets)]
pub struct NewTicket {
    pub ticket_hash: String,
    pub user_id: UserId,
    pub session_id: SessionId,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Store a ticket; purge every expired one, and the user's oldest beyond `max_per_user`.
pub async fn issue(conn: &mut DbConn, new: &NewTicket, max_per_user: usize) -> DbResult<()> {
    write_transaction!(conn, |c| {
        diesel::delete(ws_tickets::table.filter(ws_tickets::expires_at.le(new.created_at))).execute(c).await?;
        diesel::insert_into(ws_tickets::table).values(new).execute(c).await?;
        let outstanding: Vec<String> = ws_tickets::table
            .filter(ws_tickets::user_id.eq(new.user_id))
            .order((ws_tickets::created_at.desc(), ws_tickets::ticket_hash.desc()))
            .select(ws_tickets::ticket_hash)
            .load(c)
            .await?;
        let dropped: Vec<&String> =
            outstanding.iter().filter(|h| **h != new.ticket_hash).skip(max_per_user.saturating_sub(1)).collect();
        if !dropped.is_empty() {
            diesel::delete(ws_tickets::table.filter(ws_tickets::ticket_hash.eq_any(dropped))).execute(c).await?;
        }
        Ok::<_, DbError>(())
    })
}

/// Take the ticket out, atomically (a second redeem, anywhere, finds nothing): (user, session, expiry).
pub async fn take(conn: &mut DbConn, ticket_hash: &str) -> DbResult<Option<(UserId, SessionId, NaiveDateTime)>> {
    Ok(with_conn!(conn, |c| diesel::delete(ws_tickets::table.find(ticket_hash))
        .returning((ws_tickets::user_id, ws_tickets::session_id, ws_tickets::expires_at))
        .get_result(c)
        .await
        .optional())?)
}
