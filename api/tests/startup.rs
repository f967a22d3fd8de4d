//! How the `staffroom` binary starts or refuses to: a bad listening address is reported
//! before the database is touched, an unreachable database within a second or two, parser
//! mistakes as one line, and `healthcheck` tells a serving instance from a dead one. The
//! imaging webhook secret is required with PostgreSQL, checked at start-up, and kept
//! across restarts by the embedded default.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use staffroom_persistence::testing::TestDatabase;
use support::staffroom;

mod support;

/// A start-up mistake must be reported well within this.
const FAST: Duration = Duration::from_secs(2);

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code 2 and one line `staffroom: error: …` containing `expected`.
fn assert_one_line_mistake(out: &Output, expected: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("staffroom: error: "), "{err}");
    assert!(err.contains(expected), "{expected:?} in {err}");
}

/// `serve` against a SQLite file that does not exist yet, under `dir/fresh/`.
fn serve_fresh(db: &TestDatabase, dir: &Path, args: &[&str]) -> (Output, Duration) {
    let url = format!(
        "sqlite://{}",
        dir.join("fresh").join("staffroom.db").display()
    );
    let started = Instant::now();
    let out = staffroom(db, dir)
        .env("STAFFROOM_DATABASE_URL", url)
        .arg("serve")
        .args(args)
        .output()
        .unwrap();
    (out, started.elapsed())
}

#[test]
fn a_bad_listening_address_is_reported_before_the_database_is_opened() {
    let db = TestDatabase::sqlite().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    for listen in ["nope", "127.0.0.1:99999", taken.as_str()] {
        let (out, took) = serve_fresh(&db, dir.path(), &["--listen", listen]);
        assert_one_line_mistake(&out, listen);
        assert!(
            stderr(&out).contains("STAFFROOM_LISTEN"),
            "{}",
            stderr(&out)
        );
        assert!(took < FAST, "{listen}: reported after {took:?}");
        assert!(
            !dir.path().join("fresh").exists(),
            "{listen}: the database was created"
        );
    }
}

#[test]
fn every_interface_without_a_public_url_is_refused() {
    let db = TestDatabase::sqlite().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let (out, _) = serve_fresh(&db, dir.path(), &["--listen", listen]);
        if stderr(&out).contains("Address family not supported") {
            continue; // no IPv6 on this machine
        }
        assert_one_line_mistake(&out, "STAFFROOM_PUBLIC_URL");
        assert!(!dir.path().join("fresh").exists(), "{listen}");
    }
}

/// `postgres://` with a role that does not exist, at the test server when there is one.
fn unknown_role_url() -> String {
    let server = std::env::var("STAFFROOM_TEST_DATABASE_URL")
        .ok()
        .and_then(|url| {
            let rest = url.split_once("://")?.1;
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            Some(host.split('/').next()?.to_owned())
        })
        .unwrap_or_else(|| "127.0.0.1:5432".to_owned());
    format!("postgres://no_such_role_here@{server}/postgres")
}

#[test]
fn an_unknown_postgres_role_is_reported_at_once() {
    let db = TestDatabase::sqlite().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = staffroom(&db, dir.path())
        .env("STAFFROOM_DATABASE_URL", unknown_role_url())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_one_line_mistake(&out, "cannot open database postgres://no_such_role_here@");
    assert!(took < FAST, "reported after {took:?}");
    if std::env::var("STAFFROOM_TEST_DATABASE_URL").is_ok() {
        assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    }
}

#[test]
fn parser_mistakes_are_one_line_and_help_is_untouched() {
    let db = TestDatabase::sqlite().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["serve", "--lsten", "x"], "'--lsten'"),
        (&["serve", "--rate-limit", "many"], "'many'"),
        (&["bootstrap", "--plan", "flex"], "--site-name"),
        (&["serve-all"], "'serve-all'"),
    ];
    for (args, expected) in cases {
        let out = staffroom(&db, dir.path()).args(args).output().unwrap();
        assert_one_line_mistake(&out, expected);
        assert!(!stderr(&out).contains("Usage:"), "{}", stderr(&out));
    }
    let help = staffroom(&db, dir.path()).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert_eq!(help.status.code(), Some(0));
    assert!(
        text.contains("Usage:") && text.lines().count() > 5,
        "{text}"
    );
    let version = staffroom(&db, dir.path())
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("staffroom "));
}

