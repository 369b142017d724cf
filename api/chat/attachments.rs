//! Rules of attachments: who may upload (members, within their bounds), what is kept, who may read it, and
//! how it goes away. A send claims uploads in its storing transaction (`db::messages`), not here.
//!
//! Bounds per user, all enforced under the uploader's row lock so that concurrent uploads on any instance
//! count one after the other: [`MAX_IN_PROGRESS`] uploads at once, [`MAX_UNSENT`] finished uploads no message
//! carries, and `CHAT_UPLOAD_QUOTA_MB` per [`QUOTA_WINDOW`] (an upload in progress counts with its declared
//! length, or the file limit when it declared none).

use std::path::PathBuf;
use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::Stream;

use super::{ChatError, ChatResult};
use crate::db::attachments::{self as rows, Completed, Removed, UploaderState};
use crate::db::models::{AttachmentRow, NewAttachment};
use crate::db::{DbConn, DbPool};
use crate::domain::FileName;
use crate::ids::{ConversationId, UserId};
use crate::media::range::Requested;
use crate::media::receive::{ReceiveError, receive};
use crate::media::thumbnail;
use crate::protocol::Attachment;
use crate::storage::{Download, Storage, StorageError};

pub const MAX_IN_PROGRESS: i64 = 4;
pub const MAX_UNSENT: i64 = 100;
pub const QUOTA_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// An upload in progress for longer than this is taken for one whose process stopped.
const STALE_UPLOAD: Duration = Duration::from_secs(3600);
/// Longest wait for the next part of an upload's body.
const BODY_IDLE: Duration = Duration::from_secs(30);
/// Unsent uploads removed per pass of the collector.
const COLLECT_BATCH: i64 = 500;

/// What uploads may use, from the settings.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    pub max_file_bytes: u64,
    pub quota_bytes: u64,
    /// How long an upload no message carries is kept.
    pub grace: Duration,
}

/// Everything uploads and downloads need: the store, the limits, and a local directory where a body is kept
/// while it arrives (hashed, sniffed, thumbnailed, then copied to the store).
#[derive(Clone)]
pub struct Attachments {
    pub storage: Storage,
    pub limits: UploadLimits,
    pub spool: PathBuf,
    /// Images decoded at once, server-wide (one per core): decoding takes up to 256 MiB, and uploads of many
    /// users may arrive together.
    decoders: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Attachments {
    pub fn new(storage: Storage, limits: UploadLimits, data_dir: &std::path::Path) -> std::io::Result<Self> {
        let spool = data_dir.join("uploads-in-progress");
        crate::private_files::create_dir(&spool)?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Attachments { storage, limits, spool, decoders: std::sync::Arc::new(tokio::sync::Semaphore::new(cores)) })
    }
}

fn thumbnail_key(public_id: &str) -> String {
    format!("{public_id}.thumbnail")
}

fn storage_failed(err: StorageError) -> ChatError {
    ChatError::Storage(err.to_string())
}

fn ago(span: Duration) -> chrono::NaiveDateTime {
    crate::db::now() - chrono::Duration::from_std(span).unwrap_or_default()
}

/// The bounds an upload must fit, as a rule over the uploader's state.
fn admit(state: &UploaderState, reserved: u64, limits: &UploadLimits) -> ChatResult<()> {
    if !state.is_member {
        return Err(ChatError::NotFound);
    }
    if state.in_progress >= MAX_IN_PROGRESS {
        return Err(ChatError::TooMany {
            code: "too_many_uploads",
            message: "You have 4 uploads in progress; wait for one to finish.",
        });
    }
    if state.unsent >= MAX_UNSENT {
        return Err(ChatError::TooMany {
            code: "too_many_unsent_uploads",
            message: "You have 100 uploads no message carries yet; send or let them expire first.",
        });
    }
    if (state.bytes_in_window.max(0) as u64).saturating_add(reserved) > limits.quota_bytes {
        return Err(ChatError::TooMany {
            code: "upload_quota_exceeded",
            message: "You have uploaded as much as you may in 24 hours.",
        });
    }
    Ok(())
}

