//! Attachments over HTTP: the upload (a raw body), the download with ranges and caching, the thumbnail, and
//! the media token that `<img>` tags use instead of a bearer header.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::AuthUser;
use crate::auth::Need;
use crate::auth::access::Scope;
use crate::auth::extractor::{authenticate_media, bearer_token};
use crate::chat::attachments::{self, Opened, ReadRequest};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ConversationId, UserId};
use crate::media::range::Requested;
use crate::protocol::{Attachment, ErrorBody, FileBytes, MediaQuery, MediaToken, UploadQuery};
use crate::state::AppState;

/// Upload a file into a conversation: the request body is the file's bytes, as they are (not multipart, not
/// JSON; any `Content-Type`), its name in `?name=`. The type is sniffed from the bytes. The answer's `id` goes
/// into a send's `attachment_ids`; an upload no message carries is removed after `CHAT_UPLOAD_GRACE_HOURS`.
#[utoipa::path(operation_id = "upload_attachment", post, path = "/api/conversations/{id}/attachments", tag = "attachments",
    params(("id" = i64, Path, description = "Conversation id"), UploadQuery),
    request_body(content = FileBytes, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 201, description = "Stored; not yet in any message", body = Attachment),
        (status = 404, description = "No such conversation, or not a member", body = ErrorBody),
        (status = 413, description = "Larger than CHAT_MAX_UPLOAD_MB (refused before the body is read when Content-Length says so)", body = ErrorBody),
        (status = 415, description = "A refused type (`unsupported_attachment_type`): programs, scripts, HTML, SVG, XML", body = ErrorBody),
        (status = 422, description = "Bad or missing name, an empty file, or an interrupted body", body = ErrorBody),
        (status = 429, description = "A per-user bound: `too_many_uploads` (4 at once), `too_many_unsent_uploads` (100), `upload_quota_exceeded` (CHAT_UPLOAD_QUOTA_MB per 24 h)", body = ErrorBody),
    ))]
pub async fn upload(
    req: HttpRequest,
    user: AuthUser,
    app: web::Data<AppState>,
    path: web::Path<ConversationId>,
    query: web::Query<UploadQuery>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let attachment =
        attachments::upload(&app.db, &app.attachments, user.user_id, path.into_inner(), &query.name, declared, body)
            .await?;
    Ok(HttpResponse::Created().json(attachment))
}

/// Who reads: the bearer token's user (an API token needs `read`), or the media token's (checked against
/// revoked sessions the same way).
async fn reader(req: &HttpRequest, app: &AppState, query: &MediaQuery) -> ApiResult<UserId> {
    match (bearer_token(req), query.media_token.as_deref()) {
        (None, Some(media_token)) => {
            let user = authenticate_media(&app.keys, media_token)?;
            app.limits.rest_call(user.user_id)?;
            Ok(user.user_id)
        }
        (bearer, _) => Ok(super::extract::admit(app, bearer, Need::Scope(Scope::Read)).await?.user_id),
    }
}

/// Download an attachment (members of its conversation; its uploader before it is sent). Supports one byte
/// range (206) and `If-None-Match` (304). Images are shown inline; everything else is a download.
#[utoipa::path(operation_id = "download_attachment", get, path = "/api/attachments/{id}", tag = "attachments",
    params(("id" = String, Path, description = "Attachment id"), MediaQuery),
    responses(
        (status = 200, description = "The file, as the type sniffed from its bytes at upload (`application/octet-stream` when not recognised)", content_type = "*/*", body = FileBytes),
        (status = 206, description = "The byte range asked for (`Range: bytes=…`)", content_type = "*/*", body = FileBytes),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 401, description = "No valid access token or media token", body = ErrorBody),
        (status = 404, description = "No such attachment, or not the caller's to read", body = ErrorBody),
        (status = 416, description = "The range lies past the end of the file"),
    ),
    security(("media_token" = [])))]
pub async fn download(
    req: HttpRequest,
    app: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<MediaQuery>,
) -> ApiResult<HttpResponse> {
    serve(&req, &app, &path, &query, false).await
}

/// Take back your own upload that no message carries yet (for a file removed before sending). It is deleted
/// at once and frees a place among your unsent uploads; it still counts against the day's quota.
#[utoipa::path(operation_id = "discard_attachment", delete, path = "/api/attachments/{id}", tag = "attachments",
    params(("id" = String, Path, description = "Attachment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Not the caller's unsent upload: someone else's, already in a message, or unknown", body = ErrorBody),
    ))]
