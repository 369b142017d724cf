//! Queries on attachments: reserving an upload under the uploader's lock, completing it, reading it as a member,
//! claiming it for a message (in the message's transaction, `db::messages`), and the two ways it goes away.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;

use super::models::{AttachmentRow, NewAttachment};
use super::schema::{attachments, memberships, users};
use super::{DbConn, DbError, DbResult};
use crate::ids::UserId;
use crate::protocol::Attachment;
use crate::with_conn;

/// What the upload rules decide on, read under the uploader's lock: no other upload of theirs can start or end
/// between these counts and the insert.
#[derive(Debug, Clone, Copy)]
pub struct UploaderState {
    pub is_member: bool,
    /// Bytes uploaded (or reserved by uploads in progress) since the quota window began.
    pub bytes_in_window: i64,
    /// Uploads whose body is still arriving.
    pub in_progress: i64,
    /// Finished uploads no message carries yet.
    pub unsent: i64,
}

/// Reserve an upload: `decide` rules on the uploader's state, then the row is inserted (not yet sendable).
/// `stale_before`: uploads in progress older than this are taken for dead (their process stopped) and not counted.
pub async fn reserve<E>(
    conn: &mut DbConn,
    new: &NewAttachment<'_>,
    window_start: chrono::NaiveDateTime,
    stale_before: chrono::NaiveDateTime,
    decide: impl FnOnce(&UploaderState) -> Result<(), E> + Send,
) -> Result<(), E>
where
    E: From<DbError> + From<diesel::result::Error> + Send,
{
    let me = new.uploader_id;
    crate::write_transaction!(conn, |c| {
        // A no-op update takes the uploader's row lock on PostgreSQL (SQLite's BEGIN IMMEDIATE holds the
        // database's): concurrent uploads of one user, on any instance, count one after the other.
        diesel::update(users::table.find(me)).set(users::id.eq(users::id)).execute(c).await?;
        let is_member: bool = diesel::select(diesel::dsl::exists(
            memberships::table
                .filter(memberships::conversation_id.eq(new.conversation_id))
                .filter(memberships::user_id.eq(me)),
        ))
        .get_result(c)
        .await?;
        let mine = || attachments::table.filter(attachments::uploader_id.eq(me));
        let bytes_in_window: i64 = mine()
            .filter(attachments::created_at.gt(window_start))
            .select(sql::<BigInt>("COALESCE(CAST(SUM(size) AS BIGINT), 0)"))
            .get_result(c)
            .await?;
        let in_progress: i64 = mine()
            .filter(attachments::completed_at.is_null())
            .filter(attachments::deleted_at.is_null())
            .filter(attachments::created_at.gt(stale_before))
            .count()
            .get_result(c)
            .await?;
        let unsent: i64 = mine()
            .filter(attachments::message_id.is_null())
            .filter(attachments::completed_at.is_not_null())
            .filter(attachments::deleted_at.is_null())
            .count()
            .get_result(c)
            .await?;
        decide(&UploaderState { is_member, bytes_in_window, in_progress, unsent })?;
        diesel::insert_into(attachments::table).values(new).execute(c).await?;
        Ok::<(), E>(())
    })
}

/// What the upload turned out to be, once its bytes are stored.
#[derive(Debug, Clone)]
pub struct Completed<'a> {
    pub size: i64,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub thumbnail_type: Option<&'a str>,
}

/// The upload is complete and may be sent; None when the row is gone (collected meanwhile).
pub async fn complete(conn: &mut DbConn, public_id: &str, done: &Completed<'_>) -> DbResult<Option<AttachmentRow>> {
    let now = super::now();
    Ok(with_conn!(conn, |c| diesel::update(
        attachments::table.filter(attachments::public_id.eq(public_id)).filter(attachments::deleted_at.is_null())
    )
    .set((
        attachments::size.eq(done.size),
        attachments::sha256.eq(done.sha256),
        attachments::content_type.eq(done.content_type),
        attachments::width.eq(done.width),
        attachments::height.eq(done.height),
        attachments::thumbnail_type.eq(done.thumbnail_type),
        attachments::completed_at.eq(now),
    ))
    .returning(AttachmentRow::as_returning())
    .get_result(c)
    .await
    .optional())?)
}

/// A failed upload gives its reservation back.
pub async fn abandon(conn: &mut DbConn, public_id: &str) -> DbResult<()> {
    with_conn!(conn, |c| diesel::delete(
        attachments::table.filter(attachments::public_id.eq(public_id)).filter(attachments::completed_at.is_null())
    )
    .execute(c)
    .await)?;
    Ok(())
}

