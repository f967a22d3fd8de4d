//! `bulk-update`: wall time of one `POST /v1/users/bulk-update` over 10,000 users, against
//! the raw SQL doing the same writes. Starts the real server in-process on a fresh database
//! (SQLite, or PostgreSQL when `STAFFROOM_TEST_DATABASE_URL` is set), seeds one site with
//! 10,000 users and 2 clinics with multi-row `INSERT`s, then alternates 5 times: the API
//! request (10,000 explicit `user_ids`, add `view_reports` and the second clinic), the
//! equivalent `INSERT … SELECT` + version `UPDATE` in one transaction, and that raw SQL plus
//! the audit rows the API also writes. See `bench/README.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};
use staffroom_api::app;
use staffroom_api::auth::tokens::TokenKeys;
use staffroom_api::outbox::{Outbox, OutboxConfig};
use staffroom_api::providers::simulated;
use staffroom_api::state::AppState;
use staffroom_bench::seed::{self, ADMIN_EMAIL, PASSWORD};
use staffroom_bench::{login, median};
use staffroom_connectors::sim::{self, SimOptions};
use staffroom_domain::{ClinicId, EntityName, SiteId, UserId};
use staffroom_persistence::testing::TestDatabase;
use staffroom_persistence::tx::{AuditContext, write_transaction};
use staffroom_persistence::{DbConnection, Pool, clinics};

use staffroom_bench::BoxError;

const USERS: usize = 10_000;
const ROUNDS: usize = 5;
const POOL_SIZE: u32 = 16;
const JWT_SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret!!";
/// The targets of SPEC §5's bulk update, printed next to the figures.
const TARGET_SECONDS: f64 = 1.0;
const TARGET_RATIO: f64 = 3.0;

/// The seeded site.
struct Seeded {
    site: SiteId,
    admin: UserId,
    north: ClinicId,
    users: Vec<UserId>,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = TestDatabase::create()?;
    let backend = db.backend();
    let pool = db.pool(POOL_SIZE)?;

    let started = Instant::now();
    let seeded = seed(&pool)?;
    let seeding = started.elapsed();

    let sim = sim::start(([127, 0, 0, 1], 0).into(), SimOptions::default()).await?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let providers = simulated(&sim, &pool, Duration::from_secs(5), false);
    let outbox = Arc::new(Outbox::new(
        pool.clone(),
        providers,
        OutboxConfig::default(),
    ));
    let state = AppState::new(pool.clone(), TokenKeys::hs256(JWT_SECRET), outbox.calls());
    let running = app::start(state, "127.0.0.1:0", Some(workers))?;
    let handle = running.handle.clone();
    let server = tokio::spawn(running.server);
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let token = login(&http, &base, ADMIN_EMAIL, PASSWORD).await?;

    println!(
        "staffroom bulk-update benchmark: backend {backend}, {} build, {USERS} users and 2 \
         clinics seeded in {:.2} s, server {workers} workers, pool {POOL_SIZE}",
        if cfg!(debug_assertions) {
            "DEBUG (use --release)"
        } else {
            "release"
        },
        seeding.as_secs_f64(),
    );
    println!(
        "each round: POST /v1/users/bulk-update with {USERS} user_ids, add view_reports and \
         one clinic; then the same writes as raw SQL in one transaction; then that raw SQL \
         plus the audit rows"
    );
    println!();
    println!(
        "round   api (s)   raw SQL (s)   api / raw   raw+audit (s)   api / raw+audit   \
         raw steps (ms: permissions, clinics, versions)"
    );

