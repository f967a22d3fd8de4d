//! Invitations (SPEC §7, "users created by an administrator are invited the same way and
//! set their own password"): a user created without `initial_password` is emailed a link
//! with a single-use token; `POST /v1/invitations/{token}/accept` sets their password;
//! `POST /v1/users/{id}/invitation` sends a fresh link and the earlier one stops working;
//! links expire; tokens are stored only hashed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use std::collections::BTreeSet;
use std::time::Duration;

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use staffroom_persistence::invitations::InvitationRow;
use staffroom_persistence::schema::{audit_events, invitations, outbox_jobs};
use staffroom_tests::{Answer, PASSWORD, TestApp, id_of, read_user};

mod deactivated;
mod email_and_accept;
mod expiry;
mod hashed;
mod many;
mod password_set;
mod races;
mod resend;
mod single_use;
mod wrong_tokens;

/// How long the outbox worker may take to deliver a message.
const WITHIN: Duration = Duration::from_secs(10);
/// The password invitees choose.
const CHOSEN: &str = "my own chosen secret";
/// The link every invitation email carries, up to the token.
const LINK: &str = staffroom_tests::INVITATION_LINK;
/// The default lifetime of an invitation link, in seconds (7 days).
const TTL_SECONDS: i64 = 7 * 24 * 60 * 60;

/// A `POST /v1/users` body without `initial_password`.
fn invitee(first: &str, email: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": "Invited",
        "email": email,
        "user_type": "clinical",
    })
}

/// Creates a user without a password (so they are invited) and returns their id.
async fn invite(app: &TestApp, token: &str, first: &str, email: &str) -> String {
    let created = app
        .post(token, "/v1/users", invitee(first, email))
        .await
        .expect(201);
    assert_eq!(created.body["has_password"], false, "{:#}", created.body);
    assert_eq!(created.body["email"], email);
    id_of(&created.body)
}

/// Waits until at least `count` messages to `email` have been sent and returns them all.
async fn mail_to(app: &TestApp, email: &str, count: usize) -> Vec<Value> {
    app.mail_to(email, count).await
}

/// Lets the outbox worker run a little longer, so that an extra message would show.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// The token of the invitation link in a message.
fn token_in(message: &Value) -> String {
    staffroom_tests::invitation_token(message)
}

async fn accept(app: &TestApp, token: &str, password: &str) -> Answer {
    app.accept_invitation(token, password).await
}

async fn resend(app: &TestApp, token: &str, user_id: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("/v1/users/{user_id}/invitation"),
        Some(token),
        None,
    )
    .await
}

async fn login_answer(app: &TestApp, email: &str, password: &str) -> Answer {
    app.login_answer(email, password).await
}

async fn deactivate(app: &TestApp, token: &str, user_id: &str) {
    let answer = app
        .post(token, &format!("/v1/users/{user_id}/deactivate"), json!({}))
        .await
        .expect(200);
    assert_eq!(answer.body["status"], "inactive");
}

/// Every audit event of the query, in one page.
async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let page = app
        .get(token, &format!("/v1/audit-events?{query}&limit=200"))
        .await
        .expect(200);
    assert!(page.body["next_cursor"].is_null());
    page.body["items"].as_array().unwrap().clone()
}

/// The stored invitations of a user, oldest first.
fn invitation_rows(app: &TestApp, user_id: &str) -> Vec<InvitationRow> {
    let mut conn = app.pool.get().unwrap();
    invitations::table
        .filter(invitations::user_id.eq(user_id))
        .order((invitations::created_at.asc(), invitations::id.asc()))
        .select(InvitationRow::as_select())
        .load(&mut conn)
        .unwrap()
}

/// Email jobs ever queued in the outbox about a user.
fn email_jobs(app: &TestApp, user_id: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    outbox_jobs::table
        .filter(outbox_jobs::kind.eq("email.send"))
        .filter(outbox_jobs::subject_id.eq(user_id))
        .count()
        .get_result(&mut conn)
        .unwrap()
}

/// Moves the expiry of every invitation of a user a whole lifetime before its creation.
fn age_invitations(app: &TestApp, user_id: &str) {
    let mut conn = app.pool.get().unwrap();
    for row in invitation_rows(app, user_id) {
        let aged = row.created_at - (row.expires_at - row.created_at);
        let changed = diesel::update(invitations::table.find(&row.id))
            .set(invitations::expires_at.eq(aged))
            .execute(&mut conn)
            .unwrap();
        assert_eq!(changed, 1);
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of a stored instant, the prefix of its RFC 3339 form in the API.
fn seconds_of(at: &impl std::fmt::Display) -> String {
    at.to_string().replace(' ', "T").chars().take(19).collect()
}

/// Field names of a `validation_failed` problem.
fn error_fields(answer: &Answer) -> Vec<String> {
    answer.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {:#}", answer.body))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Asserts the body of a `200` accept or a `201` resend: exactly the invitation's user,
/// email and instants, nothing secret.
fn assert_invitation_view(body: &Value, user_id: &str, email: &str, row: &InvitationRow) {
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body:#}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["user_id", "email", "created_at", "expires_at"]),
        "{body:#}"
    );
    assert_eq!(body["user_id"], user_id, "{body:#}");
    assert_eq!(body["email"], email, "{body:#}");
    let created_at = body["created_at"].as_str().unwrap();
    let expires_at = body["expires_at"].as_str().unwrap();
    assert!(
        created_at.starts_with(&seconds_of(&row.created_at)),
        "{created_at} vs {}",
        row.created_at
    );
    assert!(
        expires_at.starts_with(&seconds_of(&row.expires_at)),
        "{expires_at} vs {}",
        row.expires_at
    );
}