/// Removes the spooled body however the upload ends.
struct Spooled(PathBuf);

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Upload a file into a conversation: refused before its body is read when the caller is not a member, it
/// declares more than the limit, or a bound is reached; refused as soon as its first bytes show a refused type
/// or it passes the limit.
pub async fn upload<S, E>(
    db: &DbPool,
    attachments: &Attachments,
    me: UserId,
    conversation_id: ConversationId,
    name: &str,
    declared_length: Option<u64>,
    body: S,
) -> ChatResult<Attachment>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let limits = &attachments.limits;
    let name = FileName::parse(name)?;
    if declared_length.is_some_and(|length| length > limits.max_file_bytes) {
        return Err(ChatError::TooLarge(limits.max_file_bytes));
    }
    let reserved = declared_length.unwrap_or(limits.max_file_bytes);
    let public_id = crate::auth::service::random_token(16);
    let new = NewAttachment {
        public_id: &public_id,
        conversation_id,
        uploader_id: me,
        name: name.as_str(),
        content_type: "application/octet-stream",
        size: reserved as i64,
        created_at: crate::db::now(),
    };
    {
        let mut conn = db.get().await?;
        rows::reserve(&mut conn, &new, ago(QUOTA_WINDOW), ago(STALE_UPLOAD), |state| admit(state, reserved, limits))
            .await?;
    }
    let mut reservation = Reservation {
        db: db.clone(),
        storage: attachments.storage.clone(),
        public_id: public_id.clone(),
        settled: false,
    };
    let stored = store(attachments, &public_id, body).await;
    let mut conn = db.get().await?;
    match stored {
        Ok(done) => match rows::complete(&mut conn, &public_id, &done.completed()).await? {
            Some(row) => {
                reservation.settled = true;
                metrics::counter!("chat_attachments_stored_total").increment(1);
                metrics::counter!("chat_attachment_bytes_stored_total").increment(done.size);
                Ok(rows::wire(&row))
            }
            None => {
                reservation.settled = true;
                delete_objects(&attachments.storage, vec![(public_id, done.thumbnail_type.map(str::to_owned))]).await;
                Err(ChatError::NotFound)
            }
        },
        Err(err) => {
            rows::abandon(&mut conn, &public_id).await?;
            reservation.settled = true;
            Err(err)
        }
    }
}

/// An upload's reservation, given back if the upload ends any other way than settled: the request was dropped
/// when its client went away mid-body, or the database failed at the end. Without it the upload would count as
/// in progress (one of the user's four) for an hour.
struct Reservation {
    db: DbPool,
    storage: Storage,
    public_id: String,
    settled: bool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (db, storage, public_id) = (self.db.clone(), self.storage.clone(), std::mem::take(&mut self.public_id));
        tokio::spawn(async move {
            if let Ok(mut conn) = db.get().await
                && rows::abandon(&mut conn, &public_id).await.is_ok()
            {
                // Objects the upload may have stored before it was cut off (deleting none is fine).
                delete_objects(&storage, vec![(public_id.clone(), Some(String::new()))]).await;
            }
        });
    }
}

/// What storing an upload found out.
struct Stored {
    size: u64,
    sha256: String,
    content_type: String,
    dimensions: Option<(u32, u32)>,
    thumbnail_type: Option<&'static str>,
}

impl Stored {
    fn completed(&self) -> Completed<'_> {
        Completed {
            size: self.size as i64,
            sha256: &self.sha256,
            content_type: &self.content_type,
            width: self.dimensions.map(|(w, _)| i64::from(w)),
            height: self.dimensions.map(|(_, h)| i64::from(h)),
            thumbnail_type: self.thumbnail_type,
        }
    }
}

/// Spool the body, make the thumbnail, copy both to the store.
async fn store<S, E>(attachments: &Attachments, public_id: &str, body: S) -> ChatResult<Stored>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let spooled = Spooled(attachments.spool.join(public_id));
    let received =
        receive(body, &spooled.0, attachments.limits.max_file_bytes, BODY_IDLE).await.map_err(|err| match err {
            ReceiveError::TooLarge(max) => ChatError::TooLarge(max),
            ReceiveError::Refused(why) => ChatError::UnsupportedType(why),
            ReceiveError::Empty => {
                crate::domain::ValidationError::new("body", "An empty file cannot be attached.").into()
            }
            ReceiveError::Io(io) => ChatError::Storage(io.to_string()),
            interrupted @ (ReceiveError::Interrupted(_) | ReceiveError::Stalled(_)) => {
                crate::domain::ValidationError::new("body", interrupted.to_string()).into()
            }
        })?;
    let thumbnail = if received.sniffed.thumbnail {
        let _decoding = attachments.decoders.acquire().await.map_err(|e| ChatError::Storage(e.to_string()))?;
        let file = spooled.0.clone();
        match tokio::task::spawn_blocking(move || thumbnail::make(&file)).await {
            Ok(Ok(made)) => Some(made),
            Ok(Err(why)) => {
                tracing::debug!(%why, "no thumbnail: the image does not decode within bounds");
                None
            }
            Err(join) => return Err(ChatError::Storage(join.to_string())),
        }
    } else {
        None
    };
    attachments.storage.put_file(public_id, &spooled.0).await.map_err(storage_failed)?;
    let mut stored = Stored {
        size: received.size,
        sha256: received.sha256,
        content_type: received.sniffed.content_type,
        dimensions: None,
        thumbnail_type: None,
    };
    if let Some(made) = thumbnail {
        stored.dimensions = Some((made.width, made.height));
        let put = attachments.storage.put_bytes(&thumbnail_key(public_id), made.bytes).await;
        if let Err(err) = put {
            let _ = attachments.storage.delete(public_id).await;
            return Err(storage_failed(err));
        }
        stored.thumbnail_type = Some(made.content_type);
    }
    Ok(stored)
}

