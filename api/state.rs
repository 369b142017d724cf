//! Everything the handlers and sockets share, built once at start (`startup`) and given to every HTTP worker
//! as one `web::Data<AppState>`: a socket's actor gets the same `Arc`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderValue;

use crate::auth::{AuthKeys, Hasher};
use crate::chat::attachments::Attachments;
use crate::chat::receipts::DeliveredReceipts;
use crate::chat::writer::MessageWriter;
use crate::db::DbPool;
use crate::limits::RateLimits;
use crate::origins::AllowedOrigins;
use crate::realtime::Realtime;
use crate::realtime::mailbox::MailboxLimits;
use crate::realtime::quota::UserQuota;

pub struct AppState {
    pub db: DbPool,
    pub keys: AuthKeys,
    /// One for every worker: the bound on password hashes at once is per process.
    pub hasher: Hasher,
    pub realtime: Realtime,
    pub writer: MessageWriter,
    /// Writes delivered receipts in windows.
    pub delivered: DeliveredReceipts,
    /// File storage and upload limits.
    pub attachments: Attachments,
    pub limits: RateLimits,
    /// What one socket may hold.
    pub sockets: SocketLimits,
    /// Sockets per user on this instance.
    pub quota: Arc<UserQuota>,
    /// Searches running per user on this instance.
    pub searches: Arc<UserQuota>,
    /// Origins admitted for CORS and socket upgrades.
    pub origins: AllowedOrigins,
    /// The web client's Content-Security-Policy (it names the admitted origins).
    pub csp: HeaderValue,
    /// The web session cookie carries `Secure` (see `CHAT_INSECURE_COOKIES`).
    pub cookie_secure: bool,
}

/// Limits of one socket; chosen, not inherited from library defaults, because they set memory per socket.
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// What the mailbox holds before ephemeral events are shed and then the socket is closed as too slow.
    pub mailbox: MailboxLimits,
    /// How long queued frames may wait for a client that does not read before the socket is closed (4008).
    pub drain_timeout: Duration,
    /// Largest client frame (text, after joining continuations).
    pub max_frame_bytes: usize,
    pub heartbeat: Duration,
    /// Closed when nothing (not even a pong) arrived for this long.
    pub idle_timeout: Duration,
    /// Frames refused for rate before the socket is closed as flooding.
    pub flood_strikes: u32,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            mailbox: MailboxLimits { frames: 256, bytes: 1 << 20 },
            drain_timeout: Duration::from_secs(15),
            max_frame_bytes: 64 * 1024,
            heartbeat: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            flood_strikes: 50,
        }
    }
}
