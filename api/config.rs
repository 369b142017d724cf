//! Typed settings: every knob has a flag, an environment variable and a default, documented by `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::db::DatabaseUrl;

#[derive(Debug, Parser)]
#[command(
    name = "chat-server",
    version,
    about = "Real-time chat backend: JSON REST + WebSocket, SQLite or PostgreSQL, in-process or Redis broker.",
    long_about = "Real-time chat backend: JSON REST + WebSocket, SQLite or PostgreSQL, in-process or Redis broker.\n\n\
        Every setting is a flag or an environment variable. The defaults run on one machine with no services: \
        a SQLite file under ./data and an in-process broker."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the WebSocket and the web client (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the OpenAPI spec (or write it with --out), then exit.
    Openapi {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the AsyncAPI document of the socket (or write it with --out), then exit.
    Asyncapi {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long = "bind", env = "CHAT_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Address of the admin listener, which serves /metrics (and /healthz, /readyz); unset: none. Keep it off
    /// the public network, e.g. 127.0.0.1:9090.
    #[arg(long = "admin-bind", env = "CHAT_ADMIN_BIND")]
    pub admin_bind: Option<String>,

    /// sqlite://<path> (created on first start) or postgres://user@host/db.
    #[arg(long = "database-url", env = "DATABASE_URL", default_value = "sqlite://data/chat.db")]
    pub database_url: DatabaseUrl,

    /// Redis for the cross-instance broker (redis://host:port); unset means the in-process broker.
    #[arg(long = "redis-url", env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// HS256 key for access tokens, at least 32 bytes. Unset: one is generated and kept in the data
    /// directory (fine for one instance; instances that share a database must share this).
    #[arg(long = "jwt-secret", env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Where generated state (the JWT key when JWT_SECRET is unset) is kept.
    #[arg(long = "data-dir", env = "CHAT_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// The built web client served at / (absent: only the API is served).
    #[arg(long = "web-dir", env = "CHAT_WEB_DIR", default_value = "web-client/dist")]
    pub web_dir: PathBuf,

    /// Largest number of pooled database connections.
    #[arg(long = "db-pool-size", env = "CHAT_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,

    /// Lifetime of access tokens, in seconds.
    #[arg(long = "access-token-ttl", env = "CHAT_ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,

    /// Lifetime of refresh tokens, in days.
    #[arg(long = "refresh-token-ttl", env = "CHAT_REFRESH_TOKEN_TTL_DAYS", default_value_t = 30)]
    pub refresh_token_ttl_days: u64,

    /// Absolute lifetime of a session, in days (fractions allowed): refreshing never extends it.
    #[arg(long = "session-max-days", env = "CHAT_SESSION_MAX_DAYS", default_value_t = 90.0)]
    pub session_max_days: f64,

    /// Live sessions a user may have; a login beyond it ends the least recently used one.
    #[arg(long = "max-sessions-per-user", env = "CHAT_MAX_SESSIONS_PER_USER", default_value_t = 100)]
    pub max_sessions_per_user: usize,

    /// Password hashes (argon2, ~19 MiB each) computed at once; more wait (10 s at most, then 503 busy).
    /// Default: one per core.
    #[arg(long = "password-hashes", env = "CHAT_PASSWORD_HASHES")]
    pub password_hashes: Option<usize>,

    /// Prefix of every Redis channel and key, so several deployments can share one Redis.
    #[arg(long = "redis-prefix", env = "CHAT_REDIS_PREFIX", default_value = "chat")]
    pub redis_prefix: String,

    /// Frames a socket's queue holds before it sheds typing/presence and then closes as too slow (4008).
    #[arg(long = "ws-mailbox", env = "CHAT_WS_MAILBOX", default_value_t = 256)]
    pub ws_mailbox: usize,

    /// Bytes a socket's queue holds (frames the client has not read yet) before it closes as too slow (4008).
    #[arg(long = "ws-queue-bytes", env = "CHAT_WS_QUEUE_BYTES", default_value_t = 1 << 20)]
    pub ws_queue_bytes: usize,

    /// Seconds queued frames may wait for a client that does not read before its socket is closed (4008).
    #[arg(long = "ws-drain-secs", env = "CHAT_WS_DRAIN_SECS", default_value_t = 15)]
    pub ws_drain_secs: u64,

    /// Sustained client frames per second per user, shared by all their sockets (bursts of twice that).
    #[arg(long = "ws-frames-per-sec", env = "CHAT_WS_FRAMES_PER_SEC", default_value_t = 30.0)]
    pub ws_frames_per_sec: f64,

    /// Sockets one user may hold open on an instance; beyond it the upgrade is refused (429 too_many_sockets).
    #[arg(long = "max-sockets-per-user", env = "CHAT_MAX_SOCKETS_PER_USER", default_value_t = 16)]
    pub max_sockets_per_user: usize,

    /// Socket upgrades per minute per user (bursts of that many).
    #[arg(
        long = "ws-upgrades-per-minute-per-user",
        env = "CHAT_WS_UPGRADES_PER_MINUTE_PER_USER",
        default_value_t = 30
    )]
    pub ws_upgrades_per_minute_per_user: u32,

    /// Socket upgrades per minute per client address (bursts of that many; many users may share an address).
    #[arg(
        long = "ws-upgrades-per-minute-per-address",
        env = "CHAT_WS_UPGRADES_PER_MINUTE_PER_ADDRESS",
        default_value_t = 300
    )]
    pub ws_upgrades_per_minute_per_address: u32,

    /// Register and login attempts per minute from one client address.
    #[arg(long = "auth-per-minute", env = "CHAT_AUTH_PER_MINUTE", default_value_t = 30)]
    pub auth_per_minute: u32,

    /// REST calls per second per user (bursts of ten times that).
    #[arg(long = "rest-per-second", env = "CHAT_REST_PER_SECOND", default_value_t = 20)]
    pub rest_per_second: u32,

    /// REST calls per second per API token (bursts of ten times that), within its user's allowance.
    #[arg(long = "token-rest-per-second", env = "CHAT_TOKEN_REST_PER_SECOND", default_value_t = 5)]
    pub token_rest_per_second: u32,

    /// Posts per minute per incoming webhook (bursts of that many).
    #[arg(long = "webhook-posts-per-minute", env = "CHAT_WEBHOOK_POSTS_PER_MINUTE", default_value_t = 30)]
    pub webhook_posts_per_minute: u32,

    /// Behind a reverse proxy (nginx): take the client address for rate limits from X-Forwarded-For.
    #[arg(long = "behind-proxy", env = "CHAT_BEHIND_PROXY", default_value_t = false)]
    pub behind_proxy: bool,

    /// Leave `Secure` off the web client's session cookie: only for a plain-http deployment reached by a name
    /// other than localhost (browsers keep Secure cookies on http://localhost and 127.0.0.1, never elsewhere).
    #[arg(long = "insecure-cookies", env = "CHAT_INSECURE_COOKIES", default_value_t = false)]
    pub insecure_cookies: bool,

    /// The origin(s) users open the web client at (scheme://host[:port], comma-separated), e.g.
    /// https://chat.example.com: socket upgrades and CORS admit these (and CHAT_ALLOWED_ORIGINS), never what the
    /// Host header claims. Empty: the listener's own http://127.0.0.1:<port>, http://localhost:<port> and
    /// http://[::1]:<port>.
    #[arg(long = "public-origin", env = "CHAT_PUBLIC_ORIGIN", value_delimiter = ',', default_value = "")]
    pub public_origin: Vec<String>,

    /// More origins (scheme://host:port, comma-separated) allowed to call the API and open sockets from
    /// elsewhere (a development server, another front end).
    #[arg(long = "allowed-origins", env = "CHAT_ALLOWED_ORIGINS", value_delimiter = ',', default_value = "")]
    pub allowed_origins: Vec<String>,

    /// Where attachments are stored: s3://bucket[/prefix] for an S3-compatible bucket (credentials, region and
    /// endpoint from the usual AWS_* variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ENDPOINT, AWS_ALLOW_HTTP), or file:///absolute/dir. Unset: <data dir>/attachments on this machine.
    /// Instances that share a database must share this.
    #[arg(long = "storage-url", env = "CHAT_STORAGE_URL")]
    pub storage_url: Option<String>,

    /// Largest attachment, in MiB: a bigger upload is refused (413) before its body is read.
    #[arg(long = "max-upload-mb", env = "CHAT_MAX_UPLOAD_MB", default_value_t = 25)]
    pub max_upload_mb: u64,

    /// MiB one user may upload per 24 hours (deleting files does not give it back before then).
    #[arg(long = "upload-quota-mb", env = "CHAT_UPLOAD_QUOTA_MB", default_value_t = 1024)]
    pub upload_quota_mb: u64,

    /// Hours an upload no message carries is kept before it is removed.
    #[arg(long = "upload-grace-hours", env = "CHAT_UPLOAD_GRACE_HOURS", default_value_t = 24.0)]
    pub upload_grace_hours: f64,

    /// HTTP worker threads (default: one per core).
    #[arg(long = "workers", env = "CHAT_WORKERS")]
    pub workers: Option<usize>,
}

