//! A JSON body extractor whose errors name the offending field (serde_path_to_error) in our error shape.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::MAX_BODY_BYTES;
use crate::error::ApiError;

pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = matches!(req.mime_type(), Ok(Some(mime))
            if mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON));
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = bytes.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::PayloadTooLarge(MAX_BODY_BYTES),
                _ => match e.error_response().status().as_u16() {
                    413 => ApiError::PayloadTooLarge(MAX_BODY_BYTES),
                    _ => ApiError::BadRequest("bad_request", format!("The body could not be read: {e}.")),
                },
            })?;
            parse(&bytes).map(Json)
        })
    }
}

/// Syntax errors are 400 `malformed_json`; well-formed JSON of the wrong shape is 422 with the field's path.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| shape_error(&e))?;
    deserializer
        .end()
        .map_err(|e| ApiError::BadRequest("malformed_json", format!("The body is not valid JSON: {e}.")))?;
    Ok(value)
}

fn shape_error(err: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = err.inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::BadRequest("malformed_json", format!("The body is not valid JSON: {inner}."));
    }
    let path = err.path().to_string();
    let field = match (path.as_str(), missing_field(&inner.to_string())) {
        // A missing field is reported at its parent; name the field itself.
        (".", Some(missing)) => missing,
        (parent, Some(missing)) => format!("{parent}.{missing}"),
        (".", None) => "body".to_owned(),
        (path, None) => path.to_owned(),
    };
    ApiError::Validation { field, message: format!("The body does not fit the expected shape: {inner}.") }
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_owned())
}
