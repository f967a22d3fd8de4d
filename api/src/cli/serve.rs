//! `staffroom serve` and `staffroom worker`. Everything that can be checked without the
//! database — the listening address first — is checked before it is opened, so a mistake is
//! reported at once and leaves nothing behind.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use staffroom_persistence::DatabaseUrl;

use super::args::{Cli, ServeArgs, WorkerArgs};
use super::database::{database_url, open_database};
use super::secrets::{imaging_webhook_secret, token_keys};
use crate::auth::password::Hashing;
use crate::outbox::Outbox;
use crate::rate_limit::RateLimiter;
use crate::read_cache::ReadCache;
use crate::startup_error::StartupError;
use crate::state::AppState;

/// Binds the listening address; the first thing `serve` does.
fn bind(listen: &str) -> Result<TcpListener, StartupError> {
    TcpListener::bind(listen)
        .map_err(|e| StartupError(format!("STAFFROOM_LISTEN: cannot listen on {listen}: {e}")))
}

/// Where people reach the product: `--public-url`, else `http://` and the bound address.
/// An unspecified address (`0.0.0.0`, `[::]`) names no reachable host, so links built from
/// it would not work: then `--public-url` is required.
fn public_url(configured: Option<&str>, bound: SocketAddr) -> Result<String, StartupError> {
    match configured {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        Some(_) => Err(StartupError(
            "STAFFROOM_PUBLIC_URL must start with http:// or https://".into(),
        )),
        None if bound.ip().is_unspecified() => Err(StartupError(format!(
            "STAFFROOM_PUBLIC_URL must be set when listening on {bound}: invitation links \
             would name an address nobody can reach"
        ))),
        None => Ok(format!("http://{bound}")),
    }
}

pub fn run_serve(cli: &Cli, args: &ServeArgs) -> Result<(), StartupError> {
    let listener = bind(&args.listen)?;
    let bound = listener.local_addr()?;
    let public_url = public_url(args.public_url.as_deref(), bound)?;
    if args.max_body_bytes < 1024 {
        return Err(StartupError(
            "STAFFROOM_MAX_BODY_BYTES must be at least 1024".into(),
        ));
    }
    if args.invitation_ttl_hours == 0 {
        return Err(StartupError(
            "STAFFROOM_INVITATION_TTL_HOURS must be at least 1".into(),
        ));
    }
    if args.password_hashing_permits == Some(0) {
        return Err(StartupError(
            "STAFFROOM_PASSWORD_HASHING_PERMITS must be at least 1".into(),
        ));
    }
    let hashing = Hashing::new(
        args.password_hashing_permits
            .unwrap_or_else(Hashing::default_permits),
        Duration::from_millis(args.password_hashing_wait_ms),
    );
    let outbox_config = args.providers.outbox()?;
    args.providers.check_api_keys()?;
    let url = database_url(cli)?;
    let tokens = token_keys(args, &url, &cli.data_dir)?;
    let webhook_secret = Arc::new(imaging_webhook_secret(args, &url, &cli.data_dir)?);
    let pool = open_database(&url, args.pool_size.max(2))?;
    let demo = if args.demo {
        Some(crate::demo::ensure(&pool)?)
    } else {
        None
    };
    let shared_database = matches!(url, DatabaseUrl::Postgres(_));
    actix_web::rt::System::new().block_on(async move {
        let (providers, sim) = args
            .providers
            .build(&pool, Some(webhook_secret.as_str()))
            .await?;
        if sim.is_some() && shared_database {
            tracing::warn!(
                "no provider URL configured on PostgreSQL: this process talks to its own \
                 in-process simulator, so another instance retrying one of its jobs reaches a \
                 different one; set STAFFROOM_EXERCISE_URL and STAFFROOM_IMAGING_URL when \
                 several instances share the database"
            );
        }
        let outbox = Arc::new(Outbox::new(pool.clone(), providers, outbox_config));
        let state = AppState {
            max_body_bytes: args.max_body_bytes,
            require_if_match: args.require_if_match,
            limiter: Arc::new(RateLimiter::new(args.rate_limit, args.rate_limit_burst)),
            behind_proxy: args.behind_proxy,
            public_url,
            invitation_ttl: chrono::Duration::hours(i64::from(args.invitation_ttl_hours)),
            // Test-only switch of the crash tests; never set in a deployment.
            exit_after_commit: std::env::var("STAFFROOM_TEST_EXIT_AFTER_COMMIT").ok(),
            hashing: Arc::new(hashing),
            read_cache: Arc::new(ReadCache::new(args.read_cache_kib.saturating_mul(1024))),
            imaging_webhook: Some(webhook_secret),
            ..AppState::new(pool, tokens, outbox.calls())
        };
        let (stop_worker, stopped) = tokio::sync::watch::channel(false);
        let worker = (!args.no_outbox_worker).then(|| outbox.spawn_worker(stopped));
        let running = crate::app::start_on(state, listener, args.workers)
            .map_err(|e| StartupError(format!("cannot listen on {bound}: {e}")))?;
        let base = format!("http://{}", running.addr);
        tracing::info!(%base, "listening");
        println!("Staffroom is listening on {base}");
        println!("  API docs:  {base}/docs");
        println!("  OpenAPI:   {base}/openapi.json");
        if let Some(sim) = &sim {
            println!("  provider simulator: {}", sim.base_url());
        }
        if let Some(demo) = demo {
            println!("Demo site \"{}\" ({})", demo.site_name, demo.site_id);
            println!(
                "  log in as {} with password {}",
                demo.admin_email, demo.admin_password
            );
            println!(
                "  curl -s {base}/v1/auth/login -H 'content-type: application/json' \
                 -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'",
                demo.admin_email, demo.admin_password
            );
        }
        let served = running.server.await.map_err(StartupError::from);
        let _ = stop_worker.send(true);
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        if let Some(sim) = sim {
            sim.stop().await;
        }
        served
    })
}

/// `staffroom worker`: the outbox loop alone, until SIGINT or SIGTERM.
pub fn run_worker(cli: &Cli, args: &WorkerArgs) -> Result<(), StartupError> {
    let config = args.providers.outbox()?;
    args.providers.check_api_keys()?;
    let url = database_url(cli)?;
    let pool = open_database(&url, args.pool_size.max(2))?;
    actix_web::rt::System::new().block_on(async move {
        let (providers, sim) = args.providers.build(&pool, None).await?;
        if sim.is_some() {
            tracing::warn!(
                "the worker uses its own provider simulator; set the provider URLs so that \
                 it calls the same providers as the servers"
            );
        }
        let outbox = Arc::new(Outbox::new(pool, providers, config));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = outbox.spawn_worker(stopped);
        println!("staffroom worker running; Ctrl-C stops it");
        staffroom_connectors::shutdown_signal().await;
        let _ = stop.send(true);
        let _ = worker.await;
        if let Some(sim) = sim {
            sim.stop().await;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_default_to_the_bound_address_unless_it_is_unspecified() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(public_url(None, loopback).unwrap(), "http://127.0.0.1:8080");
        assert_eq!(
            public_url(Some("https://staff.example.com/"), loopback).unwrap(),
            "https://staff.example.com"
        );
        for any in ["0.0.0.0:8080", "[::]:8080"] {
            let error = public_url(None, any.parse().unwrap()).unwrap_err();
            assert!(error.0.starts_with("STAFFROOM_PUBLIC_URL"), "{}", error.0);
        }
    }
}
