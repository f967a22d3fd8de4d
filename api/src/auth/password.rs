//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 iterations, 1 lane) and the
//! SHA-256 digest of random service-account secrets.
//!
//! Each hash or check fills 19 MiB. Handlers run them through [`Hashing`]: at most
//! `permits` at once, each in a memory area of its permit that is allocated once and reused,
//! so the memory they take is `permits × 19 MiB` whatever the load. A caller that cannot
//! get a permit within the wait bound is answered `503 hashing_busy` with `Retry-After`.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};
use staffroom_domain::ProblemCode;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The parameters new hashes are made with.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

/// A memory area for one Argon2id run with [`params`].
fn memory() -> Vec<Block> {
    vec![Block::default(); params().block_count()]
}

/// Hashes a password into a PHC string in `memory` (at least [`params`]' block count).
fn hash_in(password: &str, memory: &mut [Block]) -> Result<String, argon2::password_hash::Error> {
    let params = params();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        Ok(argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            out,
            &mut *memory,
        )?)
    })?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Checks a password against a stored PHC string in `memory`; a malformed hash never
/// matches. A hash made with more memory than `memory` holds is checked in a fresh area.
fn verify_in(password: &str, stored: &str, memory: &mut [Block]) -> bool {
    let mut check = || -> Result<bool, argon2::password_hash::Error> {
        let hash = PasswordHash::new(stored)?;
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return Ok(false);
        };
        let algorithm = Algorithm::try_from(hash.algorithm)?;
        let version = hash
            .version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let params = Params::try_from(&hash)?;
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let computed = Output::init_with(expected.len(), |out| {
            if blocks <= memory.len() {
                argon2.hash_password_into_with_memory(
                    password.as_bytes(),
                    salt_bytes,
                    out,
                    &mut memory[..blocks],
                )?;
            } else {
                argon2.hash_password_into(password.as_bytes(), salt_bytes, out)?;
            }
            Ok(())
        })?;
        // `Output`'s comparison takes constant time.
        Ok(computed == expected)
    };
    check().unwrap_or(false)
}

/// Hashes a password into a PHC string (command line and tests; handlers use [`Hashing`]).
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    hash_in(password, &mut memory())
}

/// Bounds the Argon2id work of the handlers: at most `permits` hashes or checks at once,
/// each in its permit's memory area; a caller waits at most `wait` for a permit.
pub struct Hashing {
    permits: Arc<Semaphore>,
    /// The memory areas of the permits not in use (allocated when first needed).
    areas: Arc<Mutex<Vec<Vec<Block>>>>,
    size: usize,
    wait: Duration,
}

impl Hashing {
    /// At most `permits` (at least 1) at once; a caller waits at most `wait` for one.
    pub fn new(permits: usize, wait: Duration) -> Self {
        let size = permits.max(1);
        Self {
            permits: Arc::new(Semaphore::new(size)),
            areas: Arc::new(Mutex::new(Vec::with_capacity(size))),
            size,
            wait,
        }
    }

    /// The default number of permits: one per core.
    pub fn default_permits() -> usize {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }

    /// One permit per core, and a 2 s wait.
    pub fn per_core() -> Self {
        Self::new(Self::default_permits(), Duration::from_secs(2))
    }

    /// How many hashes or checks may run at once.
    pub fn permits(&self) -> usize {
        self.size
    }

    /// How long a caller waits for a permit before `503 hashing_busy`.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// Runs `work` on the blocking pool under a permit, with the permit's memory area.
    /// `503 hashing_busy` if no permit is free within the wait bound. The permit is held
    /// until `work` ends, even if the caller goes away.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| ApiError::internal())?;
        let areas = Arc::clone(&self.areas);
        actix_web::web::block(move || {
            let taken = areas
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop();
            let mut area = taken.unwrap_or_else(memory);
            let result = work(&mut area);
            areas
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(area);
            drop(permit);
            result
        })
        .await
        .map_err(|_| ApiError::internal())
    }

    /// Hashes an optional password under the bound (`None` stays `None`).
    pub async fn hash_optional(
        &self,
        password: Option<staffroom_domain::Password>,
    ) -> Result<Option<String>, ApiError> {
        match password {
            Some(p) => Ok(Some(self.hash(p).await?)),
            None => Ok(None),
        }
    }

    /// Hashes a password under a permit.
    pub async fn hash(&self, password: staffroom_domain::Password) -> Result<String, ApiError> {
        self.run(move |memory| hash_in(password.expose(), memory))
            .await?
            .map_err(|e| {
                tracing::error!(error = %e, "cannot hash password");
                ApiError::internal()
            })
    }

    /// The stored hashes among `stored` that `password` matches, checked under one permit;
    /// with nothing to check, spends the time of one check (see [`verify_dummy_in`]).
    pub async fn matching<T: Send + 'static>(
        &self,
        password: String,
        stored: Vec<T>,
        hash_of: impl Fn(&T) -> &str + Send + 'static,
    ) -> Result<Vec<T>, ApiError> {
        self.run(move |memory| {
            if stored.is_empty() {
                verify_dummy_in(&password, memory);
            }
            stored
                .into_iter()
                .filter(|candidate| verify_in(&password, hash_of(candidate), memory))
                .collect()
        })
        .await
    }
}

