//! The `provider-sim` binary as docker-compose runs it: it prints where it listens, serves
//! the providers and its control endpoints there, enforces `--api-key`, starts launch links
//! with `--public-url`, refuses a bad `--listen`, `--public-url` or `--webhook-secret` with exit code 2, and
//! stops cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The process, killed if a test fails before it stops it.
struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn provider_sim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_provider-sim"));
    cmd.env_remove("PROVIDER_SIM_LISTEN")
        .env_remove("PROVIDER_SIM_API_KEY")
        .env_remove("PROVIDER_SIM_PUBLIC_URL")
        .env("RUST_LOG", "warn");
    cmd
}

async fn sim_state(http: &reqwest::Client, base: &str) -> Value {
    let answer = http.get(format!("{base}/_sim/state")).send().await.unwrap();
    answer.json().await.unwrap()
}

/// Starts the binary with `args` and returns it with the address its first line names.
fn start(args: &[&str]) -> (Sim, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut child = provider_sim()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let sim = Sim(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("provider-sim listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    (sim, base)
}

#[tokio::test]
async fn the_binary_serves_the_providers_where_it_says_and_stops_on_sigterm() {
    let (mut sim, base) = start(&["--listen", "127.0.0.1:0", "--api-key", "compose-key"]);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let http = reqwest::Client::new();
    let state = sim_state(&http, &base).await;
    assert_eq!(state["exercise"]["users"], json!([]), "{state:#}");
    assert_eq!(state["email"]["messages"], json!([]), "{state:#}");

    let user = json!({"first_name": "Ada", "last_name": "Sim", "external_id": "u-1"});
    let path = format!("{base}/exercise/v1/clinics/CLM-9/users");
    let wrong = http
        .post(&path)
        .bearer_auth("another-key")
        .header("Idempotency-Key", "bin-1")
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let created = http
        .post(&path)
        .bearer_auth("compose-key")
        .header("Idempotency-Key", "bin-1")
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let state = sim_state(&http, &base).await;
    assert_eq!(state["exercise"]["users"][0]["external_id"], "u-1");

    let pid = sim.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = sim.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_bad_listen_address_exits_with_code_2() {
    let out = provider_sim()
        .args(["--listen", "not an address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--listen"), "{stderr}");
}

/// A provider call with any key, and the JSON it answers.
async fn post(http: &reqwest::Client, url: &str, idempotency_key: &str, body: Value) -> Value {
    let answer = http
        .post(url)
        .bearer_auth("any-key")
        .header("Idempotency-Key", idempotency_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    answer.json().await.unwrap()
}

#[tokio::test]
async fn launch_links_start_with_the_public_url() {
    let public = "http://localhost:19090";
    let (_sim, base) = start(&["--listen", "127.0.0.1:0", "--public-url", public]);
    let http = reqwest::Client::new();
    let clinic = format!("{base}/exercise/v1/clinics/CLM-5/users");
    let created = post(
        &http,
        &clinic,
        "public-1",
        json!({"first_name": "Lin", "last_name": "Pub", "external_id": "u-9"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let launch = post(
        &http,
        &format!("{clinic}/{id}/launch"),
        "public-2",
        json!({}),
    )
    .await;
    let url = launch["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{public}/exercise/launch/")),
        "{url}"
    );
    // The link works where the simulator really listens.
    let path = url.strip_prefix(public).unwrap();
    let landed = http.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(landed.status(), 200);
}

#[test]
fn a_public_url_that_is_not_http_exits_with_code_2() {
    let out = provider_sim()
        .args(["--listen", "127.0.0.1:0", "--public-url", "localhost:9090"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--public-url"), "{stderr}");
}

#[test]
fn a_webhook_secret_that_is_not_whsec_base64_exits_with_code_2() {
    for secret in ["c2VjcmV0", "whsec_not base64!"] {
        let out = provider_sim()
            .args(["--listen", "127.0.0.1:0", "--webhook-secret", secret])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--webhook-secret"), "{stderr}");
    }
}
