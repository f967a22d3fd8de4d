#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Several `staffroom serve` processes on one database (PostgreSQL when
//! `STAFFROOM_TEST_DATABASE_URL` is set, a shared SQLite file otherwise), as a scaled
//! deployment runs them: they migrate a fresh database together without error, accept each
//! other's tokens (one shared `STAFFROOM_JWT_SECRET`), and requests racing for the last
//! licence through different processes never both succeed (SPEC §1).

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use futures_util::future::join_all;
use serde_json::{Value, json};
use staffroom_persistence::testing::TestDatabase;
use support::{Process, spawn};

const ADMIN_EMAIL: &str = "boss@multi.test";
const ADMIN_PASSWORD: &str = "a long passphrase";
const CONTENDERS: usize = 20;
const ROUNDS: usize = 10;

/// The real binary with a clean environment: this database, no rate limit, one secret.
fn staffroom(db: &TestDatabase, data: &Path) -> Command {
    let mut cmd = support::staffroom(db, data);
    cmd.env("STAFFROOM_RATE_LIMIT", "0");
    cmd
}

/// Starts `serve` on port 0 without waiting for it to listen.
fn start(db: &TestDatabase, data: &Path, name: &str) -> Process {
    let mut cmd = staffroom(db, data);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--workers", "2"]);
    spawn(cmd, data, name)
}

fn bootstrap(db: &TestDatabase, data: &Path, licences: u32) -> Value {
    let out = staffroom(db, data)
        .args(["bootstrap", "--site-name", "Twin Clinics", "--plan", "flex"])
        .args(["--licences", &licences.to_string()])
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

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Status, problem code and body of a response.
async fn answer(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["code"].as_str().unwrap_or("").to_owned();
    (status, code, body)
}

async fn licences(http: &reqwest::Client, base: &str, token: &str) -> Value {
    let (status, _, body) = answer(
        http.get(format!("{base}/v1/site/licences"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    let (total, used) = (&body["licences_total"], &body["licences_used"]);
    assert!(
        used.as_u64().unwrap() <= total.as_u64().unwrap(),
        "{body:#}"
    );
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_never_both_grant_the_last_licence() {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    // Both start on the fresh database at once, so both migrate it together.
    let mut a = start(&db, data.path(), "a");
    let mut b = start(&db, data.path(), "b");
    a.wait_listening();
    b.wait_listening();
    let ids = bootstrap(&db, data.path(), 2);
    assert!(ids["site_id"].is_string(), "{ids}");

    let http = client();
    let (status, _, login) = answer(
        http.post(format!("{}/v1/auth/login", a.base))
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{login:#}");
    let token = login["access_token"].as_str().unwrap().to_owned();
    // A token issued by one instance is accepted by the other.
    for base in [&a.base, &b.base] {
        let report = licences(&http, base, &token).await;
        assert_eq!(report["licences_used"], 1, "the admin: {report:#}");
        assert_eq!(report["licences_available"], 1, "{report:#}");
    }

    let bases = [a.base.as_str(), b.base.as_str()];
    for round in 0..ROUNDS {
        let requests = (0..CONTENDERS).map(|i| {
            let base = bases[i % 2];
            let request = http
                .post(format!("{base}/v1/users"))
                .bearer_auth(&token)
                .json(&json!({
                    "first_name": "Race",
                    "last_name": "Contender",
                    "email": format!("r{round}-c{i}@multi.test"),
                    "user_type": if i % 4 < 2 { "clinical" } else { "non_clinical" },
                }));
            async move { answer(request.send().await.unwrap()).await }
        });
        let answers = join_all(requests).await;
        let summary: Vec<String> = answers
            .iter()
            .enumerate()
            .map(|(i, (status, code, _))| format!("{}:{status} {code}", ["a", "b"][i % 2]))
            .collect();
        let winners: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 201).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one create wins the last licence: {summary:?}"
        );
        for (status, code, body) in answers.iter().filter(|(s, _, _)| *s != 201) {
            assert_eq!(
                (*status, code.as_str()),
                (409, "licence_limit_reached"),
                "round {round}: {body:#}\nall: {summary:?}"
            );
        }
        for base in bases {
            let report = licences(&http, base, &token).await;
            assert_eq!(report["licences_available"], 0, "round {round}: {report:#}");
        }
        // Free the licence again through the other instance than the previous round's.
        let winner = winners[0].2["id"].as_str().unwrap();
        let (status, _, body) = answer(
            http.post(format!(
                "{}/v1/users/{winner}/deactivate",
                bases[(round + 1) % 2]
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body:#}");
    }
    for base in bases {
        let report = licences(&http, base, &token).await;
        assert_eq!(report["licences_used"], 1, "{report:#}");
    }
    drop((a, b));
}

#[test]
fn concurrent_migrations_of_a_fresh_database_all_succeed() {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..4)
        .map(|_| {
            staffroom(&db, data.path())
                .arg("migrate")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The schema is complete: a site can be bootstrapped.
    let ids = bootstrap(&db, data.path(), 3);
    assert!(ids["admin_user_id"].is_string(), "{ids}");
}
