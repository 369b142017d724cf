//! Access tokens: HS256 JWTs naming the user and the session, signed and checked with the process's keys.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use super::revocations::Revocations;
use crate::ids::{SessionId, UserId};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string per RFC 7519.
    pub sub: String,
    /// The session the token was issued for: revoking the session refuses the token.
    pub sid: i64,
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
    pub user_id: UserId,
    pub session_id: SessionId,
    pub expires_at: i64,
}

#[derive(Clone)]
pub struct AuthKeys(Arc<KeysInner>);

struct KeysInner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Media tokens are signed with a key of their own, so that one is never taken for an access token.
    media_encoding: EncodingKey,
    media_decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
    sessions: SessionLimits,
    revocations: Arc<Revocations>,
}

/// How long a session lasts at most (refreshing never extends it), and how many live sessions a user keeps.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub max_age: Duration,
    pub max_per_user: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits { max_age: Duration::from_secs(90 * 24 * 3600), max_per_user: 100 }
    }
}

impl AuthKeys {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        // Only HS256 is accepted, which also rules out `alg: none`; no leeway, so expiry is exact.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let media_key: Vec<u8> = {
            use sha2::Digest;
            sha2::Sha256::new().chain_update(b"chat media token\0").chain_update(secret).finalize().to_vec()
        };
        AuthKeys(Arc::new(KeysInner {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            media_encoding: EncodingKey::from_secret(&media_key),
            media_decoding: DecodingKey::from_secret(&media_key),
            validation,
            access_ttl,
            refresh_ttl,
            sessions: SessionLimits::default(),
            revocations: Arc::new(Revocations::new(access_ttl)),
        }))
    }

    /// The same keys with other session limits (before the keys are shared: settings at start).
    pub fn with_session_limits(self, sessions: SessionLimits) -> Self {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.sessions = sessions;
                AuthKeys(Arc::new(inner))
            }
            Err(shared) => AuthKeys(shared),
        }
    }

    pub fn session_limits(&self) -> SessionLimits {
        self.0.sessions
    }

    /// The registry of revoked sessions that [`super::extractor::authenticate`] consults.
    pub fn revocations(&self) -> &Arc<Revocations> {
        &self.0.revocations
    }

    pub fn access_ttl(&self) -> Duration {
        self.0.access_ttl
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.0.refresh_ttl
    }

    /// An access token for the session, issued at `issued_at` (unix seconds): it expires a TTL later, or at
    /// `not_after` when that comes first (a session's absolute end).
    ///
    /// `issued_at` must be taken before the session was read as live: a revocation after that instant is then
    /// remembered at least until this token expires.
    pub fn issue(
        &self,
        user_id: UserId,
        session_id: SessionId,
        issued_at: i64,
        not_after: i64,
    ) -> Result<(String, i64), jsonwebtoken::errors::Error> {
        self.sign(&self.0.encoding, user_id, session_id, issued_at, not_after)
    }

    /// A media token (`POST /api/media-token`): reads attachments as the session's user, and nothing else.
    /// It lives as long as an access token issued at the same time.
    pub fn issue_media(
        &self,
        user_id: UserId,
        session_id: SessionId,
        issued_at: i64,
        not_after: i64,
    ) -> Result<(String, i64), jsonwebtoken::errors::Error> {
        self.sign(&self.0.media_encoding, user_id, session_id, issued_at, not_after)
    }

    fn sign(
        &self,
        key: &EncodingKey,
        user_id: UserId,
        session_id: SessionId,
        issued_at: i64,
        not_after: i64,
    ) -> Result<(String, i64), jsonwebtoken::errors::Error> {
        let exp = (issued_at + self.0.access_ttl.as_secs() as i64).min(not_after);
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.get(),
            iat: issued_at,
            exp,
            jti: super::service::random_token(16),
        };
        Ok((jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key)?, exp))
    }

    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.check(&self.0.decoding, token)
    }

    pub fn verify_media(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.check(&self.0.media_decoding, token)
    }

    fn check(&self, key: &DecodingKey, token: &str) -> Result<VerifiedToken, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.0.validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        let user_id = UserId(data.claims.sub.parse().map_err(|_| TokenError::Invalid)?);
        Ok(VerifiedToken { user_id, session_id: SessionId(data.claims.sid), expires_at: data.claims.exp })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ttl: u64) -> AuthKeys {
        AuthKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(ttl), Duration::from_secs(60))
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn an_issued_token_verifies_to_its_user_and_session() {
        let keys = keys(60);
        let (token, _) = keys.issue(UserId(42), SessionId(7), now(), i64::MAX).unwrap();
        let verified = keys.verify(&token).unwrap();
        assert_eq!((verified.user_id, verified.session_id), (UserId(42), SessionId(7)));
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let other = AuthKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60), Duration::ZERO);
        let (token, _) = other.issue(UserId(42), SessionId(7), now(), i64::MAX).unwrap();
        assert_eq!(keys(60).verify(&token).unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn an_expired_token_is_reported_as_expired() {
        let keys = keys(60);
        let (token, _) = keys.issue(UserId(42), SessionId(7), now() - 120, i64::MAX).unwrap();
        assert_eq!(keys.verify(&token).unwrap_err(), TokenError::Expired);
    }

    #[test]
    fn a_token_does_not_outlive_its_session() {
        let keys = keys(900);
        let issued = now();
        let (token, exp) = keys.issue(UserId(42), SessionId(7), issued, issued + 60).unwrap();
        assert_eq!(exp, issued + 60);
        assert_eq!(keys.verify(&token).unwrap().expires_at, issued + 60);
    }

    #[test]
    fn a_media_token_is_not_an_access_token_and_the_other_way_round() {
        let keys = keys(60);
        let (media, _) = keys.issue_media(UserId(42), SessionId(7), now(), i64::MAX).unwrap();
        let (access, _) = keys.issue(UserId(42), SessionId(7), now(), i64::MAX).unwrap();
        assert_eq!(keys.verify(&media).unwrap_err(), TokenError::Invalid);
        assert_eq!(keys.verify_media(&access).unwrap_err(), TokenError::Invalid);
        assert_eq!(keys.verify_media(&media).unwrap().user_id, UserId(42));
    }

    #[test]
    fn a_token_without_a_session_is_invalid() {
        let issued = now();
        let claims = serde_json::json!({"sub": "42", "iat": issued, "exp": issued + 60, "jti": "x"});
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert_eq!(keys(60).verify(&token).unwrap_err(), TokenError::Invalid);
    }
}
