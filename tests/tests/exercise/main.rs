//! SPEC §6.1, §6.4, §9: the exercise-prescription integration. Connecting the site's clinic,
//! the users list with guessed names, add / deactivate / reactivate and the state machine's
//! refusals, launch links, who may do what, and the outbox behind every provider call: a
//! provider that fails, times out or refuses connections never loses an operation nor gets
//! a user twice, and a permanent refusal moves the state back. What the provider really
//! holds is read from the simulator (`GET /_sim/state`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_api::outbox::{Outbox, Providers, StoredMail};
use staffroom_connectors::http::{HttpConfig, HttpExercise, HttpImaging};
use staffroom_connectors::sim::Faults;
use staffroom_tests::exercise::{connected_site, new_staff, signed_in_staff};
use staffroom_tests::{Answer, Options, TestApp, enc, id_of, send, test_outbox};

const INTEGRATION: &str = "/v1/integrations/exercise";
const USERS: &str = "/v1/integrations/exercise/users";
const LAUNCH: &str = "/v1/me/integrations/exercise/launch";
/// How long anything the outbox does in the background may take on a slow machine.
const WITHIN: Duration = Duration::from_secs(10);

mod access;
mod connection;
mod jobs;
mod lifecycle;
mod reliability;
mod timing;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A site connected to `CLM-100` whose jobs get one attempt, the request's own: no worker
/// runs, and a transient failure gives the job up at once.
async fn one_attempt_site() -> (TestApp, String) {
    let outbox = test_outbox();
    connected_site(
        Options {
            outbox: staffroom_api::outbox::OutboxConfig {
                policy: staffroom_domain::RetryPolicy {
                    max_attempts: Some(1),
                    ..outbox.policy
                },
                ..outbox
            },
            worker: false,
            ..Options::default()
        },
        "CLM-100",
    )
    .await
}

async fn connect(app: &TestApp, token: &str, clm_id: &str) -> Answer {
    app.call(
        Method::PUT,
        INTEGRATION,
        Some(token),
        Some(json!({ "clm_id": clm_id })),
    )
    .await
}

async fn add(app: &TestApp, token: &str, id: &str, first: &str, last: &str) -> Answer {
    app.post(
        token,
        &format!("{USERS}/{id}"),
        json!({ "first_name": first, "last_name": last }),
    )
    .await
}

async fn deactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("{USERS}/{id}/deactivate"),
        Some(token),
        None,
    )
    .await
}

async fn reactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("{USERS}/{id}/reactivate"),
        Some(token),
        None,
    )
    .await
}

async fn rename(app: &TestApp, token: &str, id: &str, first: &str, last: &str) -> Answer {
    app.patch(
        token,
        &format!("{USERS}/{id}"),
        json!({ "first_name": first, "last_name": last }),
    )
    .await
}

/// Opens the caller's launch link; answers the provider's landing page.
async fn launch(app: &TestApp, token: &str) -> Value {
    let link = app.get(token, LAUNCH).await.expect(200).body;
    let url = link["url"].as_str().unwrap();
    TestApp::answer(app.client.get(url).send().await.unwrap())
        .await
        .expect(200)
        .body
}

/// The outbox's create jobs about the user `id`.
async fn create_jobs(app: &TestApp, admin: &str, id: &str) -> Value {
    let path = format!("/v1/outbox-jobs?kind=exercise.create_user&subject_id={id}");
    app.get(admin, &path).await.expect(200).body
}

async fn exercise_user(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(token, &format!("{USERS}/{id}"))
        .await
        .expect(200)
        .body
}

async fn job(app: &TestApp, token: &str, job_id: &str) -> Value {
    app.get(token, &format!("/v1/outbox-jobs/{job_id}"))
        .await
        .expect(200)
        .body
}

/// The users the simulated provider holds for this Staffroom user.
fn sim_users(app: &TestApp, external_id: &str) -> Vec<Value> {
    app.sim_state()["exercise"]["users"]
        .as_array()
        .expect("the simulator lists exercise users")
        .iter()
        .filter(|u| u["external_id"] == external_id)
        .cloned()
        .collect()
}

