use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string per RFC 7519.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("The access token has expired; refresh it.")]
    Expired,
    #[error("The access token is not valid.")]
    Invalid,
}

/// A verified access token.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedToken {
    pub user_id: i64,
    pub expires_at: i64,
}

#[derive(Clone)]
pub struct AuthKeys(Arc<KeysInner>);

struct KeysInner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl AuthKeys {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        // Only HS256 is accepted, which also rules out `alg: none`; no leeway, so expiry is exact.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        AuthKeys(Arc::new(KeysInner {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
        }))
    }

    pub fn access_ttl(&self) -> Duration {
        self.0.access_ttl
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.0.refresh_ttl
    }

    pub fn issue(&self, user_id: i64) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.0.access_ttl.as_secs() as i64,
            jti: super::service::random_token(16),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        let user_id = data.claims.sub.parse().map_err(|_| TokenError::Invalid)?;
        Ok(VerifiedToken { user_id, expires_at: data.claims.exp })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ttl: u64) -> AuthKeys {
        AuthKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(ttl), Duration::from_secs(60))
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() {
        let keys = keys(60);
        let token = keys.issue(42).unwrap();
        assert_eq!(keys.verify(&token).unwrap().user_id, 42);
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let other = AuthKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60), Duration::ZERO);
        let token = other.issue(42).unwrap();
        assert_eq!(keys(60).verify(&token).unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn an_expired_token_is_reported_as_expired() {
        let keys = keys(0);
        let token = keys.issue(42).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(keys.verify(&token).unwrap_err(), TokenError::Expired);
    }
}