/// `503 hashing_busy`: every permit stayed taken for the whole wait.
fn busy() -> ApiError {
    ApiError::new(
        ProblemCode::HashingBusy,
        "Too many passwords are being checked right now; retry after Retry-After seconds.",
    )
}

/// Spends the time of one verification when there is no user to check, so that response
/// times do not reveal which emails exist.
fn verify_dummy_in(password: &str, memory: &mut [Block]) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify_in(password, stored, memory);
}

/// Hex SHA-256 of a high-entropy secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two digests in constant time.
pub fn digest_matches(secret: &str, stored: &str) -> bool {
    let computed = digest(secret);
    computed.len() == stored.len()
        && computed
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A random URL-safe string of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let mut memory = memory();
        assert!(verify_in("correct horse battery", &a, &mut memory));
        assert!(!verify_in("wrong", &a, &mut memory));
        assert!(!verify_in("x", "not a hash", &mut memory));
    }

    #[test]
    fn checks_hashes_made_by_the_argon2_crate_with_other_parameters() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        // More memory than a permit's area holds: checked in a fresh one.
        let big = Params::new(32 * 1024, 1, 1, None).unwrap();
        let small = Params::new(8 * 1024, 3, 1, None).unwrap();
        let mut memory = memory();
        for params in [big, small] {
            let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(b"pass phrase", &salt)
                .unwrap()
                .to_string();
            assert!(verify_in("pass phrase", &stored, &mut memory), "{stored}");
            assert!(!verify_in("pass phrase!", &stored, &mut memory), "{stored}");
        }
    }

    /// The bound: never more than `permits` at once; a caller that waits longer than the
    /// bound is answered `503 hashing_busy` (with `Retry-After`); the others all finish.
    #[actix_web::test]
    async fn at_most_permits_run_at_once_and_a_caller_waiting_too_long_is_busy() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hashing = Arc::new(Hashing::new(2, Duration::from_millis(50)));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let calls = (0..8).map(|_| {
            let (hashing, running, most) = (hashing.clone(), running.clone(), most.clone());
            async move {
                hashing
                    .run(move |memory| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        assert_eq!(memory.len(), params().block_count());
                        std::thread::sleep(Duration::from_millis(200));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            }
        });
        let results = futures_util::future::join_all(calls).await;
        let done = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(done, 2, "two permits, each held 200 ms, a 50 ms wait");
        for refused in results.iter().filter_map(|r| r.as_ref().err()) {
            let response = actix_web::ResponseError::error_response(refused);
            assert_eq!(response.status().as_u16(), 503);
            assert_eq!(refused.problem().code, ProblemCode::HashingBusy);
            assert!(response.headers().contains_key("retry-after"));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        // The areas are reused: two were ever made.
        assert_eq!(hashing.areas.lock().unwrap().len(), 2);
        // Free again: the next caller runs.
        hashing.run(|_| ()).await.unwrap();
    }

    #[actix_web::test]
    async fn matching_checks_each_candidate_under_a_permit() {
        let hashing = Hashing::new(1, Duration::from_secs(2));
        let right = hash("right").unwrap();
        let other = hash("other").unwrap();
        let matched = hashing
            .matching("right".to_owned(), vec![right.clone(), other], |h| {
                h.as_str()
            })
            .await
            .unwrap();
        assert_eq!(matched, vec![right]);
        let none = hashing
            .matching("right".to_owned(), Vec::<String>::new(), |h| h.as_str())
            .await
            .unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn digests_compare() {
        let d = digest("s3cret");
        assert!(digest_matches("s3cret", &d));
        assert!(!digest_matches("s3cret!", &d));
        assert_eq!(random_token(32).len(), 43);
    }
}
