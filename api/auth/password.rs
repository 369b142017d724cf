use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

use super::AuthError;

/// argon2id with the crate's defaults (19 MiB, 2 passes). CPU-heavy: callers run it off the async threads.
pub fn hash(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Internal(format!("password hashing failed: {e}")))
}

pub fn verify(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

pub async fn hash_blocking(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| AuthError::Internal(format!("password hashing task failed: {e}")))?
}

/// Verifies against `stored_hash`, or against a fixed hash when the user does not exist, so that a wrong
/// username costs as much time as a wrong password and the two cannot be told apart.
pub async fn verify_blocking(password: String, stored_hash: Option<String>) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || match stored_hash {
        Some(hash) => verify(&password, &hash),
        None => {
            verify(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| AuthError::Internal(format!("password verification task failed: {e}")))
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("timing-equaliser-not-a-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let stored = hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse", &stored));
        assert!(!verify("correct horsE", &stored));
        assert!(!verify("correct horse", "not a hash"));
    }
}
