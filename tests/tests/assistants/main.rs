//! A clinician's assistants (SPEC §7, seed 002): the clinician invites, resends, revokes
//! and deletes (`/v1/me/assistants`); the assistant accepts the emailed link, logs in with
//! a token of kind `assistant`, sees whom they assist and acts on a clinician's behalf
//! (`POST /v1/clinicians/{id}/patient-messages`), and is refused every administrative
//! operation. Every link is read from the mail the server sent (`staffroom mail list`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::fixtures::staff;
use staffroom_tests::{Answer, PASSWORD, TestApp, id_of, invitation_token, takes_bearer};

mod lifecycle;
mod matrix;
mod on_behalf;
mod principal;
mod revocation;

/// The password assistants choose.
const CHOSEN: &str = "assistant's own secret";

/// A clinician (an active clinical user) created by the admin: their id and token.
async fn clinician(app: &TestApp, admin: &str, email: &str) -> (String, String) {
    let id = staff(app, admin, email).create().await;
    (id, app.login(email, PASSWORD).await)
}

async fn invite(app: &TestApp, token: &str, full_name: &str, email: &str) -> Answer {
    app.post(
        token,
        "/v1/me/assistants",
        json!({ "full_name": full_name, "email": email }),
    )
    .await
}

/// Invites `email` (expecting `201`) and returns the record's id.
async fn invited(app: &TestApp, token: &str, full_name: &str, email: &str) -> String {
    let answer = invite(app, token, full_name, email).await.expect(201);
    assert_eq!(answer.body["status"], "pending", "{:#}", answer.body);
    id_of(&answer.body)
}

/// The token of the `n`-th (1-based) invitation sent to `email`, read from the mail.
async fn link(app: &TestApp, email: &str, n: usize) -> String {
    invitation_token(&app.mail_to(email, n).await[n - 1])
}

async fn accept(app: &TestApp, token: &str, password: &str) -> Answer {
    app.accept_invitation(token, password).await
}

async fn login_answer(app: &TestApp, email: &str, password: &str) -> Answer {
    app.login_answer(email, password).await
}

/// Invites `email` as `clinician`'s assistant, accepts the mailed link (the `n`-th to that
/// email) and logs in: the record's id and the assistant's token.
async fn onboard(app: &TestApp, clinician: &str, email: &str, n: usize) -> (String, String) {
    let id = invited(app, clinician, "Ada Assistant", email).await;
    accept(app, &link(app, email, n).await, CHOSEN)
        .await
        .expect(200);
    (id, app.login(email, CHOSEN).await)
}

async fn action(app: &TestApp, token: &str, id: &str, verb: &str) -> Answer {
    app.post(token, &format!("/v1/me/assistants/{id}/{verb}"), json!({}))
        .await
}

async fn message(app: &TestApp, token: &str, clinician: &str) -> Answer {
    app.post(
        token,
        &format!("/v1/clinicians/{clinician}/patient-messages"),
        json!({
            "to": "patient@example.test",
            "subject": "Before your visit",
            "body": "Please bring your scans.\nSee you on Monday.",
        }),
    )
    .await
}

/// The caller's assistants, in one page.
async fn my_assistants(app: &TestApp, token: &str) -> Vec<Value> {
    let page = app.get(token, "/v1/me/assistants").await.expect(200);
    assert!(page.body["next_cursor"].is_null());
    page.body["items"].as_array().unwrap().clone()
}

/// The ids of the clinicians the assistant lists.
async fn my_clinicians(app: &TestApp, token: &str) -> Vec<String> {
    let page = app.get(token, "/v1/me/clinicians").await.expect(200);
    page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}