#[test]
fn healthcheck_tells_a_serving_instance_from_a_dead_one() {
    let db = TestDatabase::create().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut cmd = staffroom(&db, data.path());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--workers", "1"]);
    let mut server = support::spawn(cmd, data.path(), "serve");
    server.wait_listening();
    let check = |args: &[&str]| {
        staffroom(&db, data.path())
            .arg("healthcheck")
            .args(args)
            .output()
            .unwrap()
    };
    let ready = check(&["--url", &format!("{}/readyz", server.base)]);
    assert_eq!(ready.status.code(), Some(0), "{}", stderr(&ready));
    let database = check(&[]);
    assert_eq!(database.status.code(), Some(0), "{}", stderr(&database));
    let missing = check(&["--url", &format!("{}/no-such-page", server.base)]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("answered 404"),
        "{}",
        stderr(&missing)
    );
    drop(server);
    let dead = check(&["--url", "http://127.0.0.1:1/healthz", "--timeout-ms", "500"]);
    assert_eq!(dead.status.code(), Some(1), "{}", stderr(&dead));
    assert_eq!(stderr(&dead).trim().lines().count(), 1, "{}", stderr(&dead));
}

#[test]
fn postgres_without_an_imaging_webhook_secret_refuses_to_start() {
    let db = TestDatabase::sqlite().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = staffroom(&db, dir.path())
        .env("STAFFROOM_DATABASE_URL", "postgres://nobody@127.0.0.1:1/x")
        .env_remove("STAFFROOM_IMAGING_WEBHOOK_SECRET")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_one_line_mistake(
        &out,
        "STAFFROOM_IMAGING_WEBHOOK_SECRET is required with PostgreSQL",
    );
    assert!(started.elapsed() < FAST, "reported before the database");
    for bad in ["not-a-secret", "whsec_", "whsec_not base64!"] {
        let args = ["--listen", "127.0.0.1:0", "--imaging-webhook-secret", bad];
        let (out, _) = serve_fresh(&db, dir.path(), &args);
        assert_one_line_mistake(&out, "STAFFROOM_IMAGING_WEBHOOK_SECRET");
        assert!(!dir.path().join("fresh").exists(), "{bad}");
    }
}

/// The answer of the webhook to a correctly framed delivery for a referral nobody made,
/// signed with `secret`: `404` when the server checks with that secret, `401` otherwise.
async fn webhook_status(base: &str, secret: &str) -> u16 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = br#"{"type":"referral.report_ready","referral_id":"nobody","report":{}}"#;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = standardwebhooks::Webhook::new(secret)
        .unwrap()
        .sign("msg_restart", timestamp, body)
        .unwrap();
    reqwest::Client::new()
        .post(format!("{base}/v1/webhooks/imaging"))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_restart")
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_default_keeps_its_imaging_webhook_secret_across_restarts() {
    let db = TestDatabase::sqlite().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = || {
        let mut cmd = staffroom(&db, &data);
        cmd.env_remove("STAFFROOM_IMAGING_WEBHOOK_SECRET").args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "1",
        ]);
        std::fs::create_dir_all(&data).unwrap();
        let mut server = support::spawn(cmd, &data, "serve");
        server.wait_listening();
        server
    };
    let kept = || std::fs::read_to_string(data.join("imaging-webhook-secret")).unwrap();

    let mut first = serve();
    let secret = kept();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(webhook_status(&first.base, &secret).await, 404);
    first.terminate();

    let second = serve();
    assert_eq!(kept(), secret, "the secret changed across a restart");
    assert_eq!(webhook_status(&second.base, &secret).await, 404);
    let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    assert_eq!(webhook_status(&second.base, other).await, 401);
}