    let body = serde_json::to_vec(&json!({
        "user_ids": seeded.users,
        "add_permissions": ["view_reports"],
        "add_clinic_ids": [seeded.north],
    }))?;
    let mut api_times = Vec::with_capacity(ROUNDS);
    let mut raw_times = Vec::with_capacity(ROUNDS);
    let mut audited_times = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        reset(&pool, &seeded, backend).await?;
        let api = bulk_update(&http, &base, &token, body.clone()).await?;
        reset(&pool, &seeded, backend).await?;
        let raw = raw_sql(&pool, &seeded, backend, false).await?;
        reset(&pool, &seeded, backend).await?;
        let audited = raw_sql(&pool, &seeded, backend, true).await?;
        let steps: Vec<String> = raw
            .steps
            .iter()
            .map(|d| format!("{:.0}", d.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "{round:>5}   {:>7.3}   {:>11.3}   {:>9.2}   {:>13.3}   {:>15.2}   {}",
            api.as_secs_f64(),
            raw.total.as_secs_f64(),
            ratio(api, raw.total),
            audited.total.as_secs_f64(),
            ratio(api, audited.total),
            steps.join(", "),
        );
        api_times.push(api);
        raw_times.push(raw.total);
        audited_times.push(audited.total);
    }
    let (api, raw, audited) = (
        median(&api_times),
        median(&raw_times),
        median(&audited_times),
    );
    println!();
    println!("== POST /v1/users/bulk-update, {USERS} users: medians of {ROUNDS} rounds ==");
    println!("  backend          {backend}");
    println!(
        "  api              {:.3} s  (target <= {TARGET_SECONDS:.1} s: {})",
        api.as_secs_f64(),
        verdict(api.as_secs_f64() <= TARGET_SECONDS)
    );
    println!("  raw SQL          {:.3} s", raw.as_secs_f64());
    println!(
        "  api / raw        {:.2}x  (target <= {TARGET_RATIO:.0}x: {})",
        ratio(api, raw),
        verdict(ratio(api, raw) <= TARGET_RATIO)
    );
    println!(
        "  raw + audit      {:.3} s  (the raw SQL plus the {} audit rows the API also writes)",
        audited.as_secs_f64(),
        USERS + 1
    );
    println!("  api / raw+audit  {:.2}x", ratio(api, audited));

    handle.stop(true).await;
    let _ = server.await;
    drop(pool);
    drop(db);
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    let b = b.as_secs_f64();
    if b > 0.0 { a.as_secs_f64() / b } else { 0.0 }
}

/// The seeded site of `seed::site_with_users` with a second clinic, `North`.
fn seed(pool: &Pool) -> Result<Seeded, BoxError> {
    let seeded = seed::site_with_users(pool, USERS)?;
    let north = clinics::create(
        &mut *pool.get()?,
        &AuditContext::system(seeded.site),
        &EntityName::parse("North")?,
        false,
    )?
    .id;
    Ok(Seeded {
        site: seeded.site,
        admin: seeded.admin,
        north,
        users: seeded.users,
    })
}

/// Runs `f` on a pooled connection off the async runtime.
async fn with_conn<T: Send + 'static>(
    pool: &Pool,
    f: impl FnOnce(&mut DbConnection) -> Result<T, BoxError> + Send + 'static,
) -> Result<T, BoxError> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || f(&mut *pool.get()?)).await?
}

/// The seeded users of the site: every user but the administrator.
fn seeded_users(s: &Seeded) -> String {
    format!("site_id = '{}' AND id <> '{}'", s.site, s.admin)
}

