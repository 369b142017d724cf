//! Attachments on the wire: an uploaded file as uploads answer it and messages carry it, and the media token
//! that lets an `<img>` tag (which cannot send a bearer header) fetch one.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A file uploaded into a conversation (`POST /api/conversations/{id}/attachments`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Attachment {
    /// Random and opaque; what `attachment_ids` of a send name.
    #[schema(example = "q7Vd1c9tRk2mXo4bL8aZ0w")]
    pub id: String,
    /// The name given at upload.
    #[schema(example = "holiday.jpg")]
    pub name: String,
    /// Sniffed from the bytes, never taken from the client: `application/octet-stream` when not recognised.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Pixels, for images (after their EXIF orientation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    /// The file: `GET` with the bearer token, or with `?media_token=` where no header can be sent.
    #[schema(example = "/api/attachments/q7Vd1c9tRk2mXo4bL8aZ0w")]
    pub url: String,
    /// Images only: a copy at most 320 px on its longer side, without metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "/api/attachments/q7Vd1c9tRk2mXo4bL8aZ0w/thumbnail")]
    pub thumbnail_url: Option<String>,
}

impl Attachment {
    pub fn url_of(id: &str) -> String {
        format!("/api/attachments/{id}")
    }

    pub fn thumbnail_url_of(id: &str) -> String {
        format!("/api/attachments/{id}/thumbnail")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, 1–255 characters (a path is cut to its last part).
    #[param(min_length = 1, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub name: String,
}

/// A short-lived token that reads attachments (and nothing else) as its session's user: add it to an
/// attachment's `url` or `thumbnail_url` as `?media_token=…`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MediaToken {
    pub token: String,
    /// Seconds until it expires (as long as an access token at most).
    #[schema(example = 900)]
    pub expires_in: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaQuery {
    /// Instead of `Authorization`: a token from `POST /api/media-token`.
    pub media_token: Option<String>,
}

/// A file's bytes as they are, as a request or response body (not JSON).
#[derive(Debug, Clone, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);
