//! The `staffroom` binary as an operator uses it: `bootstrap`, `migrate`, `openapi`,
//! configuration mistakes, and `serve --demo` end to end (its built-in simulator's report
//! deliveries included), on the backend the environment selects
//! (`STAFFROOM_TEST_DATABASE_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};

use serde_json::{Value, json};
use staffroom_persistence::testing::TestDatabase;
use support::staffroom;

mod support;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bootstrap_prints_the_new_ids_as_json() {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = staffroom(&db, data.path())
        .args([
            "bootstrap",
            "--site-name",
            "Harbour Physio",
            "--plan",
            "flex",
            "--licences",
            "5",
        ])
        .args([
            "--admin-email",
            "boss@harbour.test",
            "--admin-password",
            "a long passphrase",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ids: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["site_id", "admin_user_id", "clinic_id"] {
        assert!(
            uuid::Uuid::parse_str(ids[key].as_str().unwrap()).is_ok(),
            "{key}: {ids}"
        );
    }
}

/// Arguments, environment overrides (empty value: unset) and the expected message.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn configuration_mistakes_are_one_clear_line() {
    let db = TestDatabase::sqlite().unwrap();
    let data = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = vec![
        (
            vec!["serve"],
            vec![("STAFFROOM_DATABASE_URL", "mysql://x/y")],
            "sqlite:// or postgres://",
        ),
        (
            vec!["serve"],
            vec![("STAFFROOM_JWT_SECRET", "short")],
            "at least 32 bytes",
        ),
        (
            vec!["serve"],
            vec![
                ("STAFFROOM_DATABASE_URL", "postgres://nobody@127.0.0.1:1/x"),
                ("STAFFROOM_JWT_SECRET", ""),
            ],
            "STAFFROOM_JWT_SECRET",
        ),
        (
            vec![
                "bootstrap",
                "--site-name",
                "X",
                "--plan",
                "flex",
                "--licences",
                "3",
                "--admin-email",
                "not-an-email",
                "--admin-password",
                "long enough pw",
            ],
            vec![],
            "--admin-email",
        ),
        (
            vec![
                "bootstrap",
                "--site-name",
                "X",
                "--plan",
                "group",
                "--admin-email",
                "a@b.test",
                "--admin-password",
                "long enough pw",
            ],
            vec![],
            "--licences",
        ),
        (
            vec!["serve"],
            vec![("STAFFROOM_OUTBOX_MAX_ATTEMPTS", "0")],
            "STAFFROOM_OUTBOX_MAX_ATTEMPTS",
        ),
        (
            vec!["worker"],
            vec![("STAFFROOM_OUTBOX_BATCH", "0")],
            "STAFFROOM_OUTBOX_BATCH",
        ),
        (
            vec!["worker"],
            vec![
                ("STAFFROOM_EXERCISE_URL", "ftp://provider.test/"),
                ("STAFFROOM_EXERCISE_API_KEY", "key"),
            ],
            "exercise provider",
        ),
        (
            vec!["serve"],
            vec![("STAFFROOM_IMAGING_URL", "http://127.0.0.1:9/imaging")],
            "STAFFROOM_IMAGING_API_KEY",
        ),
        (
            vec!["serve"],
            vec![("STAFFROOM_INVITATION_TTL_HOURS", "0")],
            "STAFFROOM_INVITATION_TTL_HOURS",
        ),
        (
            vec!["serve"],
            vec![("STAFFROOM_PUBLIC_URL", "example.com")],
            "STAFFROOM_PUBLIC_URL",
        ),
    ];
    for (args, env, expected) in cases {
        let mut cmd = staffroom(&db, data.path());
        for (k, v) in &env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let out = cmd.args(&args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn migrate_is_idempotent_and_openapi_matches_the_committed_file() {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = staffroom(&db, data.path()).arg("migrate").output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = staffroom(&db, data.path()).arg("openapi").output().unwrap();
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert!(
        printed == committed,
        "openapi/openapi.json is stale: regenerate it with `staffroom openapi`"
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve --demo` on a free port and returns the base URL and the printed lines.
fn serve_demo(db: &TestDatabase, data: &std::path::Path) -> (Server, String, Vec<String>) {
    let mut child = staffroom(db, data)
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.contains("curl");
        lines.push(line);
        if done {
            break;
        }
    }
    let base = lines[0]
        .split_whitespace()
        .last()
        .expect("the first line names the address")
        .to_owned();
    (server, base, lines)
}

#[tokio::test]
async fn demo_admin_logs_in_and_manages_users() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let (_server, base, lines) = serve_demo(&db, data.path());
    let printed = lines.join("\n");
    assert!(printed.contains("admin@demo.staffroom.test"), "{printed}");
    let http = reqwest::Client::new();
    // The docs address it prints works as printed (`/docs` redirects to `/docs/`).
    let docs = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("API docs:"))
        .unwrap_or_else(|| panic!("no docs line: {printed}"))
        .trim();
    let page = http.get(docs).send().await.unwrap();
    assert_eq!(page.status(), 200, "{docs}");
    assert!(page.url().path().ends_with("/docs/"), "{}", page.url());
    // No provider URL is configured, so `serve` started the simulator in-process and said
    // where.
    let sim = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("provider simulator: "))
        .unwrap_or_else(|| panic!("no simulator line: {printed}"))
        .to_owned();
    let login: Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": "admin@demo.staffroom.test", "password": "staffroom-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let users: Value = http
        .get(format!("{base}/v1/users?limit=200"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = users["items"].as_array().unwrap();
    assert_eq!(items.len(), 12);
    let types: std::collections::HashSet<_> = items
        .iter()
        .map(|u| u["user_type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 2, "both user types");
    let clinics: Value = http
        .get(format!("{base}/v1/clinics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clinics["items"].as_array().unwrap().len(), 3);

    // The exercise integration connects through that simulator.
    let connected = http
        .put(format!("{base}/v1/integrations/exercise"))
        .bearer_auth(&token)
        .json(&json!({"clm_id": "CLM-77"}))
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), 200);
    let held: Value = http
        .get(format!("{sim}/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let known: Vec<&str> = held["exercise"]["clinics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["clm_id"].as_str())
        .collect();
    assert_eq!(known, ["CLM-77"], "{held:#}");

    let created = http
        .post(format!("{base}/v1/users"))
        .bearer_auth(&token)
        .json(&json!({"first_name": "Nia", "last_name": "Demo", "email": "nia@demo.staffroom.test", "user_type": "clinical", "profession": "PT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let user: Value = created.json().await.unwrap();
    let id = user["id"].as_str().unwrap();
    let updated = http
        .patch(format!("{base}/v1/users/{id}"))
        .bearer_auth(&token)
        .header("If-Match", etag)
        .json(&json!({"last_name": "Demonstration"}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    let deactivated: Value = http
        .post(format!("{base}/v1/users/{id}/deactivate"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deactivated["status"], "inactive");
    assert_eq!(deactivated["last_name"], "Demonstration");
    drop(_server);

    // A second start finds the demo site instead of creating another.
    let (_again, base, _) = serve_demo(&db, data.path());
    let login = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": "admin@demo.staffroom.test", "password": "staffroom-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "one demo site, so no site_required");
}

/// A report the built-in simulator of `serve --demo` delivers is signed with the server's
/// own webhook secret, so it verifies: the referral becomes `reported`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reports_from_the_built_in_simulator_verify() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let (_server, base, lines) = serve_demo(&db, data.path());
    let sim = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("provider simulator: "))
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, url: String, token: Option<&str>, body: Value| {
        let mut request = http.request(method, url);
        if !body.is_null() {
            request = request.json(&body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (_, login) = call(
        reqwest::Method::POST,
        format!("{base}/v1/auth/login"),
        None,
        json!({"email": "admin@demo.staffroom.test", "password": "staffroom-demo"}),
    )
    .await;
    let token = login["access_token"].as_str().unwrap();
    let steps = [
        (
            reqwest::Method::PUT,
            "/v1/integrations/imaging",
            json!({"enabled": true}),
            200,
        ),
        (
            reqwest::Method::POST,
            "/v1/me/integrations/imaging/connect",
            json!({"first_name": "Demo", "last_name": "Admin", "email": "admin@demo.staffroom.test"}),
            200,
        ),
    ];
    for (method, path, body, expected) in steps {
        let (status, answer) = call(method, format!("{base}{path}"), Some(token), body).await;
        assert_eq!(status, expected, "{path}: {answer:#}");
    }
    let (status, referral) = call(
        reqwest::Method::POST,
        format!("{base}/v1/referrals"),
        Some(token),
        json!({"patient_name": "Pat Demo", "body_part": "Left knee"}),
    )
    .await;
    assert_eq!(status, 201, "{referral:#}");
    let provider_id = referral["provider_referral_id"].as_str().unwrap();
    let (status, asked) = call(
        reqwest::Method::POST,
        format!("{sim}/_sim/imaging/referrals/{provider_id}/report"),
        None,
        json!({"summary": "Nothing broken."}),
    )
    .await;
    assert_eq!(status, 202, "{asked:#}");
    let path = format!("{base}/v1/referrals/{}", referral["id"].as_str().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, now) = call(reqwest::Method::GET, path.clone(), Some(token), Value::Null).await;
        if now["status"] == "reported" {
            assert_eq!(now["report"]["summary"], "Nothing broken.");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never reported: {now:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
