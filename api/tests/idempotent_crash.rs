#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A server that dies between a change's commit and its answer: the idempotent answer was
//! stored in the change's own transaction, so the retry with the same key and body, to a
//! restarted server on the same database, replays that answer instead of acting again.
//! The real `staffroom` binary exits right after the commit through the test-only switch
//! `STAFFROOM_TEST_EXIT_AFTER_COMMIT`. Runs on PostgreSQL when
//! `STAFFROOM_TEST_DATABASE_URL` is set, on a SQLite file otherwise.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use staffroom_persistence::testing::TestDatabase;
use staffroom_persistence::users;
use support::{Process, spawn};

const ADMIN_EMAIL: &str = "boss@crash.test";
const ADMIN_PASSWORD: &str = "a long passphrase";
/// The exit status of the switch.
const EXIT_AFTER_COMMIT: i32 = 86;

fn serve(db: &TestDatabase, data: &Path, name: &str, exit_after: Option<&str>) -> Process {
    let mut cmd = support::staffroom(db, data);
    cmd.env("STAFFROOM_RATE_LIMIT", "0").args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--workers",
        "1",
    ]);
    if let Some(target) = exit_after {
        cmd.env("STAFFROOM_TEST_EXIT_AFTER_COMMIT", target);
    }
    let mut process = spawn(cmd, data, name);
    process.wait_listening();
    process
}

