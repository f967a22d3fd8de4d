//! `type-switch`: latency and throughput of `PUT /v1/users/{id}/type`, the licence-checked
//! write that takes the site lock. Starts the real server in-process on a fresh database
//! (SQLite, or PostgreSQL when `STAFFROOM_TEST_DATABASE_URL` is set), bootstraps a flex site
//! with 10,000 licences and 200 users, then times 1,000 switches from one client and 1,000
//! from 8 concurrent clients. See `bench/README.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use staffroom_api::app;
use staffroom_api::auth::tokens::TokenKeys;
use staffroom_api::outbox::{Outbox, OutboxConfig};
use staffroom_api::providers::simulated;
use staffroom_api::state::AppState;
use staffroom_bench::login;
use staffroom_bench::seed::{self, ADMIN_EMAIL, PASSWORD};
use staffroom_connectors::sim::{self, SimOptions};
use staffroom_domain::LicencePlan;
use staffroom_persistence::testing::TestDatabase;
use tokio::sync::Barrier;

use staffroom_bench::BoxError;

const USERS: usize = 200;
const SWITCHES: usize = 1_000;
const CLIENTS: usize = 8;
const LICENCES: u32 = 10_000;
const POOL_SIZE: u32 = 16;
const JWT_SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret!!";

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = TestDatabase::create()?;
    let backend = db.backend();
    let pool = db.pool(POOL_SIZE)?;
    seed::site(&pool, LicencePlan::Flex { licences: LICENCES })?;
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
    let mut users = create_users(&http, &base, &token).await?;
    println!(
        "staffroom type-switch benchmark: backend {backend}, {} build, {USERS} users on \
         flex/{LICENCES}, server {workers} workers, pool {POOL_SIZE}",
        if cfg!(debug_assertions) {
            "DEBUG (use --release)"
        } else {
            "release"
        },
    );

    let run = sequential(&http, &base, &token, &mut users).await;
    run.print("sequential, 1 client", backend);
    let run = concurrent(&base, &token, users).await?;
    run.print(&format!("concurrent, {CLIENTS} clients"), backend);

    handle.stop(true).await;
    let _ = server.await;
    drop(db);
    Ok(())
}

/// A user being switched back and forth: its id and its current type.
#[derive(Debug, Clone)]
struct Target {
    id: String,
    clinical: bool,
}

impl Target {
    /// The type to switch to next: always the other one, so every switch is a change.
    fn next_type(&self) -> &'static str {
        if self.clinical {
            "non_clinical"
        } else {
            "clinical"
        }
    }
}

async fn create_users(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<Vec<Target>, BoxError> {
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let clinical = i % 2 == 0;
        let response = http
            .post(format!("{base}/v1/users"))
            .bearer_auth(token)
            .json(&json!({
                "first_name": "Bench",
                "last_name": format!("User{i}"),
                "email": format!("user{i}@bench.test"),
                "user_type": if clinical { "clinical" } else { "non_clinical" },
            }))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        let Some(id) = body["id"].as_str().filter(|_| status.as_u16() == 201) else {
            return Err(format!("creating user {i}: {status} {body}").into());
        };
        users.push(Target {
            id: id.to_owned(),
            clinical,
        });
    }
    Ok(users)
}

/// One timed switch; on success the target's type is updated.
async fn switch(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    target: &mut Target,
) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    let sent = http
        .put(format!("{base}/v1/users/{}/type", target.id))
        .bearer_auth(token)
        .json(&json!({"user_type": target.next_type()}))
        .send()
        .await;
    let outcome = match sent {
        Ok(response) if response.status().as_u16() == 200 => response
            .bytes()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Ok(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            Err(format!("{status} {body}"))
        }
        Err(e) => Err(e.to_string()),
    };
    let elapsed = started.elapsed();
    if outcome.is_ok() {
        target.clinical = !target.clinical;
    }
    (elapsed, outcome)
}

/// Latencies and errors of one run.
#[derive(Debug, Default)]
struct Run {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    wall: Duration,
}

impl Run {
    fn record(&mut self, (latency, outcome): (Duration, Result<(), String>)) {
        self.latencies.push(latency);
        if let Err(e) = outcome {
            self.errors += 1;
            self.first_error.get_or_insert(e);
        }
    }

    fn merge(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// The nearest-rank percentile `p` (0–100) of the latencies, in milliseconds.
    fn percentile_ms(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
        let index = rank.clamp(1, sorted.len()) - 1;
        sorted[index].as_secs_f64() * 1000.0
    }

    fn print(&self, name: &str, backend: &str) {
        let count = self.latencies.len();
        let seconds = self.wall.as_secs_f64();
        let throughput = if seconds > 0.0 {
            count as f64 / seconds
        } else {
            0.0
        };
        println!();
        println!("== PUT /v1/users/{{id}}/type: {name} ==");
        println!("  backend      {backend}");
        println!("  requests     {count}");
        println!("  errors       {}", self.errors);
        println!("  wall time    {seconds:.3} s");
        println!("  throughput   {throughput:.1} req/s");
        println!("  latency p50  {:.2} ms", self.percentile_ms(50.0));
        println!("  latency p95  {:.2} ms", self.percentile_ms(95.0));
        if let Some(e) = &self.first_error {
            println!("  first error  {e}");
        }
    }
}

/// `SWITCHES` switches one after the other, cycling through all users.
async fn sequential(http: &reqwest::Client, base: &str, token: &str, users: &mut [Target]) -> Run {
    let mut run = Run::default();
    let started = Instant::now();
    for i in 0..SWITCHES {
        let target = &mut users[i % users.len()];
        run.record(switch(http, base, token, target).await);
    }
    run.wall = started.elapsed();
    run
}

/// `SWITCHES` switches from `CLIENTS` clients at once, each with its own connection pool
/// and its own share of the users, released together by a barrier.
async fn concurrent(base: &str, token: &str, users: Vec<Target>) -> Result<Run, BoxError> {
    let shares: Vec<Vec<Target>> = users
        .chunks(users.len().div_ceil(CLIENTS))
        .map(<[Target]>::to_vec)
        .collect();
    let clients = shares.len();
    let barrier = Arc::new(Barrier::new(clients + 1));
    let mut tasks = Vec::new();
    for (client, mut mine) in shares.into_iter().enumerate() {
        let (base, token, barrier) = (base.to_owned(), token.to_owned(), barrier.clone());
        let switches = SWITCHES / clients + usize::from(client < SWITCHES % clients);
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            // Open the connection before the clock starts.
            let warm_up = http
                .get(format!("{base}/v1/site/licences"))
                .bearer_auth(&token)
                .send()
                .await;
            if let Ok(response) = warm_up {
                let _ = response.bytes().await;
            }
            let mut run = Run::default();
            barrier.wait().await;
            for i in 0..switches {
                let n = mine.len();
                run.record(switch(&http, &base, &token, &mut mine[i % n]).await);
            }
            run
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut total = Run::default();
    for task in tasks {
        total.merge(task.await?);
    }
    total.wall = started.elapsed();
    Ok(total)
}
