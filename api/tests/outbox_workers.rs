#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The outbox worked by real processes (SPEC §9 "Outbound reliability"): several `staffroom
//! serve` processes on one database (PostgreSQL when `STAFFROOM_TEST_DATABASE_URL` is set,
//! a shared SQLite file otherwise) against one provider simulator running in this test
//! process, a `staffroom worker` alone finishing what a worker-less `serve` left pending,
//! and `staffroom mail list` reading the notices the embedded email sink kept.
//!
//! Every process is killed when its handle drops, and every wait has a deadline.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::future::join_all;
use serde_json::{Value, json};
use staffroom_connectors::sim::{self, Faults, SimHandle, SimOptions};
use staffroom_domain::{JobId, JobKind, JobStatus, SiteId};
use staffroom_persistence::mail;
use staffroom_persistence::outbox::{self, JobQuery, JobRow};
use staffroom_persistence::testing::TestDatabase;
use staffroom_persistence::tx::AuditContext;
use support::{Process, spawn};

const ADMIN_EMAIL: &str = "boss@outbox.test";
const ADMIN_PASSWORD: &str = "a long passphrase";
const CLM_ID: &str = "CLM-42";
/// Users added through the two processes of the first test.
const USERS: usize = 40;
/// The subject of the notice sent when a user is added.
const ADDED_SUBJECT: &str = "You can now use the exercise-prescription tool";

/// The real binary with a clean environment: this database, no rate limit, one secret,
/// providers at `providers` (the exercise and imaging base URLs), mail kept in the
/// database (no `STAFFROOM_EMAIL_URL`), and a fast outbox. Users are created 40 at once
/// with a password, so password hashes may queue longer than the default 2 s wait for a
/// permit on a loaded machine: these tests are not about that bound, so it is 60 s here.
fn staffroom(db: &TestDatabase, data: &Path, providers: &str, extra: &[(&str, &str)]) -> Command {
    let mut cmd = support::staffroom(db, data);
    cmd.env("STAFFROOM_RATE_LIMIT", "0")
        .env("STAFFROOM_EXERCISE_URL", format!("{providers}/exercise"))
        .env("STAFFROOM_EXERCISE_API_KEY", "outbox-workers")
        .env("STAFFROOM_IMAGING_URL", format!("{providers}/imaging"))
        .env("STAFFROOM_IMAGING_API_KEY", "outbox-workers")
        .env("STAFFROOM_OUTBOX_POLL_MS", "20")
        .env("STAFFROOM_OUTBOX_BACKOFF_MS", "50")
        .env("STAFFROOM_OUTBOX_BACKOFF_MAX_MS", "200")
        .env("STAFFROOM_PROVIDER_TIMEOUT_MS", "5000")
        .env("STAFFROOM_PASSWORD_HASHING_WAIT_MS", "60000");
    for (name, value) in extra {
        cmd.env(name, value);
    }
    cmd
}

fn serve(
    db: &TestDatabase,
    data: &Path,
    providers: &str,
    name: &str,
    extra: &[(&str, &str)],
) -> Process {
    let mut cmd = staffroom(db, data, providers, extra);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--workers", "2"]);
    spawn(cmd, data, name)
}