/// An attachment opened for reading: its row (type, name, ETag) and, unless the caller's copy is current,
/// its bytes.
pub struct Opened {
    pub row: AttachmentRow,
    pub thumbnail: bool,
    pub download: Option<Download>,
}

impl Opened {
    /// The strong validator of what is served: the file's SHA-256 (its thumbnail's is derived from it).
    pub fn etag(&self) -> String {
        let hash = self.row.sha256.as_deref().unwrap_or_default();
        if self.thumbnail { format!("\"{hash}-thumbnail\"") } else { format!("\"{hash}\"") }
    }

    pub fn content_type(&self) -> &str {
        match (&self.row.thumbnail_type, self.thumbnail) {
            (Some(thumbnail_type), true) => thumbnail_type,
            _ => &self.row.content_type,
        }
    }
}

/// What a reader asks for.
pub struct ReadRequest<'a> {
    pub public_id: &'a str,
    pub thumbnail: bool,
    /// The caller's cached copy (`If-None-Match`): when current, no bytes are read.
    pub if_none_match: Option<&'a str>,
    /// The `Range` header: honoured for the file, ignored for a thumbnail.
    pub range: Option<&'a str>,
}

/// An attachment for `reader`, checked now (membership, removal): a non-member, a removed member, and an
/// attachment that does not exist all get the same NotFound.
pub async fn open(
    conn: &mut DbConn,
    storage: &Storage,
    reader: UserId,
    request: ReadRequest<'_>,
) -> ChatResult<(Opened, Option<Requested>)> {
    let row = rows::readable(conn, request.public_id, reader).await?.ok_or(ChatError::NotFound)?;
    if request.thumbnail && row.thumbnail_type.is_none() {
        return Err(ChatError::NotFound);
    }
    let mut opened = Opened { row, thumbnail: request.thumbnail, download: None };
    let current = request.if_none_match.is_some_and(|tags| {
        let etag = opened.etag();
        tags.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*")
    });
    if current {
        return Ok((opened, None));
    }
    let key = if opened.thumbnail { thumbnail_key(&opened.row.public_id) } else { opened.row.public_id.clone() };
    let requested = if opened.thumbnail {
        Requested::Whole
    } else {
        crate::media::range::parse(request.range, opened.row.size.max(0) as u64)
    };
    let byte_range = match &requested {
        Requested::Part(part) => Some(part.clone()),
        Requested::Whole => None,
        Requested::Unsatisfiable => return Ok((opened, Some(requested))),
    };
    opened.download = Some(storage.get(&key, byte_range).await.map_err(|err| match err {
        // The row says it exists and the store disagrees: report it, and answer as for nothing.
        StorageError::NotFound => {
            tracing::warn!(attachment = %opened.row.public_id, "an attachment's object is missing from storage");
            ChatError::NotFound
        }
        other => storage_failed(other),
    })?);
    Ok((opened, Some(requested)))
}

/// The caller takes back an upload no message carries yet (a file removed from the composer): it is gone at once,
/// frees a place among the unsent ones, and still counts against the day's quota. Anything else is NotFound.
pub async fn discard(db: &DbPool, storage: &Storage, me: UserId, public_id: &str) -> ChatResult<()> {
    let mut conn = db.get().await?;
    let removed = rows::discard_unsent(&mut conn, public_id, me).await?.ok_or(ChatError::NotFound)?;
    drop(conn);
    delete_objects(storage, vec![removed]).await;
    Ok(())
}

/// Delete stored objects of removed attachments. Failures are logged and left: the rows already say removed,
/// so nothing can read them.
pub async fn delete_objects(storage: &Storage, removed: Vec<Removed>) {
    metrics::counter!("chat_attachments_removed_total").increment(removed.len() as u64);
    for (public_id, thumbnail_type) in removed {
        let keys = std::iter::once(public_id.clone()).chain(thumbnail_type.map(|_| thumbnail_key(&public_id)));
        for key in keys {
            if let Err(error) = storage.delete(&key).await {
                tracing::warn!(%error, attachment = %public_id, "could not delete an attachment's object");
            }
        }
    }
}

/// One pass of the collector: unsent uploads past the grace period are removed (their objects deleted), rows
/// of removed attachments past the quota window are forgotten, and spooled bodies of stopped uploads go.
/// Instances may run it at once: each upload is removed by one of them.
pub async fn collect_garbage(db: &DbPool, attachments: &Attachments) -> ChatResult<usize> {
    let mut conn = db.get().await?;
    let mut removed_total = 0;
    loop {
        let removed = rows::expire_unsent(&mut conn, ago(attachments.limits.grace), COLLECT_BATCH).await?;
        let count = removed.len();
        removed_total += count;
        delete_objects(&attachments.storage, removed).await;
        if (count as i64) < COLLECT_BATCH {
            break;
        }
    }
    rows::purge_removed(&mut conn, ago(QUOTA_WINDOW)).await?;
    remove_stale_spool(&attachments.spool);
    Ok(removed_total)
}

fn remove_stale_spool(spool: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(spool) else { return };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > STALE_UPLOAD);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
