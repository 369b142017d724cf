//! Accounts and tokens: argon2id passwords, HS256 access JWTs, sessions with rotating opaque refresh tokens.

pub mod access;
pub mod api_tokens;
pub(crate) mod extractor;
pub(crate) mod jwt;
pub(crate) mod password;
pub(crate) mod revocations;
pub(crate) mod secret;
pub mod service;
pub(crate) mod sessions;
pub(crate) mod tickets;

pub use access::{Access, Need, Scopes};
pub use extractor::AuthUser;
pub use jwt::{AuthKeys, SessionLimits, TokenError};
pub use password::Hasher;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Wrong username or password.")]
    InvalidCredentials,
    #[error("That username is taken.")]
    UsernameTaken,
    /// The current password given to change it is wrong. 403, not 401: the caller's token is fine, and a 401
    /// would make clients drop it.
    #[error("The current password is wrong.")]
    WrongPassword,
    #[error("The refresh token is unknown, expired or revoked.")]
    InvalidRefreshToken,
    #[error("This refresh token was already used; its session is now ended. Log in again.")]
    RefreshTokenReused,
    #[error("The socket ticket is unknown, used or expired; ask for a new one.")]
    InvalidTicket,
    #[error("This session has ended; log in again.")]
    SessionRevoked,
    #[error("Send a valid access token as `Authorization: Bearer <token>`.")]
    MissingToken,
    #[error(transparent)]
    Token(TokenError),
    /// An API token past its expiry.
    #[error("This API token has expired; create a new one.")]
    ApiTokenExpired,
    #[error("This API token has been revoked.")]
    ApiTokenRevoked,
    /// An API token used for what its scopes do not allow (the message says which).
    #[error("{0}")]
    InsufficientScope(String),
    #[error("You have {0} live API tokens already; revoke one first.")]
    TooManyTokens(usize),
    /// Not the caller's, unknown or already ended: the same answer for each.
    #[error("Not found.")]
    SessionNotFound,
    /// No password-hashing permit freed up in time; retry after this many seconds.
    #[error("The server is busy; retry in {0} s.")]
    Busy(u64),
    #[error(transparent)]
    Validation(#[from] crate::domain::ValidationError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("{0}")]
    Internal(String),
}

impl AuthError {
    /// A wrong password or username: what failed-sign-in delays count.
    pub fn is_wrong_secret(&self) -> bool {
        matches!(self, AuthError::InvalidCredentials | AuthError::WrongPassword)
    }
}