fn bootstrap(db: &TestDatabase, data: &Path, providers: &str) -> Value {
    let out = staffroom(db, data, providers, &[])
        .args([
            "bootstrap",
            "--site-name",
            "Outbox Clinic",
            "--plan",
            "flex",
        ])
        .args(["--licences", "100"])
        .args([
            "--admin-email",
            ADMIN_EMAIL,
            "--admin-password",
            ADMIN_PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bootstrap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `staffroom mail list [--to EMAIL]`, one JSON value per line.
fn mail_list(db: &TestDatabase, data: &Path, providers: &str, to: Option<&str>) -> Vec<Value> {
    let mut cmd = staffroom(db, data, providers, &[]);
    cmd.args(["mail", "list"]);
    if let Some(to) = to {
        cmd.args(["--to", to]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "mail list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

async fn start_sim() -> SimHandle {
    sim::start("127.0.0.1:0".parse().unwrap(), SimOptions::default())
        .await
        .expect("the simulator starts")
}

// ---------------------------------------------------------------------------------------
// A recording proxy in front of the simulator: it sees every provider call, so it can tell
// whether two attempts carrying one idempotency key (one outbox job) were ever in flight at
// the same time, and how many attempts each job really made.

#[derive(Default)]
struct Calls {
    /// Calls in flight per idempotency key.
    in_flight: HashMap<String, usize>,
    /// Calls made per idempotency key.
    made: BTreeMap<String, usize>,
    /// Keys seen with another call already in flight.
    overlaps: Vec<String>,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    calls: Arc<Mutex<Calls>>,
}

/// Leaves the in-flight set even when the handler is dropped half-way.
struct InFlight {
    key: String,
    calls: Arc<Mutex<Calls>>,
}

impl InFlight {
    fn enter(key: String, calls: &Arc<Mutex<Calls>>) -> Self {
        let mut c = calls.lock().unwrap();
        let running = c.in_flight.entry(key.clone()).or_default();
        *running += 1;
        if *running > 1 {
            c.overlaps.push(key.clone());
        }
        *c.made.entry(key.clone()).or_default() += 1;
        Self {
            key,
            calls: Arc::clone(calls),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut c = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = c.in_flight.get_mut(&self.key) {
            *n -= 1;
        }
    }
}

async fn forward(req: HttpRequest, body: web::Bytes, proxy: web::Data<Proxy>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let key = header("idempotency-key");
    let in_flight = key.map(|k| InFlight::enter(k, &proxy.calls));
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let mut upstream = proxy
        .client
        .request(method, format!("{}{}", proxy.upstream, req.uri()))
        .body(body.to_vec());
    for name in ["authorization", "content-type", "accept", "idempotency-key"] {
        if let Some(value) = header(name) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await;
    // The call is over for the provider before Staffroom sees its answer.
    drop(in_flight);
    match answer {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response =
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
            if let Some(content_type) = content_type {
                response.insert_header(("content-type", content_type));
            }
            response.body(bytes.to_vec())
        }
        Err(e) => HttpResponse::BadGateway().body(e.to_string()),
    }
}

/// Starts the proxy on a free port; returns its base URL and what it records.
fn start_proxy(upstream: String) -> (String, Arc<Mutex<Calls>>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let calls = Arc::new(Mutex::new(Calls::default()));
    let proxy = web::Data::new(Proxy {
        upstream,
        client: reqwest::Client::new(),
        calls: Arc::clone(&calls),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(proxy.clone())
            .app_data(web::PayloadConfig::new(1024 * 1024))
            .default_service(web::to(forward))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (base, calls)
}

// ---------------------------------------------------------------------------------------
// The HTTP API

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

struct Api {
    http: reqwest::Client,
    token: String,
}

/// Status and body of a response.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

impl Api {
    async fn login(base: &str) -> Self {
        let http = client();
        let (status, body) = answer(
            http.post(format!("{base}/v1/auth/login"))
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body:#}");
        let token = body["access_token"].as_str().unwrap().to_owned();
        Self { http, token }
    }

    async fn get(&self, url: String) -> (u16, Value) {
        answer(
            self.http
                .get(url)
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn send(&self, method: reqwest::Method, url: String, body: Value) -> (u16, Value) {
        answer(
            self.http
                .request(method, url)
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn connect_exercise(&self, base: &str) {
        let (status, body) = self
            .send(
                reqwest::Method::PUT,
                format!("{base}/v1/integrations/exercise"),
                json!({"clm_id": CLM_ID}),
            )
            .await;
        assert_eq!(status, 200, "{body:#}");
        assert_eq!(body["connected"], true, "{body:#}");
        assert_eq!(body["clm_id"], CLM_ID, "{body:#}");
    }

    /// Creates a clinical user; returns their id.
    async fn create_user(&self, base: &str, email: &str) -> String {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                format!("{base}/v1/users"),
                json!({
                    "first_name": "Pat",
                    "last_name": "Worker",
                    "email": email,
                    "user_type": "clinical",
                    // With a password, no invitation: the only mail is the add's notice.
                    "initial_password": "a long passphrase",
                }),
            )
            .await;
        assert_eq!(status, 201, "{body:#}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn add_exercise_user(&self, base: &str, user: &str, first: &str) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            format!("{base}/v1/integrations/exercise/users/{user}"),
            json!({"first_name": first, "last_name": "Worker"}),
        )
        .await
    }

    async fn exercise_user(&self, base: &str, user: &str) -> Value {
        let (status, body) = self
            .get(format!("{base}/v1/integrations/exercise/users/{user}"))
            .await;
        assert_eq!(status, 200, "{body:#}");
        body
    }

    /// Exercise states of every site user, by user id.
    async fn exercise_states(&self, base: &str) -> BTreeMap<String, Value> {
        let (status, body) = self
            .get(format!("{base}/v1/integrations/exercise/users?limit=200"))
            .await;
        assert_eq!(status, 200, "{body:#}");
        assert!(body["next_cursor"].is_null(), "one page holds them all");
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["user_id"].as_str().unwrap().to_owned(), u.clone()))
            .collect()
    }

    async fn jobs(&self, base: &str, kind: &str) -> Vec<Value> {
        let (status, body) = self
            .get(format!("{base}/v1/outbox-jobs?kind={kind}&limit=200"))
            .await;
        assert_eq!(status, 200, "{body:#}");
        assert!(body["next_cursor"].is_null(), "one page holds them all");
        body["items"].as_array().unwrap().clone()
    }

    async fn job(&self, base: &str, id: &str) -> Value {
        let (status, body) = self.get(format!("{base}/v1/outbox-jobs/{id}")).await;
        assert_eq!(status, 200, "{body:#}");
        body
    }
}

/// Polls `check` every 100 ms until it returns `Some`, or panics with `what` after `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("{what} did not happen within {limit:?}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn states_summary(states: &BTreeMap<String, Value>, ids: &[String]) -> BTreeMap<String, usize> {
    let mut summary = BTreeMap::new();
    for id in ids {
        let state = states[id]["state"].as_str().unwrap_or("?").to_owned();
        *summary.entry(state).or_default() += 1;
    }
    summary
}

// ---------------------------------------------------------------------------------------
// 1. Two processes, one outbox

/// Two `serve` processes work one outbox against a slow, flaky provider: every add ends
/// `active`, the provider holds each user exactly once, and no job ever had two attempts in
/// flight at once.
///
/// What guarantees it: a job is worked only under a lease taken by one guarded `UPDATE`
/// (`status = 'pending' AND due AND (leased_until IS NULL OR leased_until < now)`), held
/// far longer than a provider call may take, and its outcome is recorded only under the
/// same owner token. `persistence/tests/outbox.rs` races claims on both backends to prove
/// that exclusivity directly; here the recording proxy checks it end to end, and the
/// simulator's idempotency would in any case turn a second attempt of one job into a replay
/// rather than a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_serve_processes_work_each_job_once_and_create_no_duplicates() {
    let started = Instant::now();
    let sim = start_sim().await;
    let (providers, calls) = start_proxy(sim.base_url());
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    // A budget of 0 ms: the request claims its job and starts the call in the background,
    // but answers `202 pending` at once; retries are left to the two processes' workers.
    let fast = [("STAFFROOM_PROVIDER_BUDGET_MS", "0")];
    let mut a = serve(&db, data.path(), &providers, "a", &fast);
    let mut b = serve(&db, data.path(), &providers, "b", &fast);
    a.wait_listening();
    b.wait_listening();
    let site = bootstrap(&db, data.path(), &providers)["site_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bases = [a.base.clone(), b.base.clone()];

    let api = Api::login(&bases[0]).await;
    api.connect_exercise(&bases[1]).await;
    let creates = (0..USERS).map(|i| {
        let (api, base) = (&api, &bases[i % 2]);
        async move {
            api.create_user(base, &format!("worker{i}@outbox.test"))
                .await
        }
    });
    let ids: Vec<String> = join_all(creates).await;

    // Slow and flaky from now on: every call takes 200 ms, 30 % of them fail with a 503.
    sim.set_faults(Faults {
        latency_ms: 200,
        fail_rate: 0.3,
        ..Faults::default()
    });
    let adds = ids.iter().enumerate().map(|(i, id)| {
        let (api, base) = (&api, &bases[i % 2]);
        async move { api.add_exercise_user(base, id, &format!("Pat{i}")).await }
    });
    for (i, (status, body)) in join_all(adds).await.into_iter().enumerate() {
        // The budget is 0 ms, so the answer is `202 pending`, unless the background call
        // already finished when the state was read (under load): then `200 active`.
        match (status, body["state"].as_str()) {
            (202, Some("pending")) => assert_eq!(body["pending_action"], "add", "{body:#}"),
            (200, Some("active")) => {}
            _ => panic!("add {i} answers at once, {status}: {body:#}"),
        }
    }

    let polls = std::sync::atomic::AtomicUsize::new(0);
    let states = eventually(Duration::from_secs(60), "every user active", || async {
        // Ask each process in turn.
        let base = &bases[polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2];
        let states = api.exercise_states(base).await;
        if ids.iter().all(|id| states[id]["state"] == "active") {
            Ok(states)
        } else {
            Err(format!("{:?}", states_summary(&states, &ids)))
        }
    })
    .await;
    for id in &ids {
        assert_eq!(states[id]["last_error"], Value::Null, "{:#}", states[id]);
    }
    sim.clear_faults();

    // The provider holds exactly one user per Staffroom user.
    let held = sim.state();
    let mut by_external: BTreeMap<String, usize> = BTreeMap::new();
    for user in held["exercise"]["users"].as_array().unwrap() {
        assert_eq!(user["clm_id"], CLM_ID, "{user:#}");
        *by_external
            .entry(user["external_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let duplicated: Vec<_> = by_external.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "duplicates at the provider: {duplicated:?}"
    );
    let expected: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let held_ids: BTreeSet<&str> = by_external.keys().map(String::as_str).collect();
    assert_eq!(held_ids, expected);

    // Every job succeeded; its attempts are the calls the provider really got for its key,
    // and no two of them were ever in flight together.
    let jobs = api.jobs(&bases[1], "exercise.create_user").await;
    assert_eq!(jobs.len(), USERS);
    let (overlaps, made) = {
        let recorded = calls.lock().unwrap();
        (recorded.overlaps.clone(), recorded.made.clone())
    };
    assert!(
        overlaps.is_empty(),
        "attempts of one job ran at the same time: {overlaps:?}"
    );
    assert_eq!(made.len(), USERS, "one idempotency key per job: {made:?}");
    let mut attempts_total = 0;
    for job in &jobs {
        assert_eq!(job["status"], "succeeded", "{job:#}");
        assert_eq!(job["running"], false, "{job:#}");
        assert!(job["finished_at"].is_string(), "{job:#}");
        let attempts = usize::try_from(job["attempts"].as_u64().unwrap()).unwrap();
        assert!((1..=20).contains(&attempts), "{job:#}");
        // Every attempt is one provider call with the job's key (`staffroom-job-{id}`,
        // docs/decisions.md), so a retry never creates a second user.
        let key = format!("staffroom-job-{}", job["id"].as_str().unwrap());
        assert_eq!(made.get(&key), Some(&attempts), "calls with {key}: {job:#}");
        attempts_total += attempts;
    }
    let retried = jobs
        .iter()
        .filter(|j| j["attempts"].as_u64().unwrap() > 1)
        .count();

    // Each user got exactly one notice, through the database sink.
    let notices = eventually(Duration::from_secs(30), "every notice sent", || async {
        let jobs = api.jobs(&bases[0], "email.send").await;
        let sent = jobs.iter().filter(|j| j["status"] == "succeeded").count();
        if jobs.len() == USERS && sent == USERS {
            Ok(jobs)
        } else {
            Err(format!("{} jobs, {sent} sent", jobs.len()))
        }
    })
    .await;
    assert_eq!(notices.len(), USERS);
    let mail = mail_list(&db, data.path(), &providers, None);
    let mut per_recipient: BTreeMap<String, usize> = BTreeMap::new();
    for message in mail.iter().filter(|m| m["subject"] == ADDED_SUBJECT) {
        *per_recipient
            .entry(message["to"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_recipient.len(), USERS, "{per_recipient:?}");
    assert!(per_recipient.values().all(|n| *n == 1), "{per_recipient:?}");

    // Which process made each job's last attempt (lease owners are `host:pid/token`; the
    // add went to process `i % 2`): always one of the two.
    let rows = job_rows(&db, site.parse().unwrap(), JobKind::ExerciseCreateUser);
    let pids = [a.child.id(), b.child.id()];
    let mut by_other = 0;
    let mut finished_by = [0_usize; 2];
    for row in &rows {
        let owner = row.lease_owner.as_deref().unwrap_or_default();
        let finisher = pids
            .iter()
            .position(|pid| owner.contains(&format!(":{pid}/")))
            .unwrap_or_else(|| panic!("owner {owner} is neither process {pids:?}"));
        finished_by[finisher] += 1;
        let asked = ids
            .iter()
            .position(|id| row.subject_id == Some(id.parse().unwrap()))
            .unwrap();
        by_other += usize::from(finisher != asked % 2);
    }
    // Both processes worked the outbox: each finished some of the jobs.
    assert!(
        finished_by.iter().all(|n| *n > 0),
        "jobs finished by process a and b: {finished_by:?}"
    );
    eprintln!(
        "{}: {USERS} adds over two processes, {attempts_total} attempts ({retried} jobs \
         retried, {by_other} finished by the process the add did not go to), done in {:?}",
        db.backend(),
        started.elapsed()
    );
    drop((a, b));
}

// ---------------------------------------------------------------------------------------
// 2 and 3. `staffroom worker` alone, and `staffroom mail list`

/// What the worker scenario leaves behind.
struct WorkerScenario {
    db: TestDatabase,
    data: tempfile::TempDir,
    providers: String,
    site: SiteId,
    email: String,
    user_id: String,
    /// The process ids of the worker-less `serve` and of the `staffroom worker`.
    server_pid: u32,
    worker_pid: u32,
}

/// A `serve` without an outbox worker leaves an add pending after its inline attempt
/// failed; it stays pending, though the provider is back, until a `staffroom worker`
/// (alone, same settings) runs it and its notice. The worker stops cleanly on SIGTERM.
/// The tests below check what each of them is about in what it leaves behind.
async fn worker_scenario(sim: &SimHandle) -> WorkerScenario {
    let providers = sim.base_url();
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let settings = [
        // `true`, not `1`: see `the_no_outbox_worker_switch_accepts_1`.
        ("STAFFROOM_NO_OUTBOX_WORKER", "true"),
        ("STAFFROOM_PROVIDER_BUDGET_MS", "1"),
    ];
    let mut server = serve(&db, data.path(), &providers, "serve", &settings);
    server.wait_listening();
    let site = bootstrap(&db, data.path(), &providers)["site_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let base = server.base.clone();
    let api = Api::login(&base).await;
    api.connect_exercise(&base).await;
    let email = "Solo.Worker@Outbox.test".to_owned();
    let user_id = api.create_user(&base, &email).await;

    sim.set_faults(Faults {
        fail_next: 1000,
        ..Faults::default()
    });
    let (status, body) = api.add_exercise_user(&base, &user_id, "Solo").await;
    assert_eq!(status, 202, "{body:#}");
    assert_eq!(body["state"], "pending", "{body:#}");
    let job_id = body["job_id"].as_str().unwrap().to_owned();
    // The inline attempt fails (503) and is recorded as a retry that nobody runs here.
    let job = eventually(
        Duration::from_secs(10),
        "the inline attempt recorded",
        || async {
            let job = api.job(&base, &job_id).await;
            if job["attempts"] == 1 && job["last_error"].is_string() && job["running"] == false {
                Ok(job)
            } else {
                Err(job.to_string())
            }
        },
    )
    .await;
    assert_eq!(job["status"], "pending", "{job:#}");
    assert_eq!(job["kind"], "exercise.create_user", "{job:#}");
    sim.clear_faults();

    // The provider is back, but this process works no outbox: nothing moves.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still = api.exercise_user(&base, &user_id).await;
    assert_eq!(still["state"], "pending", "{still:#}");
    let job = api.job(&base, &job_id).await;
    assert_eq!(
        (&job["status"], &job["attempts"]),
        (&json!("pending"), &json!(1)),
        "{job:#}"
    );
    assert!(
        sim.state()["exercise"]["users"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A worker alone, with the same settings, finishes it.
    let mut cmd = staffroom(&db, data.path(), &providers, &settings);
    cmd.arg("worker");
    let mut worker = spawn(cmd, data.path(), "worker");
    worker.wait_first_line("staffroom worker running");
    let worker_pid = worker.child.id();
    let active = eventually(Duration::from_secs(30), "the user active", || async {
        let user = api.exercise_user(&base, &user_id).await;
        if user["state"] == "active" {
            Ok(user)
        } else {
            Err(user.to_string())
        }
    })
    .await;
    assert_eq!(active["last_error"], Value::Null, "{active:#}");
    let job = api.job(&base, &job_id).await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["attempts"], 2, "{job:#}");
    let held = sim.state();
    let users = held["exercise"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{held:#}");
    assert_eq!(users[0]["external_id"], user_id.as_str());
    assert_eq!(users[0]["first_name"], "Solo");

    // The worker also sends the notice the add queued.
    eventually(Duration::from_secs(30), "the notice sent", || async {
        let jobs = api.jobs(&base, "email.send").await;
        match jobs.as_slice() {
            [job] if job["status"] == "succeeded" => Ok(()),
            _ => Err(format!("{jobs:?}")),
        }
    })
    .await;

    let status = worker.terminate();
    assert!(
        status.success(),
        "the worker exits cleanly on SIGTERM: {status:?}\n{}",
        worker.log()
    );
    let server_pid = server.child.id();
    drop(server);
    WorkerScenario {
        db,
        data,
        providers,
        site,
        email,
        user_id,
        server_pid,
        worker_pid,
    }
}

/// The site's outbox rows of one kind, straight from the database (with their lease owner,
/// `host:pid/token`, which the API does not show).
fn job_rows(db: &TestDatabase, site: SiteId, kind: JobKind) -> Vec<JobRow> {
    let pool = db.pool(1).unwrap();
    outbox::list(
        &mut pool.get().unwrap(),
        site,
        &JobQuery {
            kind: Some(kind),
            limit: 200,
            ..Default::default()
        },
    )
    .unwrap()
    .items
}

/// Whether the lease owner `host:pid/token` names process `pid`.
fn leased_by(row: &JobRow, pid: u32) -> bool {
    row.lease_owner
        .as_deref()
        .is_some_and(|owner| owner.contains(&format!(":{pid}/")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staffroom_worker_alone_runs_the_jobs_a_serve_without_worker_left_pending() {
    let started = Instant::now();
    let sim = start_sim().await;
    let scenario = worker_scenario(&sim).await;
    let (server, worker) = (scenario.server_pid, scenario.worker_pid);
    // The add: its first attempt ran inline in the request (in `serve`), the retry that
    // succeeded in the worker process.
    let adds = job_rows(&scenario.db, scenario.site, JobKind::ExerciseCreateUser);
    let [add] = adds.as_slice() else {
        panic!("one add job: {adds:#?}")
    };
    assert_eq!(add.subject_id, Some(scenario.user_id.parse().unwrap()));
    assert_eq!(
        (add.status, add.attempts),
        (JobStatus::Succeeded, 2),
        "{add:#?}"
    );
    assert!(
        leased_by(add, worker) && !leased_by(add, server),
        "the add's last attempt was the worker's ({worker}), not serve's ({server}): {add:#?}"
    );
    // The notice the add queued: run once, by the worker alone.
    let notices = job_rows(&scenario.db, scenario.site, JobKind::EmailSend);
    let [notice] = notices.as_slice() else {
        panic!("one notice job: {notices:#?}")
    };
    assert_eq!(
        (notice.status, notice.attempts),
        (JobStatus::Succeeded, 1),
        "{notice:#?}"
    );
    assert!(
        leased_by(notice, worker),
        "the notice was sent by the worker ({worker}), not serve ({server}): {notice:#?}"
    );
    eprintln!(
        "{}: worker scenario in {:?}",
        scenario.db.backend(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_list_prints_the_notice_the_worker_sent() {
    let sim = start_sim().await;
    let s = worker_scenario(&sim).await;
    for to in [
        s.email.clone(),
        s.email.to_lowercase(),
        s.email.to_uppercase(),
    ] {
        let mail = mail_list(&s.db, s.data.path(), &s.providers, Some(&to));
        let notices: Vec<&Value> = mail
            .iter()
            .filter(|m| m["subject"] == ADDED_SUBJECT)
            .collect();
        assert_eq!(notices.len(), 1, "--to {to}: {mail:#?}");
        let notice = notices[0];
        assert!(
            notice["to"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(&s.email),
            "{notice:#}"
        );
        assert!(
            notice["body"].as_str().unwrap().contains("Pat"),
            "greets the user by their first name: {notice:#}"
        );
        let sent_at = notice["sent_at"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(sent_at)
            .unwrap_or_else(|e| panic!("sent_at {sent_at}: {e}"));
        for message in &mail {
            for field in ["to", "subject", "body", "sent_at"] {
                assert!(message[field].is_string(), "{field}: {message:#}");
            }
        }
    }
    // Nothing for anyone else, and the whole list holds this one notice.
    assert!(
        mail_list(
            &s.db,
            s.data.path(),
            &s.providers,
            Some("nobody@outbox.test")
        )
        .is_empty()
    );
    let all = mail_list(&s.db, s.data.path(), &s.providers, None);
    let notices: Vec<&Value> = all
        .iter()
        .filter(|m| m["subject"] == ADDED_SUBJECT)
        .collect();
    assert_eq!(notices.len(), 1, "{all:#?}");
}

/// Boolean switches read from the environment should accept what deployments write for
/// "set" (`1`), as docs/decisions.md promises: "every `serve` process works the outbox
/// unless `STAFFROOM_NO_OUTBOX_WORKER` is set". With `1` (and with `true`) a `serve` leaves
/// a due job untouched; the same job is sent at once by a `serve` without the switch.
#[test]
fn the_no_outbox_worker_switch_accepts_1() {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    // No provider is called (mail goes to the database sink): the URL only has to be set.
    let providers = "http://127.0.0.1:9";
    let site: SiteId = bootstrap(&db, data.path(), providers)["site_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let pool = db.pool(1).unwrap();
    let job_of = |id: JobId| outbox::get(&mut pool.get().unwrap(), site, id).unwrap();
    let mut queued = Vec::new();
    for value in ["1", "true"] {
        let mut server = serve(
            &db,
            data.path(),
            providers,
            &format!("serve-{value}"),
            &[("STAFFROOM_NO_OUTBOX_WORKER", value)],
        );
        server.wait_listening();
        let to = format!("switch-{value}@outbox.test");
        let job = mail::queue(
            &mut pool.get().unwrap(),
            &AuditContext::system(site),
            None,
            &to,
            "Switch",
            "Sent only by a process that works the outbox.",
        )
        .unwrap();
        // 50 polls of a worker (every 20 ms) would have run it.
        std::thread::sleep(Duration::from_secs(1));
        let row = job_of(job.id);
        assert_eq!(
            (row.status, row.attempts, row.lease_owner.as_deref()),
            (JobStatus::Pending, 0, None),
            "STAFFROOM_NO_OUTBOX_WORKER={value}: the job was touched: {row:#?}"
        );
        queued.push((job.id, to));
        drop(server);
    }
    assert!(mail_list(&db, data.path(), providers, None).is_empty());

    // The control: without the switch, `serve` works the outbox and sends both.
    let mut server = serve(&db, data.path(), providers, "serve-worker", &[]);
    server.wait_listening();
    let deadline = Instant::now() + Duration::from_secs(10);
    for (id, _) in &queued {
        while job_of(*id).status == JobStatus::Pending && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let row = job_of(*id);
        assert_eq!(row.status, JobStatus::Succeeded, "{row:#?}");
        assert!(leased_by(&row, server.child.id()), "{row:#?}");
    }
    let sent: BTreeSet<String> = mail_list(&db, data.path(), providers, None)
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = queued.into_iter().map(|(_, to)| to).collect();
    assert_eq!(sent, expected);
}

/// `202` means "pending: the provider has not answered yet" (the OpenAPI description of the
/// add's `202`), so its body must show `pending`. The handler decides `202` from the inline
/// run (over budget) but reads the state to return afterwards, when the call running on in
/// the background may already have finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_202_answer_always_shows_pending() {
    let sim = start_sim().await;
    let providers = sim.base_url();
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut server = serve(
        &db,
        data.path(),
        &providers,
        "serve",
        &[("STAFFROOM_PROVIDER_BUDGET_MS", "0")],
    );
    server.wait_listening();
    bootstrap(&db, data.path(), &providers);
    let base = server.base.clone();
    let api = Api::login(&base).await;
    api.connect_exercise(&base).await;
    let creates = (0..USERS).map(|i| {
        let api = &api;
        let base = &base;
        async move { api.create_user(base, &format!("race{i}@outbox.test")).await }
    });
    let ids: Vec<String> = join_all(creates).await;
    // A short provider delay, and all adds at once: the answers are read under load.
    sim.set_faults(Faults {
        latency_ms: 20,
        ..Faults::default()
    });
    let adds = ids
        .iter()
        .map(|id| api.add_exercise_user(&base, id, "Race"));
    let answers = join_all(adds).await;
    let pending = answers.iter().filter(|(status, _)| *status == 202).count();
    assert!(pending > 0, "no add answered 202: {answers:#?}");
    let wrong: Vec<String> = answers
        .into_iter()
        .enumerate()
        .filter(|(_, (status, body))| *status == 202 && body["state"] != "pending")
        .map(|(i, (_, body))| format!("add {i}: 202 with state {}", body["state"]))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
