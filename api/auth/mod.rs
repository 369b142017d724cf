//! Accounts and tokens: argon2id passwords, HS256 access JWTs, rotating opaque refresh tokens.

pub mod extractor;
pub mod jwt;
pub mod password;
pub mod service;

pub use extractor::AuthUser;
pub use jwt::{AuthKeys, TokenError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Wrong username or password.")]
    InvalidCredentials,
    #[error("That username is taken.")]
    UsernameTaken,
    #[error("The refresh token is unknown, expired or revoked.")]
    InvalidRefreshToken,
    #[error("This refresh token was already used; its whole family is now revoked. Log in again.")]
    RefreshTokenReused,
    #[error(transparent)]
    Validation(#[from] crate::domain::ValidationError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("{0}")]
    Internal(String),
}

impl From<AuthError> for crate::error::ApiError {
    fn from(err: AuthError) -> Self {
        use crate::error::ApiError;
        match err {
            AuthError::InvalidCredentials => ApiError::Unauthorized("invalid_credentials", err.to_string()),
            AuthError::UsernameTaken => ApiError::Conflict("username_taken", err.to_string()),
            AuthError::InvalidRefreshToken => ApiError::Unauthorized("invalid_refresh_token", err.to_string()),
            AuthError::RefreshTokenReused => ApiError::Unauthorized("refresh_token_reused", err.to_string()),
            AuthError::Validation(v) => v.into(),
            AuthError::Db(db) => db.into(),
            AuthError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}
