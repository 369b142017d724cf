//! JSON bodies and frames into protocol types, with errors that name the offending field (serde_path_to_error)
//! in the one error shape. Used by REST bodies and socket frames alike.

use serde::de::DeserializeOwned;

use crate::error::ApiError;

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
