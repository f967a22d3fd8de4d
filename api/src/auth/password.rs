//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 iterations, 1 lane) and the
//! SHA-256 digest of random service-account secrets.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// [`hash`] on the blocking pool, for handlers: Argon2id takes tens of milliseconds.
pub async fn hash_off_executor(
    password: staffroom_domain::Password,
) -> Result<String, crate::error::ApiError> {
    actix_web::web::block(move || hash(password.expose()))
        .await
        .map_err(|_| crate::error::ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "cannot hash password");
            crate::error::ApiError::internal()
        })
}

/// Hashes an optional password off the executor (`None` stays `None`).
pub async fn hash_optional(
    password: Option<staffroom_domain::Password>,
) -> Result<Option<String>, crate::error::ApiError> {
    match password {
        Some(p) => Ok(Some(hash_off_executor(p).await?)),
        None => Ok(None),
    }
}

/// Checks a password against a stored PHC string; a malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Spends the time of one verification when there is no user to check, so that response
/// times do not reveal which emails exist.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, stored);
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
        assert!(verify("correct horse battery", &a));
        assert!(!verify("wrong", &a));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn digests_compare() {
        let d = digest("s3cret");
        assert!(digest_matches("s3cret", &d));
        assert!(!digest_matches("s3cret!", &d));
        assert_eq!(random_token(32).len(), 43);
    }
}