fn bootstrap(db: &TestDatabase, data: &Path) {
    let out = support::staffroom(db, data)
        .args(["bootstrap", "--site-name", "Crash Clinic", "--plan", "flex"])
        .args(["--licences", "10", "--admin-email", ADMIN_EMAIL])
        .args(["--admin-password", ADMIN_PASSWORD])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bootstrap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn login(http: &reqwest::Client, base: &str) -> String {
    let body: Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Waits (bounded) for the process to exit by itself and returns its exit code.
fn exit_code(process: &mut Process) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

const KEY: &str = "crash-retry-0001";

/// A bootstrapped site whose server is about to die after one commit.
struct Crash {
    db: TestDatabase,
    data: tempfile::TempDir,
    http: reqwest::Client,
}

/// What a retry answered.
struct Retry {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Crash {
    fn new() -> Self {
        let db = TestDatabase::create().unwrap();
        let data = tempfile::tempdir().unwrap();
        bootstrap(&db, data.path());
        Self {
            db,
            data,
            http: client(),
        }
    }

    /// A server that exits right after committing `POST path`.
    fn dying(&self, path: &str) -> Process {
        serve(
            &self.db,
            self.data.path(),
            "dying",
            Some(&format!("POST {path}")),
        )
    }

    fn restarted(&self) -> Process {
        serve(&self.db, self.data.path(), "restarted", None)
    }

    /// `POST path` with the key, as `token` (if any).
    async fn post(
        &self,
        base: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .http
            .post(format!("{base}{path}"))
            .header("Idempotency-Key", KEY)
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await
    }

    /// Sends `POST path` to `dying`, which commits, exits before answering, and is gone.
    async fn post_and_die(
        &self,
        mut dying: Process,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) {
        let first = self.post(&dying.base, path, token, body).await;
        assert!(first.is_err(), "the server answered: {first:?}");
        assert_eq!(
            exit_code(&mut dying),
            Some(EXIT_AFTER_COMMIT),
            "{}",
            dying.log()
        );
    }

    /// The same `POST path` again, to `base`.
    async fn retry(&self, base: &str, path: &str, token: Option<&str>, body: &Value) -> Retry {
        let response = self.post(base, path, token, body).await.unwrap();
        Retry {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.json().await.unwrap(),
        }
    }
}

impl Retry {
    /// Asserts the answer is a replay with `status`, and returns its body.
    fn replayed(self, status: u16) -> Value {
        let body = self.body;
        assert_eq!(self.status, status, "{body:#}");
        assert_eq!(
            self.headers.get("idempotent-replayed").unwrap(),
            "true",
            "{body:#}"
        );
        body
    }

    /// The body of a replay whose one-time `field` was withheld: the field is null and the
    /// `Secret-Withheld` header names it. Returns the body without that field.
    fn withheld(&self, field: &str) -> Value {
        let mut body = self.body.clone();
        let secret = body.as_object_mut().unwrap().remove(field);
        assert_eq!(secret, Some(Value::Null), "a replay carries no secret");
        assert_eq!(self.headers.get("secret-withheld").unwrap(), field);
        body
    }
}

/// `POST path` with `body` dies after the commit; the retry to a restarted server replays
/// the committed answer, and `count` (a list the change adds to) grew by exactly one.
async fn crash_then_retry(path: &str, body: Value, list: &str) {
    let crash = Crash::new();
    let http = &crash.http;
    let dying = crash.dying(path);
    let token = login(http, &dying.base).await;
    let before = count(http, &dying.base, &token, list).await;
    crash.post_and_die(dying, path, Some(&token), &body).await;

    let server = crash.restarted();
    let token = login(http, &server.base).await;
    assert_eq!(
        count(http, &server.base, &token, list).await,
        before + 1,
        "the first request committed its change"
    );
    let mut replays = Vec::new();
    for _ in 0..2 {
        let retry = crash.retry(&server.base, path, Some(&token), &body).await;
        let location = retry.headers.get("location").cloned();
        // A one-time secret is never replayed: the field is null and the header names it.
        let answer = if retry.body.get("client_secret").is_some() {
            retry.withheld("client_secret")
        } else {
            retry.body.clone()
        };
        assert_eq!(retry.replayed(201)["id"], answer["id"]);
        assert!(location.is_some(), "{answer:#}");
        let resource = listed(http, &server.base, &token, list, &answer["id"]).await;
        assert_eq!(answer, resource, "the replay is the committed answer");
        replays.push(answer);
    }
    assert_eq!(replays[0], replays[1]);
    assert_eq!(
        count(http, &server.base, &token, list).await,
        before + 1,
        "the retries changed nothing"
    );
}

/// The JSON body of `GET path`.
async fn get_json(http: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    let response = http
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

/// The item of `GET list` with this `id` (one page of up to 200 is enough here).
async fn listed(http: &reqwest::Client, base: &str, token: &str, list: &str, id: &Value) -> Value {
    let page = get_json(http, base, token, &format!("{list}?limit=200")).await;
    let items = page["items"].as_array().unwrap();
    items
        .iter()
        .find(|item| item["id"] == *id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not in {list}"))
}

/// How many items `GET list` answers (one page of up to 200 is enough here).
async fn count(http: &reqwest::Client, base: &str, token: &str, list: &str) -> usize {
    let page = get_json(http, base, token, &format!("{list}?limit=200")).await;
    page["items"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_created_before_a_crash_is_replayed_not_created_again() {
    let body = json!({
        "first_name": "Crash",
        "last_name": "Survivor",
        "email": "survivor@crash.test",
        "user_type": "clinical",
        "initial_password": "another long passphrase",
    });
    crash_then_retry("/v1/users", body, "/v1/users").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinic_added_before_a_crash_is_replayed_not_added_again() {
    let body = json!({"name": "Harbour Road"});
    crash_then_retry("/v1/clinics", body, "/v1/clinics").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_created_before_a_crash_is_replayed_without_its_secret() {
    let body = json!({"name": "Payroll sync", "permissions": ["view_users"]});
    crash_then_retry("/v1/service-accounts", body, "/v1/service-accounts").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_update_applied_before_a_crash_is_replayed_not_judged_again() {
    let crash = Crash::new();
    let http = &crash.http;
    let path = "/v1/users/bulk-update";
    let dying = crash.dying(path);
    let token = login(http, &dying.base).await;
    let user = json!({
        "first_name": "Bulk",
        "last_name": "Survivor",
        "email": "bulk@crash.test",
        "user_type": "clinical",
        "initial_password": "another long passphrase",
    });
    let created = http
        .post(format!("{}/v1/users", dying.base))
        .bearer_auth(&token)
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let id = created.json::<Value>().await.unwrap()["id"].clone();
    let body = json!({
        "filter": {"q": "bulk@crash.test"},
        "select_all": true,
        "add_permissions": ["view_reports"],
    });
    crash.post_and_die(dying, path, Some(&token), &body).await;

    let server = crash.restarted();
    let token = login(http, &server.base).await;
    let stored = get_json(
        http,
        &server.base,
        &token,
        &format!("/v1/users/{}", id.as_str().unwrap()),
    )
    .await;
    assert!(
        stored["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("view_reports")),
        "the first request committed its change: {stored:#}"
    );
    for _ in 0..2 {
        let report = crash
            .retry(&server.base, path, Some(&token), &body)
            .await
            .replayed(200);
        // Judged again, the change would now be a no-op; the replay is the first report.
        assert_eq!(report["permissions"]["applied"], 1, "{report:#}");
        assert_eq!(report["permissions"]["no_op"], 0, "{report:#}");
        assert_eq!(report["users_updated"], 1, "{report:#}");
    }
}

/// The administrator's `last_login_at`, read from the database.
fn last_login(db: &TestDatabase) -> Option<chrono::NaiveDateTime> {
    let pool = db.pool(1).unwrap();
    let mut conn = pool.get().unwrap();
    let email = staffroom_domain::Email::parse(ADMIN_EMAIL).unwrap();
    let [admin] =
        <[_; 1]>::try_from(users::login_candidates(&mut conn, &email, None).unwrap()).unwrap();
    users::get(&mut conn, admin.site_id, admin.user_id)
        .unwrap()
        .last_login_at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_recorded_before_a_crash_is_replayed_without_its_token() {
    let crash = Crash::new();
    let path = "/v1/auth/login";
    let body = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    assert_eq!(last_login(&crash.db), None);
    crash
        .post_and_die(crash.dying(path), path, None, &body)
        .await;
    let recorded = last_login(&crash.db);
    assert!(recorded.is_some(), "the first login committed");

    let server = crash.restarted();
    for _ in 0..2 {
        let retry = crash.retry(&server.base, path, None, &body).await;
        let answer = retry.withheld("access_token");
        assert_eq!(answer["token_type"], "Bearer");
        retry.replayed(200);
    }
    assert_eq!(
        last_login(&crash.db),
        recorded,
        "the retries logged nobody in"
    );
    // Without the key, the same credentials log in again with a token.
    assert!(!login(&crash.http, &server.base).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_issued_before_a_crash_is_replayed_without_it() {
    let crash = Crash::new();
    let http = &crash.http;
    let path = "/v1/auth/token";
    let dying = crash.dying(path);
    let admin = login(http, &dying.base).await;
    let account: Value = http
        .post(format!("{}/v1/service-accounts", dying.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "Crash sync", "permissions": ["view_users"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = json!({
        "grant_type": "client_credentials",
        "client_id": account["client_id"],
        "client_secret": account["client_secret"],
    });
    crash.post_and_die(dying, path, None, &body).await;

    let server = crash.restarted();
    for _ in 0..2 {
        let retry = crash.retry(&server.base, path, None, &body).await;
        let answer = retry.withheld("access_token");
        assert_eq!(answer["expires_in"], 900);
        retry.replayed(200);
    }
}

/// `POST path` with `body` and `token` on `base`; the status and JSON body.
async fn post_json(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// An exercise add dies right after the commit of its `pending` state, its job and its
/// provisional `202` answer, before any provider call. The retry to a restarted server
/// replays that `202`; the restarted server's outbox worker carries the job out, and the
/// provider gets the user exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exercise_add_before_a_crash_replays_its_pending_answer_and_reaches_the_provider_once() {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    bootstrap(&db, data.path());
    let http = client();
    let mut setup = serve(&db, data.path(), "setup", None);
    let token = login(&http, &setup.base).await;
    let connected = http
        .put(format!("{}/v1/integrations/exercise", setup.base))
        .bearer_auth(&token)
        .json(&json!({"clm_id": "CLM-7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), 200, "{}", setup.log());
    let staff = json!({
        "first_name": "Crash", "last_name": "Survivor", "email": "mover@crash.test",
        "user_type": "clinical", "initial_password": "another long passphrase",
    });
    let (status, user) = post_json(&http, &setup.base, &token, "/v1/users", &staff).await;
    assert_eq!(status, 201, "{user:#}");
    assert!(setup.terminate().success(), "{}", setup.log());
    drop(setup);

    let path = format!(
        "/v1/integrations/exercise/users/{}",
        user["id"].as_str().unwrap()
    );
    let names = json!({"first_name": "Crash", "last_name": "Survivor"});
    let key = "crash-exercise-add-0001";
    let mut dying = serve(&db, data.path(), "dying", Some(&format!("POST {path}")));
    let token = login(&http, &dying.base).await;
    let first = http
        .post(format!("{}{path}", dying.base))
        .bearer_auth(&token)
        .header("Idempotency-Key", key)
        .json(&names)
        .send()
        .await;
    assert!(first.is_err(), "the server answered: {first:?}");
    assert_eq!(
        exit_code(&mut dying),
        Some(EXIT_AFTER_COMMIT),
        "{}",
        dying.log()
    );
    drop(dying);

    let mut server = serve(&db, data.path(), "restarted", None);
    let sim = server.line_after("provider simulator:");
    let token = login(&http, &server.base).await;
    let mut replays = Vec::new();
    for _ in 0..2 {
        let retry = http
            .post(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&names)
            .send()
            .await
            .unwrap();
        assert_eq!(retry.status(), 202);
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        let answer: Value = retry.json().await.unwrap();
        assert_eq!(answer["state"], "pending", "{answer:#}");
        assert_eq!(answer["user_id"], user["id"], "{answer:#}");
        assert_eq!(answer["pending_action"], "add", "{answer:#}");
        replays.push(answer);
    }
    assert_eq!(replays[0], replays[1]);

    let deadline = Instant::now() + Duration::from_secs(30);
    let settled = loop {
        let now = get_json(&http, &server.base, &token, &path).await;
        if now["state"] != "pending" || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(settled["state"], "active", "{settled:#}\n{}", server.log());
    let provider: Value = http
        .get(format!("{sim}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let added: Vec<&Value> = provider["exercise"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["external_id"] == user["id"])
        .collect();
    assert_eq!(added.len(), 1, "{provider:#}");
    assert_eq!(added[0]["first_name"], "Crash", "{provider:#}");
    assert_eq!(
        settled["job_id"], replays[0]["job_id"],
        "the crashed request's job ran"
    );
}