/// Undoes a round: the granted rows, the audit events; versions back to 1. On PostgreSQL
/// the dead rows of the previous round are vacuumed, so rounds start alike.
async fn reset(pool: &Pool, s: &Seeded, backend: &'static str) -> Result<(), BoxError> {
    let (site, north, users) = (s.site, s.north, seeded_users(s));
    with_conn(pool, move |conn| {
        write_transaction(&mut *conn, |conn| {
            diesel::sql_query(format!(
                "DELETE FROM user_permissions WHERE site_id = '{site}' \
                 AND permission = 'view_reports'"
            ))
            .execute(conn)?;
            diesel::sql_query(format!(
                "DELETE FROM user_clinics WHERE clinic_id = '{north}'"
            ))
            .execute(conn)?;
            diesel::sql_query(format!(
                "DELETE FROM audit_events WHERE site_id = '{site}' \
                 AND action IN ('users.bulk_updated', 'user.access_changed')"
            ))
            .execute(conn)?;
            diesel::sql_query(format!("UPDATE users SET version = 1 WHERE {users}"))
                .execute(conn)?;
            diesel::result::QueryResult::Ok(())
        })?;
        if backend == "postgres" {
            diesel::sql_query("VACUUM ANALYZE users, user_permissions, user_clinics, audit_events")
                .execute(conn)?;
        }
        Ok(())
    })
    .await?;
    // Let the database settle (WAL checkpoints, autovacuum) between timed runs.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

/// One timed bulk update through the API; checks that every user was updated.
async fn bulk_update(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    body: Vec<u8>,
) -> Result<Duration, BoxError> {
    let started = Instant::now();
    let response = http
        .post(format!("{base}/v1/users/bulk-update"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let report: Value = response.json().await?;
    let elapsed = started.elapsed();
    if status.as_u16() != 200
        || report["users_updated"] != USERS
        || report["permissions"]["applied"] != USERS
        || report["clinics"]["applied"] != USERS
    {
        return Err(format!("unexpected answer: {status} {report}").into());
    }
    Ok(elapsed)
}

/// One timed raw-SQL run: its wall time and the time of each statement.
struct RawRun {
    total: Duration,
    steps: Vec<Duration>,
}

/// The same writes as raw SQL in one transaction: the permission rows, the clinic rows and
/// the version bump of every seeded user; with `audit`, also one audit row per user and one
/// for the request, as the API writes them.
async fn raw_sql(
    pool: &Pool,
    s: &Seeded,
    backend: &'static str,
    audit: bool,
) -> Result<RawRun, BoxError> {
    let (site, north, users) = (s.site, s.north, seeded_users(s));
    let new_id = if backend == "postgres" {
        "gen_random_uuid()::text"
    } else {
        "lower(hex(randomblob(16)))"
    };
    let mut statements = vec![
        format!(
            "INSERT INTO user_permissions (user_id, site_id, permission) \
             SELECT id, site_id, 'view_reports' FROM users WHERE {users}"
        ),
        format!(
            "INSERT INTO user_clinics (user_id, clinic_id, site_id) \
             SELECT id, '{north}', site_id FROM users WHERE {users}"
        ),
        format!(
            "UPDATE users SET version = version + 1, updated_at = CURRENT_TIMESTAMP \
             WHERE {users}"
        ),
    ];
    if audit {
        statements.push(format!(
            "INSERT INTO audit_events (id, site_id, occurred_at, actor_kind, actor_id, action, \
             target_type, target_id, after_state) \
             SELECT {new_id}, site_id, CURRENT_TIMESTAMP, 'user', 'bench', \
             'user.access_changed', 'user', id, \
             '{{\"added_permissions\":[\"view_reports\"],\"added_clinic_ids\":[\"{north}\"]}}' \
             FROM users WHERE {users}"
        ));
        statements.push(format!(
            "INSERT INTO audit_events (id, site_id, occurred_at, actor_kind, actor_id, action, \
             target_type, target_id) VALUES ({new_id}, '{site}', CURRENT_TIMESTAMP, 'user', \
             'bench', 'users.bulk_updated', 'site', '{site}')"
        ));
    }
    let expected: Vec<usize> = statements
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 4 { 1 } else { USERS })
        .collect();
    let (run, written) = with_conn(pool, move |conn| {
        let started = Instant::now();
        let mut steps = Vec::new();
        let written = write_transaction(&mut *conn, |conn| {
            let mut written = Vec::new();
            for statement in &statements {
                let step = Instant::now();
                written.push(diesel::sql_query(statement).execute(conn)?);
                steps.push(step.elapsed());
            }
            diesel::result::QueryResult::Ok(written)
        })?;
        let total = started.elapsed();
        Ok((RawRun { total, steps }, written))
    })
    .await?;
    if written != expected {
        return Err(format!("raw SQL wrote {written:?} rows").into());
    }
    Ok(run)
}
