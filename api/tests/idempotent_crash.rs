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

/// `POST path` with `body` dies after the commit; the retry to a restarted server replays
/// the committed answer, and `count` (a list the change adds to) grew by exactly one.
async fn crash_then_retry(path: &str, body: Value, list: &str) {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    bootstrap(&db, data.path());
    let http = client();
    let key = "crash-retry-0001";

    let mut dying = serve(&db, data.path(), "dying", Some(&format!("POST {path}")));
    let token = login(&http, &dying.base).await;
    let before = count(&http, &dying.base, &token, list).await;
    let first = http
        .post(format!("{}{path}", dying.base))
        .bearer_auth(&token)
        .header("Idempotency-Key", key)
        .json(&body)
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

    let server = serve(&db, data.path(), "restarted", None);
    let token = login(&http, &server.base).await;
    assert_eq!(
        count(&http, &server.base, &token, list).await,
        before + 1,
        "the first request committed its change"
    );
    let mut replays = Vec::new();
    for _ in 0..2 {
        let retry = http
            .post(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = retry.status().as_u16();
        let replayed = retry.headers().get("idempotent-replayed").cloned();
        let location = retry.headers().get("location").cloned();
        let withheld = retry.headers().get("secret-withheld").cloned();
        let mut answer: Value = retry.json().await.unwrap();
        assert_eq!(status, 201, "{answer:#}");
        assert_eq!(replayed.unwrap(), "true", "{answer:#}");
        // A one-time secret is never replayed: the field is null and the header names it.
        if let Some(secret) = answer.as_object_mut().unwrap().remove("client_secret") {
            assert_eq!(secret, Value::Null, "a replay carries no secret");
            assert_eq!(withheld.unwrap(), "client_secret");
        }
        assert!(location.is_some(), "{answer:#}");
        let resource = listed(&http, &server.base, &token, list, &answer["id"]).await;
        assert_eq!(answer, resource, "the replay is the committed answer");
        replays.push(answer);
    }
    assert_eq!(replays[0], replays[1]);
    assert_eq!(
        count(&http, &server.base, &token, list).await,
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