/// The one user the provider holds for `external_id`; panics on none or duplicates.
#[track_caller]
fn the_sim_user(app: &TestApp, external_id: &str) -> Value {
    let users = sim_users(app, external_id);
    assert_eq!(
        users.len(),
        1,
        "the provider should hold exactly one user for {external_id}: {users:#?}"
    );
    users.into_iter().next().unwrap()
}

fn sim_clinic_ids(app: &TestApp) -> Vec<String> {
    app.sim_state()["exercise"]["clinics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clm_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the user's provider state is `state`; returns the user's view.
async fn until_state(app: &TestApp, token: &str, id: &str, state: &str) -> Value {
    let found = app
        .eventually(WITHIN, || async move {
            let user = exercise_user(app, token, id).await;
            (user["state"] == state).then_some(user)
        })
        .await;
    match found {
        Some(user) => user,
        None => panic!(
            "user {id} did not become {state}: {:#}",
            exercise_user(app, token, id).await
        ),
    }
}

/// Waits until the job is no longer pending; returns it.
async fn until_finished(app: &TestApp, token: &str, job_id: &str) -> Value {
    let found = app
        .eventually(WITHIN, || async move {
            let job = job(app, token, job_id).await;
            (job["status"] != "pending").then_some(job)
        })
        .await;
    found.unwrap_or_else(|| panic!("job {job_id} did not finish"))
}

/// The audit events of one action (newest first).
async fn audit(app: &TestApp, token: &str, action: &str) -> Vec<Value> {
    app.audit_events(token, action).await
}

/// The audit events of one action about one target.
async fn audit_of(app: &TestApp, token: &str, action: &str, target: &str) -> Vec<Value> {
    audit(app, token, action)
        .await
        .into_iter()
        .filter(|e| e["target_id"] == target)
        .collect()
}

/// Notices about the exercise tool kept by the mail sink for `email`.
fn exercise_mail(app: &TestApp, email: &str) -> Vec<Value> {
    app.mail(Some(email))
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or("")
                .contains("exercise-prescription")
        })
        .collect()
}

fn job_id_of(view: &Value) -> String {
    view["job_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no job_id: {view:#}"))
        .to_owned()
}

/// Checks a successful add / reactivate answer.
#[track_caller]
fn assert_active(view: &Value, id: &str, first: &str, last: &str) {
    assert_eq!(view["user_id"], id, "{view:#}");
    assert_eq!(view["state"], "active", "{view:#}");
    assert_eq!(view["first_name"], first, "{view:#}");
    assert_eq!(view["last_name"], last, "{view:#}");
    assert_eq!(view["names_locked"], true, "{view:#}");
    assert!(view["pending_action"].is_null(), "{view:#}");
    assert!(view["last_error"].is_null(), "{view:#}");
}

/// Where an add / deactivate / reactivate left the user once the provider answered.
///
/// A provider that answers at once should give `200` with the new state, but the request
/// and the background worker race for the job the request just wrote, and when the worker
/// wins the answer is `202` although the call is done or nearly
/// (`bug_a_quick_provider_is_always_answered_200`). Until that is fixed, a `202` here waits
/// for the state to settle instead of failing the scenario.
async fn settled(app: &TestApp, token: &str, id: &str, answer: Answer) -> Value {
    match answer.status.as_u16() {
        200 => answer.body,
        202 => {
            assert!(answer.body["job_id"].is_string(), "{:#}", answer.body);
            let found = app
                .eventually(WITHIN, || async move {
                    let user = exercise_user(app, token, id).await;
                    (user["state"] != "pending").then_some(user)
                })
                .await;
            found.unwrap_or_else(|| panic!("user {id} stays pending"))
        }
        other => panic!("unexpected answer {other}: {:#}", answer.body),
    }
}