/// The attachment as `reader` may see it now: complete, not removed, in a conversation they are a member of,
/// and either sent in a message or their own upload. Anything else is None, whichever the reason.
pub async fn readable(conn: &mut DbConn, public_id: &str, reader: UserId) -> DbResult<Option<AttachmentRow>> {
    Ok(with_conn!(conn, |c| attachments::table
        .inner_join(
            memberships::table
                .on(memberships::conversation_id.eq(attachments::conversation_id).and(memberships::user_id.eq(reader))),
        )
        .filter(attachments::public_id.eq(public_id))
        .filter(attachments::completed_at.is_not_null())
        .filter(attachments::deleted_at.is_null())
        .filter(attachments::message_id.is_not_null().or(attachments::uploader_id.eq(reader)))
        .select(AttachmentRow::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Objects of removed attachments: the file and its thumbnail, if any.
pub type Removed = (String, Option<String>);

/// The uploader's own upload that no message carries, marked removed (None: not such an upload). It keeps
/// counting against the quota until the window passes.
pub async fn discard_unsent(conn: &mut DbConn, public_id: &str, uploader: UserId) -> DbResult<Option<Removed>> {
    let now = super::now();
    Ok(with_conn!(conn, |c| diesel::update(
        attachments::table
            .filter(attachments::public_id.eq(public_id))
            .filter(attachments::uploader_id.eq(uploader))
            .filter(attachments::message_id.is_null())
            .filter(attachments::deleted_at.is_null())
    )
    .set(attachments::deleted_at.eq(now))
    .returning((attachments::public_id, attachments::thumbnail_type))
    .get_result(c)
    .await
    .optional())?)
}

/// Uploads no message carries, started before `cutoff`, marked removed; their objects are the caller's to
/// delete. At most `limit` a call.
pub async fn expire_unsent(conn: &mut DbConn, cutoff: chrono::NaiveDateTime, limit: i64) -> DbResult<Vec<Removed>> {
    let now = super::now();
    with_conn!(conn, |c| {
        let ids: Vec<i64> = attachments::table
            .filter(attachments::message_id.is_null())
            .filter(attachments::deleted_at.is_null())
            .filter(attachments::created_at.lt(cutoff))
            .select(attachments::id)
            .limit(limit)
            .load(c)
            .await?;
        // The conditions are checked again by the update: a send that claimed one meanwhile keeps it.
        let removed: Vec<Removed> = diesel::update(
            attachments::table
                .filter(attachments::id.eq_any(&ids))
                .filter(attachments::message_id.is_null())
                .filter(attachments::deleted_at.is_null()),
        )
        .set(attachments::deleted_at.eq(now))
        .returning((attachments::public_id, attachments::thumbnail_type))
        .get_results(c)
        .await?;
        Ok::<_, DbError>(removed)
    })
}

/// Rows of removed attachments that no longer count against a quota.
pub async fn purge_removed(conn: &mut DbConn, window_start: chrono::NaiveDateTime) -> DbResult<usize> {
    Ok(with_conn!(conn, |c| diesel::delete(
        attachments::table
            .filter(attachments::deleted_at.is_not_null())
            .filter(attachments::created_at.lt(window_start))
    )
    .execute(c)
    .await)?)
}

/// The wire form of an attachment; a message's `attachments` column holds a JSON array of these, so reading a
/// message needs no conversion.
pub fn wire(row: &AttachmentRow) -> Attachment {
    Attachment {
        id: row.public_id.clone(),
        name: row.name.clone(),
        content_type: row.content_type.clone(),
        size: row.size,
        width: row.width,
        height: row.height,
        url: Attachment::url_of(&row.public_id),
        thumbnail_url: row.thumbnail_type.as_ref().map(|_| Attachment::thumbnail_url_of(&row.public_id)),
    }
}

/// A message's attachments column from its claimed rows, in the order the send named them; None when a named
/// upload was not among them (someone else's, another conversation's, already sent, unfinished, or unknown).
pub fn column_for(ids: &[String], claimed: &[AttachmentRow]) -> Option<String> {
    let ordered: Option<Vec<Attachment>> =
        ids.iter().map(|id| claimed.iter().find(|row| &row.public_id == id).map(wire)).collect();
    let ordered = ordered.filter(|o| o.len() == claimed.len())?;
    serde_json::to_string(&ordered).ok()
}

/// The attachments a message's column holds (none when NULL or unreadable).
pub fn from_column(column: Option<&str>) -> Vec<Attachment> {
    column.and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default()
}

/// The claim of a send's uploads, spelled once for the writer's two connections (async PostgreSQL, the SQLite
/// writer thread's synchronous one): every named upload that is the sender's, of this conversation, complete,
/// and unclaimed, now belongs to the message. Row locks (PostgreSQL) or the write lock (SQLite) make a second
/// claim of the same upload find it taken.
#[macro_export]
macro_rules! claim_attachments {
    ($ids:expr, $conversation:expr, $sender:expr, $message_id:expr) => {
        diesel::update(
            $crate::db::schema::attachments::table
                .filter($crate::db::schema::attachments::public_id.eq_any($ids))
                .filter($crate::db::schema::attachments::conversation_id.eq($conversation))
                .filter($crate::db::schema::attachments::uploader_id.eq($sender))
                .filter($crate::db::schema::attachments::message_id.is_null())
                .filter($crate::db::schema::attachments::completed_at.is_not_null())
                .filter($crate::db::schema::attachments::deleted_at.is_null()),
        )
        .set($crate::db::schema::attachments::message_id.eq(Some($message_id)))
        .returning($crate::db::models::AttachmentRow::as_returning())
    };
}
