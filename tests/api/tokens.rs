//! Access tokens that must be refused, built the ways an attacker or a clock would build them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::JWT_SECRET;

fn sign(secret: &str, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("sign")
}

pub fn expired_for(user_id: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    sign(JWT_SECRET, json!({"sub": user_id.to_string(), "sid": 1, "iat": now - 3600, "exp": now - 60, "jti": "x"}))
}

/// Signed with the right key but with no session (`sid`): a token from before sessions, which no revocation
/// could reach.
pub fn without_session_for(user_id: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    sign(JWT_SECRET, json!({"sub": user_id.to_string(), "iat": now, "exp": now + 600, "jti": "x"}))
}

pub fn signed_with_another_key(user_id: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    sign(
        "another-key-another-key-another-key-0",
        json!({"sub": user_id.to_string(), "sid": 1, "iat": now, "exp": now + 600, "jti": "x"}),
    )
}

/// `alg: none` with no signature: the classic JWT bypass.
pub fn unsigned_for(user_id: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD
        .encode(json!({"sub": user_id.to_string(), "sid": 1, "iat": now, "exp": now + 600, "jti": "x"}).to_string());
    format!("{header}.{claims}.")
}

/// Every kind of bad bearer value, named, for access matrices.
pub fn bad_tokens(user_id: i64) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("no token", None),
        ("garbage", Some("not-a-jwt".into())),
        ("expired", Some(expired_for(user_id))),
        ("another key", Some(signed_with_another_key(user_id))),
        ("alg none", Some(unsigned_for(user_id))),
        ("no session", Some(without_session_for(user_id))),
    ]
}
