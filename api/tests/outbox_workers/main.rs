#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The outbox worked by real processes (SPEC §9 "Outbound reliability"): several `staffroom
//! serve` processes on one database (PostgreSQL when `STAFFROOM_TEST_DATABASE_URL` is set,
//! a shared SQLite file otherwise) against one provider simulator running in this test
//! process, a `staffroom worker` alone finishing what a worker-less `serve` left pending,
//! and `staffroom mail list` reading the notices the embedded email sink kept.
//!
//! Every process is killed when its handle drops, and every wait has a deadline.

#[path = "../support/mod.rs"]
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

mod http;
mod proxy;
use http::*;
use proxy::*;
mod two_processes;
mod worker_alone;

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
