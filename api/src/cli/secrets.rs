//! The secrets `serve` uses: the token signing keys (RS256 keys or an HS256 secret from the
//! flags) and the imaging webhook's secret, each from the flags or, for the embedded default,
//! generated once and kept in the data directory.

use std::path::Path;

use staffroom_persistence::DatabaseUrl;

use super::args::ServeArgs;
use crate::auth::password;
use crate::auth::tokens::TokenKeys;
use crate::startup_error::StartupError;
use crate::webhooks::WebhookSecret;

const MIN_SECRET_BYTES: usize = 32;

/// The keys from the flags; without any, the data directory's secret (SQLite only: every
/// instance sharing PostgreSQL must share one secret).
pub fn token_keys(
    args: &ServeArgs,
    url: &DatabaseUrl,
    data_dir: &Path,
) -> Result<TokenKeys, StartupError> {
    match (&args.jwt_private_key, &args.jwt_public_key) {
        (Some(private), Some(public)) => {
            return TokenKeys::rs256(private.as_bytes(), public.as_bytes()).map_err(StartupError);
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(StartupError(
                "set both STAFFROOM_JWT_PRIVATE_KEY and STAFFROOM_JWT_PUBLIC_KEY for RS256".into(),
            ));
        }
        (None, None) => {}
    }
    if let Some(secret) = &args.jwt_secret {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(StartupError(format!(
                "STAFFROOM_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        return Ok(TokenKeys::hs256(secret.as_bytes()));
    }
    if url.is_postgres() {
        return Err(StartupError(
            "STAFFROOM_JWT_SECRET is required with PostgreSQL (every instance must share it)"
                .into(),
        ));
    }
    Ok(TokenKeys::hs256(local_secret(data_dir)?.as_bytes()))
}

/// The secret the imaging provider signs its webhook deliveries with: from the flag
/// (checked), else the data directory's (SQLite only: with PostgreSQL every instance must
/// share the one the provider was given).
pub fn imaging_webhook_secret(
    args: &ServeArgs,
    url: &DatabaseUrl,
    data_dir: &Path,
) -> Result<WebhookSecret, StartupError> {
    let configured = args
        .imaging_webhook_secret
        .as_deref()
        .filter(|s| !s.is_empty());
    if let Some(secret) = configured {
        return WebhookSecret::parse(secret)
            .map_err(|e| StartupError(format!("STAFFROOM_IMAGING_WEBHOOK_SECRET: {e}")));
    }
    if url.is_postgres() {
        return Err(StartupError(
            "STAFFROOM_IMAGING_WEBHOOK_SECRET is required with PostgreSQL (whsec_ and base64, \
             the one the imaging provider signs with; every instance must share it)"
                .into(),
        ));
    }
    let kept = kept_secret(
        data_dir,
        "imaging-webhook-secret",
        |s| WebhookSecret::parse(s).is_ok(),
        WebhookSecret::generate,
    )?;
    WebhookSecret::parse(&kept).map_err(StartupError)
}

/// The embedded default's signing secret, generated once and kept in the data directory.
fn local_secret(data_dir: &Path) -> Result<String, StartupError> {
    kept_secret(
        data_dir,
        "jwt-secret",
        |s| s.len() >= MIN_SECRET_BYTES,
        || password::random_token(48),
    )
}

/// The secret kept in `data_dir/file` when it is `valid`, else a `generate`d one written
/// there (readable by the owner only).
fn kept_secret(
    data_dir: &Path,
    file: &str,
    valid: impl Fn(&str) -> bool,
    generate: impl FnOnce() -> String,
) -> Result<String, StartupError> {
    let path = data_dir.join(file);
    if let Ok(secret) = std::fs::read_to_string(&path) {
        let secret = secret.trim().to_owned();
        if valid(&secret) {
            return Ok(secret);
        }
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| StartupError(format!("cannot create {}: {e}", data_dir.display())))?;
    let secret = generate();
    write_private(&path, &secret)
        .map_err(|e| StartupError(format!("cannot write {}: {e}", path.display())))?;
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}
