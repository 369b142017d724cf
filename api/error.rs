//! The HTTP layer's error type, and the one place errors become the JSON shape `{"error":{"code","message"}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::auth::{AuthError, TokenError};
use crate::chat::ChatError;
use crate::db::DbError;
use crate::domain::ValidationError;
use crate::limits::Limited;
use crate::protocol::{ErrorBody, ErrorDetail};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("{1}")]
    BadRequest(&'static str, String),
    #[error("{1}")]
    Unauthorized(&'static str, String),
    #[error("{1}")]
    Forbidden(&'static str, String),
    /// 403 with a field: a request refused as a whole because of one of its values.
    #[error("{message}")]
    Refused { code: &'static str, message: String, field: Option<&'static str> },
    /// Also what a caller gets for something that exists but is not theirs: no existence leak.
    #[error("Not found.")]
    NotFound,
    #[error("No route matches {0}.")]
    NoRoute(String),
    /// With the methods the path does answer, for the `Allow` header (e.g. `GET, POST`).
    #[error("Method not allowed here; this path answers {0}.")]
    MethodNotAllowed(String),
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("The request body is larger than {0} bytes.")]
    PayloadTooLarge(usize),
    #[error("Send the body as application/json.")]
    UnsupportedMediaType,
    /// 415 for an upload whose bytes are of a refused type.
    #[error("{0}")]
    UnsupportedType(&'static str),
    #[error("Too many requests; retry in {0} s.")]
    RateLimited(u64),
    /// A per-user cap (not a rate): waiting does not help, releasing something does.
    #[error("{1}")]
    TooMany(&'static str, String),
    #[error("The service is unavailable: {0}")]
    Unavailable(&'static str),
    /// Overloaded for a moment (password hashing): retry after this many seconds.
    #[error("The server is busy; retry in {0} s.")]
    Busy(u64),
    #[error("Something went wrong on our side.")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &str {
        match self {
            ApiError::Validation { .. } => "validation_failed",
            ApiError::BadRequest(code, _)
            | ApiError::Unauthorized(code, _)
            | ApiError::Forbidden(code, _)
            | ApiError::Conflict(code, _)
            | ApiError::TooMany(code, _)
            | ApiError::Refused { code, .. } => code,
            ApiError::NotFound | ApiError::NoRoute(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::UnsupportedType(_) => "unsupported_attachment_type",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Busy(_) => "busy",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                field: match self {
                    ApiError::Validation { field, .. } => Some(field.clone()),
                    ApiError::Refused { field, .. } => field.map(str::to_owned),
                    _ => None,
                },
                request_id: current_request_id(),
            },
        }
    }

    pub fn unauthorized() -> Self {
        ApiError::Unauthorized("unauthorized", "Send a valid access token as `Authorization: Bearer <token>`.".into())
    }
}

tokio::task_local! {
    /// The id of the request being served, set by the request middleware for the handler's whole run.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(..) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(..) | ApiError::Refused { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(..) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType | ApiError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited(_) | ApiError::TooMany(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::RateLimited(secs) | ApiError::Busy(secs) = self {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let ApiError::MethodNotAllowed(allow) = self
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            response.insert_header((header::ALLOW, value));
        }
        if matches!(self, ApiError::Unauthorized(..)) {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(self.body())
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable");
                ApiError::Unavailable("the database cannot be reached; try again shortly")
            }
            DbError::Query(diesel::result::Error::NotFound) => ApiError::NotFound,
            DbError::Query(diesel::result::Error::DatabaseError(_, info)) if is_connection_loss(info.message()) => {
                tracing::warn!(error = info.message(), "database connection lost");
                ApiError::Unavailable("the database cannot be reached; try again shortly")
            }
            DbError::Query(other) => ApiError::Internal(other.to_string()),
        }
    }
}

/// diesel reports a dropped PostgreSQL connection as an unknown database error: tell it from a real bug by text.
fn is_connection_loss(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["connection closed", "connection reset", "broken pipe", "terminating connection", "error communicating"]
        .iter()
        .any(|needle| message.contains(needle))
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        ApiError::Validation { field: err.field.to_owned(), message: err.message }
    }
}

// The layers below speak their own errors; this is the one place they become HTTP answers.

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        match err {
            ChatError::NotFound => ApiError::NotFound,
            ChatError::Forbidden(message) => ApiError::Forbidden("forbidden", message.to_owned()),
            ChatError::Refused { code, message, field } => {
                ApiError::Refused { code, message: message.to_owned(), field }
            }
            ChatError::Validation(v) => v.into(),
            ChatError::Db(db) => db.into(),
            ChatError::ShuttingDown => ApiError::Unavailable("the server is shutting down"),
            ChatError::TooLarge(bytes) => ApiError::PayloadTooLarge(bytes as usize),
            ChatError::UnsupportedType(message) => ApiError::UnsupportedType(message),
            ChatError::TooMany { code, message } => ApiError::TooMany(code, message.to_owned()),
            ChatError::Conflict { code, message } => ApiError::Conflict(code, message.to_owned()),
            ChatError::Storage(detail) => {
                tracing::warn!(error = %detail, "file storage failed");
                ApiError::Unavailable("file storage cannot be reached; try again shortly")
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidCredentials => ApiError::Unauthorized("invalid_credentials", err.to_string()),
            AuthError::UsernameTaken => ApiError::Conflict("username_taken", err.to_string()),
            AuthError::WrongPassword => ApiError::Forbidden("wrong_password", err.to_string()),
            AuthError::InvalidRefreshToken => ApiError::Unauthorized("invalid_refresh_token", err.to_string()),
            AuthError::RefreshTokenReused => ApiError::Unauthorized("refresh_token_reused", err.to_string()),
            AuthError::SessionNotFound => ApiError::NotFound,
            AuthError::ApiTokenExpired => ApiError::Unauthorized("token_expired", err.to_string()),
            AuthError::ApiTokenRevoked => ApiError::Unauthorized("token_revoked", err.to_string()),
            AuthError::InsufficientScope(message) => ApiError::Forbidden("insufficient_scope", message),
            AuthError::TooManyTokens(_) => ApiError::TooMany("too_many_tokens", err.to_string()),
            AuthError::InvalidTicket => ApiError::Unauthorized("invalid_ticket", err.to_string()),
            AuthError::SessionRevoked => ApiError::Unauthorized("session_revoked", err.to_string()),
            AuthError::MissingToken => ApiError::unauthorized(),
            AuthError::Token(TokenError::Expired) => ApiError::Unauthorized("token_expired", err.to_string()),
            AuthError::Token(TokenError::Invalid) => ApiError::Unauthorized("invalid_token", err.to_string()),
            AuthError::Busy(secs) => ApiError::Busy(secs),
            AuthError::Validation(v) => v.into(),
            AuthError::Db(db) => db.into(),
            AuthError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<Limited> for ApiError {
    fn from(limited: Limited) -> Self {
        ApiError::RateLimited(limited.retry_after_secs)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The socket's form of an error: the same code and message as over REST (validation errors name their field
/// in the message), with the client_id of the frame it answers when there is one.
pub fn error_frame(err: &ApiError, client_id: Option<String>) -> crate::protocol::ServerFrame {
    let message = match err {
        ApiError::Validation { field, message } => format!("{message} (field: {field})"),
        other => other.to_string(),
    };
    crate::protocol::ServerFrame::Error { code: err.code().to_owned(), message, client_id }
}
