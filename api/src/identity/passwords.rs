//! Password hashes: argon2, checked in constant time, with a stand-in hash for unknown users
//! so that timing does not tell whether an account exists. Each check takes argon2's 19 MiB
//! and a core for tens of milliseconds, so only a few run at once ([`PasswordChecks`]).
use crate::platform::error::{ApiError, ApiResult};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("cannot hash a password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that timing does not tell.
pub fn dummy_hash() -> &'static str {
    use std::sync::OnceLock;
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").expect("hash"))
}

/// Bounds the password hashing running at once: memory stays at `permits` × 19 MiB and the
/// other requests keep the remaining cores, whatever the number of logins in flight. A check
/// that cannot start within `wait` is refused (503 with `Retry-After`).
#[derive(Clone)]
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    wait: Duration,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl PasswordChecks {
    pub fn new(permits: usize, wait: Duration) -> Self {
        PasswordChecks {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            wait,
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Half the cores (at least one): logins never take the whole machine.
    pub fn default_permits() -> usize {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .div_ceil(2)
    }

    /// Whether `password` matches `hash`, checked off the async workers.
    pub async fn verify(&self, password: String, hash: String) -> ApiResult<bool> {
        self.run(move || verify_password(&password, &hash)).await
    }

    /// Hashes `password` (creating an account), under the same bound.
    pub async fn hash(&self, password: String) -> ApiResult<String> {
        self.run(move || hash_password(&password)).await?
    }

    /// The most checks that ever ran at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Overloaded {
                retry_after_secs: 1,
                detail: "too many logins at once: try again in a second".into(),
            })?
            .map_err(ApiError::from_cause)?;
        let running = self.running.clone();
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let out = tokio::task::spawn_blocking(move || {
            let out = f();
            running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            out
        })
        .await
        .map_err(ApiError::from_cause)?;
        Ok(out)
    }
}
