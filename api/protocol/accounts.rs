//! Accounts on the wire: registering, logging in, sessions and their tokens, the caller's own profile.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::User;

/// A browser's session (`/api/auth/web/*`): the refresh token travels only in an HttpOnly cookie, never here.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebSession {
    pub user: User,
    pub session_id: i64,
    /// Bearer token for `Authorization`; keep it in memory only.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl From<Session> for WebSession {
    fn from(session: Session) -> Self {
        WebSession {
            user: session.user,
            session_id: session.session_id,
            access_token: session.access_token,
            expires_in: session.expires_in,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub user: User,
    /// The session this login started (see `GET /api/auth/sessions`); refreshing keeps it.
    pub session_id: i64,
    /// Bearer token for `Authorization` and the WebSocket.
    pub access_token: String,
    /// Opaque; spent by one refresh, which returns a new one.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// 3–32 characters of `a-z 0-9 _ . -`; case-insensitive, and blanks around it are dropped.
    #[schema(
        example = "alice",
        pattern = r"^[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[A-Za-z0-9_.-]{3,32}[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub username: String,
    /// 8–256 characters.
    #[schema(example = "correct horse battery", min_length = 8, max_length = 256)]
    pub password: String,
    /// 1–64 characters, blanks around it dropped, no control characters; the username when absent.
    #[serde(default)]
    #[schema(
        example = "Alice",
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "correct horse battery")]
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(example = "correct horse battery")]
    pub current_password: String,
    /// 8–256 characters.
    #[schema(example = "battery staple horse", min_length = 8, max_length = 256)]
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateProfileRequest {
    /// 1–64 characters, blanks around it dropped, no control characters.
    #[schema(
        example = "Alice Liddell",
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub display_name: String,
}

/// A single-use ticket for `GET /ws?ticket=…`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WsTicket {
    /// Opens one socket, once.
    pub ticket: String,
    /// Seconds until it expires unused (30).
    #[schema(example = 30)]
    pub expires_in: i64,
}

/// One of the caller's live sessions (a login and its refreshes).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SessionInfo {
    pub id: i64,
    /// The User-Agent that logged in (at most 120 characters), if it sent one.
    #[schema(example = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")]
    pub device: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The last login or refresh.
    pub last_used_at: DateTime<Utc>,
    /// The absolute end: refreshing does not move it.
    pub expires_at: DateTime<Utc>,
    /// The session of the token that asked.
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    /// Live sessions, most recently used first.
    pub sessions: Vec<SessionInfo>,
}