impl Settings {
    /// Defaults with the given database, for tests and tools; environment variables are not read.
    pub fn with_database(database_url: DatabaseUrl) -> Self {
        Settings {
            bind: "127.0.0.1:0".into(),
            admin_bind: None,
            database_url,
            redis_url: None,
            redis_prefix: "chat".into(),
            ws_mailbox: 256,
            ws_queue_bytes: 1 << 20,
            ws_drain_secs: 15,
            ws_frames_per_sec: 30.0,
            max_sockets_per_user: 16,
            ws_upgrades_per_minute_per_user: 30,
            ws_upgrades_per_minute_per_address: 300,
            auth_per_minute: 30,
            rest_per_second: 20,
            token_rest_per_second: 5,
            webhook_posts_per_minute: 30,
            public_origin: Vec::new(),
            allowed_origins: Vec::new(),
            behind_proxy: false,
            insecure_cookies: false,
            jwt_secret: None,
            data_dir: "data".into(),
            web_dir: "web-client/dist".into(),
            db_pool_size: 16,
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            session_max_days: 90.0,
            max_sessions_per_user: 100,
            password_hashes: None,
            workers: None,
            storage_url: None,
            max_upload_mb: 25,
            upload_quota_mb: 1024,
            upload_grace_hours: 24.0,
        }
    }
}