pub async fn discard(user: AuthUser, app: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    attachments::discard(&app.db, &app.attachments.storage, user.user_id, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An image attachment's thumbnail (at most 320 px, upright, no metadata), with the same access as the file.
#[utoipa::path(operation_id = "download_thumbnail", get, path = "/api/attachments/{id}/thumbnail", tag = "attachments",
    params(("id" = String, Path, description = "Attachment id"), MediaQuery),
    responses(
        (status = 200, description = "JPEG, or PNG for images with transparency", content((FileBytes = "image/jpeg"), (FileBytes = "image/png"))),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 401, description = "No valid access token or media token", body = ErrorBody),
        (status = 404, description = "No such attachment, not the caller's to read, or not an image", body = ErrorBody),
    ),
    security(("media_token" = [])))]
pub async fn thumbnail(
    req: HttpRequest,
    app: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<MediaQuery>,
) -> ApiResult<HttpResponse> {
    serve(&req, &app, &path, &query, true).await
}

async fn serve(
    req: &HttpRequest,
    app: &AppState,
    public_id: &str,
    query: &MediaQuery,
    thumbnail: bool,
) -> ApiResult<HttpResponse> {
    let me = reader(req, app, query).await?;
    let header_text = |name| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let request = ReadRequest {
        public_id,
        thumbnail,
        if_none_match: header_text(header::IF_NONE_MATCH),
        range: header_text(header::RANGE),
    };
    let mut conn = app.db.get().await?;
    let (opened, requested) = attachments::open(&mut conn, &app.attachments.storage, me, request).await?;
    drop(conn);
    let mut response = match (&requested, &opened.download) {
        (None, _) => HttpResponse::NotModified(),
        (Some(Requested::Unsatisfiable), _) => {
            let mut response = HttpResponse::RangeNotSatisfiable();
            response.insert_header((header::CONTENT_RANGE, format!("bytes */{}", opened.row.size)));
            response
        }
        (Some(Requested::Part(_)), Some(download)) => {
            let mut response = HttpResponse::PartialContent();
            let (start, end) = (download.range.start, download.range.end.saturating_sub(1));
            response.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{}", download.total)));
            response
        }
        _ => HttpResponse::Ok(),
    };
    describe(&mut response, &opened);
    Ok(match opened.download {
        Some(download) if !matches!(requested, Some(Requested::Unsatisfiable)) => {
            response.no_chunking(download.range.end - download.range.start).streaming(download.bytes)
        }
        _ => response.finish(),
    })
}

/// Headers of every answer about an attachment: private caching by ETag, and a file that cannot act as a page.
fn describe(response: &mut actix_web::HttpResponseBuilder, opened: &Opened) {
    let inline = opened.thumbnail || crate::media::policy::is_inline(&opened.row.content_type);
    let disposition = if inline { "inline" } else { "attachment" };
    response
        .insert_header((header::ETAG, opened.etag()))
        // Private: only the browser that fetched it keeps a copy; it revalidates after an hour.
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header((header::ACCEPT_RANGES, if opened.thumbnail { "none" } else { "bytes" }))
        .insert_header((header::CONTENT_TYPE, opened.content_type().to_owned()))
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(disposition, &opened.row.name)))
        // Even opened directly, the file runs no script and loads nothing.
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
}

/// `inline|attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn content_disposition(disposition: &str, name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A media token for the caller's session: add it to attachment URLs as `?media_token=` where no
/// `Authorization` header can be sent (`<img src>`, a download link). It reads attachments and nothing else,
/// expires with the access token that asked for it, and is refused once its session ends.
#[utoipa::path(operation_id = "create_media_token", post, path = "/api/media-token", tag = "attachments",
    responses((status = 201, description = "A fresh media token", body = MediaToken)))]
pub async fn media_token(user: AuthUser, app: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let now = chrono::Utc::now().timestamp();
    let (token, expires_at) = app
        .keys
        .issue_media(user.user_id, user.session_id, now, user.expires_at)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Created().json(MediaToken { token, expires_in: (expires_at - now).max(0) }))
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn a_file_name_is_quoted_safely_and_given_whole_in_utf8() {
        assert_eq!(
            content_disposition("attachment", "r\u{e9}sum\u{e9} \"v2\".pdf"),
            "attachment; filename=\"r_sum_ _v2_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf"
        );
    }
}
