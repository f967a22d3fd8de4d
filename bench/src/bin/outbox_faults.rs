//! `outbox-faults`: 1,000 exercise add-user operations against a provider that fails 30 %
//! of calls (`503`) and times out 10 % of them (the provider does the work, then hangs past
//! the client's timeout, so only the idempotency key prevents a duplicate). Starts the real
//! server and its outbox worker in-process on a fresh database (SQLite, or PostgreSQL with
//! `STAFFROOM_TEST_DATABASE_URL`) against the provider simulator on loopback, sends the
//! adds from 16 clients, and waits until no user is `pending`. Prints how many ended
//! `active`, how many duplicates the provider holds (must be 0) and the time until every
//! operation settled. See `bench/README.md`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use staffroom_api::app;
use staffroom_api::auth::password;
use staffroom_api::auth::tokens::TokenKeys;
use staffroom_api::outbox::{Outbox, OutboxConfig};
use staffroom_api::providers::simulated;
use staffroom_api::state::AppState;
use staffroom_bench::{BoxError, login, median, percentile};
use staffroom_connectors::sim::{self, Faults, SimOptions};
use staffroom_domain::{
    Email, EntityName, JobKind, JobStatus, LicencePlan, PersonName, Profession, RetryPolicy,
    SiteId, SiteSettings, UserId, UserType,
};
use staffroom_persistence::bootstrap::{self, NewSite};
use staffroom_persistence::testing::TestDatabase;
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::users::{self, NewUser};
use staffroom_persistence::{Pool, outbox};

