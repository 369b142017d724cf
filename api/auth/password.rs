//! argon2id password hashing, bounded: every hash and verification holds one of a fixed number of permits.
//!
//! A hash takes ~19 MiB and a core for a while; without a bound, a burst of logins (or an attacker's) would
//! take as many blocking threads and as much memory as it likes. Callers queue for a permit; one that waits
//! longer than its patience is told the server is busy (503 with Retry-After) rather than piling up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AuthError;

/// How long a caller waits for a permit before it is answered 503 `busy`.
pub const DEFAULT_PATIENCE: Duration = Duration::from_secs(10);
/// What a busy answer suggests as Retry-After, in seconds.
const RETRY_AFTER_SECS: u64 = 2;

/// The process's bounded password hasher.
pub struct Hasher {
    permits: Arc<Semaphore>,
    patience: Duration,
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl Hasher {
    /// `permits` hashes at a time (at least one).
    pub fn new(permits: usize, patience: Duration) -> Self {
        Hasher {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            patience,
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// One hash at a time per core: more would only queue inside the CPU while holding more memory.
    pub fn default_permits() -> usize {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    }

    /// A permit, or `Busy` when none frees up within the patience.
    pub async fn acquire(&self) -> Result<OwnedSemaphorePermit, AuthError> {
        match tokio::time::timeout(self.patience, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(AuthError::Internal("the password hasher is closed".into())),
            Err(_elapsed) => {
                metrics::counter!("chat_password_hash_busy_total").increment(1);
                Err(AuthError::Busy(RETRY_AFTER_SECS))
            }
        }
    }

    #[cfg(test)]
    /// The most hashes that ran at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AuthError> {
        let permit = self.acquire().await?;
        let now_running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now_running, Ordering::SeqCst);
        let result = tokio::task::spawn_blocking(work).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        result.map_err(|e| AuthError::Internal(format!("password hashing task failed: {e}")))
    }

    pub async fn hash(&self, password: String) -> Result<String, AuthError> {
        self.run(move || hash(&password)).await?
    }

    /// Verifies against `stored_hash`, or against a fixed hash when the user does not exist, so that a wrong
    /// username costs as much time as a wrong password and the two cannot be told apart.
    pub async fn verify(&self, password: String, stored_hash: Option<String>) -> Result<bool, AuthError> {
        self.run(move || match stored_hash {
            Some(hash) => verify(&password, &hash),
            None => {
                verify(&password, dummy_hash());
                false
            }
        })
        .await
    }
}

/// argon2id with the crate's defaults (19 MiB, 2 passes). CPU-heavy: go through [`Hasher`].
fn hash(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Internal(format!("password hashing failed: {e}")))
}

fn verify(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hostile_twenty_concurrent_verifications_with_one_permit_run_one_at_a_time() {
        let hasher = Arc::new(Hasher::new(1, DEFAULT_PATIENCE));
        let stored = hasher.hash("correct horse".into()).await.unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (hasher, stored) = (hasher.clone(), stored.clone());
                let password = if i % 2 == 0 { "correct horse" } else { "wrong horse" };
                tokio::spawn(async move { hasher.verify(password.into(), Some(stored)).await })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap().unwrap(), i % 2 == 0);
        }
        assert_eq!(hasher.peak(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrency_reaches_but_never_passes_the_permits() {
        let hasher = Arc::new(Hasher::new(2, DEFAULT_PATIENCE));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.verify("whatever-it-is".into(), None).await })
            })
            .collect();
        for task in tasks {
            assert!(!task.await.unwrap().unwrap());
        }
        assert!((1..=2).contains(&hasher.peak()), "{}", hasher.peak());
    }

    #[tokio::test]
    async fn a_caller_that_cannot_get_a_permit_in_time_is_told_busy() {
        let hasher = Hasher::new(1, Duration::from_millis(50));
        let held = hasher.acquire().await.unwrap();
        match hasher.verify("correct horse".into(), None).await {
            Err(AuthError::Busy(secs)) => assert!(secs >= 1),
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(held);
        assert!(!hasher.verify("correct horse".into(), None).await.unwrap(), "works again once a permit is free");
    }
}