const OPERATIONS: usize = 1_000;
const CLIENTS: usize = 16;
const FAIL_RATE: f64 = 0.3;
const TIMEOUT_RATE: f64 = 0.1;
/// The provider client's timeout; a "timed out" call hangs well past it.
const PROVIDER_TIMEOUT: Duration = Duration::from_millis(500);
const HANG: Duration = Duration::from_secs(2);
/// Give up waiting after this long (the run then reports what is still pending).
const SETTLE_LIMIT: Duration = Duration::from_secs(300);
const ADMIN_EMAIL: &str = "bench-admin@example.test";
const PASSWORD: &str = "bench passphrase, long enough";
const JWT_SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret!!";

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = TestDatabase::create()?;
    let backend = db.backend();
    let pool = db.pool(16)?;
    let (site, users) = seed(&pool)?;

    let sim = sim::start(([127, 0, 0, 1], 0).into(), SimOptions::default()).await?;
    let outbox = OutboxConfig {
        policy: RetryPolicy {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(2),
            max_attempts: None,
        },
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(100),
        batch: 64,
        inline_budget: Duration::from_secs(1),
        worker_name: "bench".to_owned(),
    };
    let providers = simulated(&sim, &pool, PROVIDER_TIMEOUT, false);
    let outbox = Arc::new(Outbox::new(pool.clone(), providers, outbox));
    let state = AppState::new(pool.clone(), TokenKeys::hs256(JWT_SECRET), outbox.calls());
    let (stop_worker, stopped) = tokio::sync::watch::channel(false);
    let worker = outbox.spawn_worker(stopped);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let running = app::start(state, "127.0.0.1:0", Some(workers))?;
    let handle = running.handle.clone();
    let server = tokio::spawn(running.server);
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let token = login(&http, &base, ADMIN_EMAIL, PASSWORD).await?;
    let connected = http
        .put(format!("{base}/v1/integrations/exercise"))
        .bearer_auth(&token)
        .json(&json!({"clm_id": "CLM-1000"}))
        .send()
        .await?;
    if !connected.status().is_success() {
        return Err(format!("connect failed: {}", connected.status()).into());
    }

    println!(
        "staffroom outbox-faults benchmark: backend {backend}, {OPERATIONS} add-user operations \
         from {CLIENTS} clients; the provider fails {:.0} % of calls and times out {:.0} % \
         (hangs {} ms past a {} ms client timeout)",
        FAIL_RATE * 100.0,
        TIMEOUT_RATE * 100.0,
        HANG.as_millis(),
        PROVIDER_TIMEOUT.as_millis()
    );
    sim.set_faults(Faults {
        fail_rate: FAIL_RATE,
        timeout_rate: TIMEOUT_RATE,
        hang_ms: Some(u64::try_from(HANG.as_millis())?),
        ..Faults::default()
    });

    let started = Instant::now();
    let users = Arc::new(users);
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        let (http, base, token, users) = (http.clone(), base.clone(), token.clone(), users.clone());
        clients.spawn(async move {
            let mut answers = Vec::new();
            for user in users.iter().skip(client).step_by(CLIENTS) {
                let sent = Instant::now();
                let status = http
                    .post(format!("{base}/v1/integrations/exercise/users/{user}"))
                    .bearer_auth(&token)
                    .json(&json!({"first_name": "Bench", "last_name": format!("User {user}")}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                answers.push((status, sent.elapsed()));
            }
            answers
        });
    }
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    let mut latencies = Vec::with_capacity(OPERATIONS);
    while let Some(done) = clients.join_next().await {
        for (status, latency) in done? {
            *statuses.entry(status).or_default() += 1;
            latencies.push(latency);
        }
    }
    let requests_done = started.elapsed();

    let mut states = count_states(&http, &base, &token).await?;
    while states.get("pending").copied().unwrap_or(0) > 0 && started.elapsed() < SETTLE_LIMIT {
        tokio::time::sleep(Duration::from_millis(100)).await;
        states = count_states(&http, &base, &token).await?;
    }
    let settled = started.elapsed();
    sim.clear_faults();

    let provider = sim.state();
    let mut at_provider: HashMap<String, usize> = HashMap::new();
    for user in provider["exercise"]["users"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(id) = user["external_id"].as_str() {
            *at_provider.entry(id.to_owned()).or_default() += 1;
        }
    }
    let duplicates: usize = at_provider.values().map(|n| n.saturating_sub(1)).sum();
    let (attempts, failed_jobs) = job_totals(&pool, site)?;

    let mut answered: Vec<_> = statuses.into_iter().collect();
    answered.sort_unstable();
    println!();
    println!("== {OPERATIONS} add-user operations under faults ==");
    println!("  backend                  {backend}");
    println!(
        "  answers                  {}",
        answered
            .iter()
            .map(|(s, n)| format!("{n} x {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  request latency          median {:.0} ms, p95 {:.0} ms",
        median(&latencies).as_secs_f64() * 1000.0,
        percentile(&latencies, 95.0).as_secs_f64() * 1000.0
    );
    println!(
        "  all requests answered    {:.2} s",
        requests_done.as_secs_f64()
    );
    println!(
        "  all operations settled   {:.2} s{}",
        settled.as_secs_f64(),
        if states.get("pending").copied().unwrap_or(0) > 0 {
            "  (NOT settled: gave up waiting)"
        } else {
            ""
        }
    );
    println!(
        "  ended active             {} of {OPERATIONS}",
        states.get("active").copied().unwrap_or(0)
    );
    println!("  states                   {states:?}");
    println!(
        "  provider users           {} for {} Staffroom users",
        at_provider.values().sum::<usize>(),
        at_provider.len()
    );
    println!(
        "  duplicates at provider   {duplicates}  (must be 0: {})",
        if duplicates == 0 { "met" } else { "NOT met" }
    );
    println!(
        "  provider attempts        {attempts} for {OPERATIONS} add jobs ({failed_jobs} failed)"
    );

    let _ = stop_worker.send(true);
    let _ = worker.await;
    handle.stop(true).await;
    let _ = server.await;
    sim.stop().await;
    Ok(())
}

/// A flex site with room for every user, and the users (non-clinical, no password) created
/// straight through the persistence layer.
fn seed(pool: &Pool) -> Result<(SiteId, Vec<UserId>), BoxError> {
    let name = |s: &str| PersonName::parse(s);
    let new_user = |email: String, hash: Option<String>| -> Result<NewUser, BoxError> {
        Ok(NewUser {
            title: None,
            first_name: name("Bench")?,
            last_name: name("User")?,
            email: Email::parse(&email)?,
            user_type: UserType::NonClinical,
            profession: Profession::Other,
            permissions: Vec::new(),
            clinic_ids: Vec::new(),
            default_clinic_id: None,
            password_hash: hash,
            external_id: None,
            user_name: None,
            email_primary: None,
        })
    };
    let mut conn = pool.get()?;
    let site = bootstrap::create_site(
        &mut conn,
        NewSite {
            name: EntityName::parse("Bench Practice")?,
            plan: LicencePlan::Flex {
                licences: u32::try_from(OPERATIONS)? + 10,
            },
            settings: SiteSettings::default(),
            clinic_name: EntityName::parse("Main")?,
            admin: new_user(
                ADMIN_EMAIL.to_owned(),
                Some(password::hash(PASSWORD).map_err(|e| e.to_string())?),
            )?,
        },
    )?;
    let ctx = AuditContext::system(site.site_id);
    let users = (0..OPERATIONS)
        .map(|i| {
            let user = users::create(
                &mut conn,
                &ctx,
                new_user(format!("user{i}@bench.test"), None)?,
            )?;
            Ok(user.id)
        })
        .collect::<Result<_, BoxError>>()?;
    Ok((site.site_id, users))
}

/// How many users are in each exercise state (every page of the list).
async fn count_states(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<HashMap<String, usize>, BoxError> {
    let mut states = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/integrations/exercise/users?limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        for item in page["items"].as_array().into_iter().flatten() {
            if item["email"] != ADMIN_EMAIL {
                let state = item["state"].as_str().unwrap_or("?").to_owned();
                *states.entry(state).or_default() += 1;
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(states),
        }
    }
}

/// Attempts made by all add jobs, and how many add jobs failed for good.
fn job_totals(pool: &Pool, site: SiteId) -> Result<(i64, usize), BoxError> {
    let mut conn = pool.get()?;
    let (mut attempts, mut failed) = (0, 0);
    let mut query = outbox::JobQuery {
        kind: Some(JobKind::ExerciseCreateUser),
        limit: 200,
        ..outbox::JobQuery::default()
    };
    loop {
        let page = outbox::list(&mut conn, site, &query)?;
        for job in &page.items {
            attempts += job.attempts;
            failed += usize::from(job.status == JobStatus::Failed);
        }
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => return Ok((attempts, failed)),
        }
    }
}
