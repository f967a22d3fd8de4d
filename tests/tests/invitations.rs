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

/// How long the outbox worker may take to deliver a message.
const WITHIN: Duration = Duration::from_secs(10);
/// The password invitees choose.
const CHOSEN: &str = "my own chosen secret";
/// The link every invitation email carries, up to the token.
const LINK: &str = "/accept-invitation?token=";
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
    app.eventually(WITHIN, || async {
        let mail = app.mail(Some(email));
        (mail.len() >= count).then_some(mail)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "{count} message(s) to {email} not sent within {WITHIN:?}; sink holds {:#?}",
            app.mail(None)
        )
    })
}

/// Lets the outbox worker run a little longer, so that an extra message would show.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// The token of the invitation link in a message.
fn token_in(message: &Value) -> String {
    let body = message["body"].as_str().unwrap();
    let (_, rest) = body
        .split_once(LINK)
        .unwrap_or_else(|| panic!("no invitation link in {body:?}"));
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 32, "a short token {token:?} in {body:?}");
    token
}

async fn accept(app: &TestApp, token: &str, password: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("/v1/invitations/{token}/accept"),
        None,
        Some(json!({ "password": password })),
    )
    .await
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
    app.call(
        Method::POST,
        "/v1/auth/login",
        None,
        Some(json!({ "email": email, "password": password })),
    )
    .await
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

// ---------------------------------------------------------------------------------------
// 1. The invitation email, acceptance, login, audit
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_user_created_without_a_password_is_invited_and_sets_their_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "ivy.invited@example.test";
    let id = invite(&app, &admin, "Ivy", email).await;

    // Exactly one message, to them, with the link and their first name.
    let mail = mail_to(&app, email, 1).await;
    settle().await;
    let mail_now = app.mail(Some(email));
    assert_eq!(mail_now.len(), 1, "{mail_now:#?}");
    assert_eq!(email_jobs(&app, &id), 1);
    let message = &mail[0];
    assert_eq!(message["to"], email, "{message:#}");
    assert_eq!(message["subject"], "You are invited to Staffroom");
    assert!(message["sent_at"].is_string(), "{message:#}");
    let body = message["body"].as_str().unwrap();
    assert!(body.contains("Hello Ivy,"), "{body}");
    let link = body
        .lines()
        .map(str::trim)
        .find(|line| line.contains(LINK))
        .unwrap_or_else(|| panic!("no link in {body}"));
    assert!(link.starts_with("http"), "{link}");
    let token = token_in(message);
    assert!(link.ends_with(&format!("{LINK}{token}")), "{link}");

    // The stored invitation: one, live, 7 days long, and the email names its expiry.
    let rows = invitation_rows(&app, &id);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row.email, email);
    assert_eq!(row.site_id, app.site.site_id);
    assert!(row.accepted_at.is_none() && row.superseded_at.is_none());
    let lifetime = (row.expires_at - row.created_at).num_seconds();
    assert!(
        (TTL_SECONDS - 60..=TTL_SECONDS).contains(&lifetime),
        "an invitation lives {lifetime} s"
    );
    let until = row.expires_at.format("%Y-%m-%d %H:%M").to_string();
    assert!(body.contains(&until), "{body} does not name {until}");

    // Until they accept, they have no password and cannot log in.
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], false);
    login_answer(&app, email, CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");
    login_answer(&app, email, PASSWORD)
        .await
        .expect_problem(401, "invalid_credentials");

    // Accepting needs no credentials and answers the invitation.
    let accepted = accept(&app, &token, CHOSEN).await.expect(200);
    let row = &invitation_rows(&app, &id)[0];
    assert!(row.accepted_at.is_some(), "{row:#?}");
    assert_invitation_view(&accepted.body, &id, email, row);

    let user = read_user(&app, &admin, &id).await;
    assert_eq!(user["has_password"], true, "{user:#}");
    assert_eq!(user["status"], "active");
    let user_token = app.login(email, CHOSEN).await;
    let me = app.get(&user_token, &format!("/v1/users/{id}")).await;
    assert_eq!(me.status.as_u16(), 200, "{:#}", me.body);

    // One audit event for the invitation (by the admin) and one for the acceptance (by the
    // user themself).
    let invited = events(&app, &admin, "action=user.invited").await;
    assert_eq!(invited.len(), 1, "{invited:#?}");
    assert_eq!(invited[0]["target_type"], "user");
    assert_eq!(invited[0]["target_id"], id.as_str());
    assert_eq!(invited[0]["actor_kind"], "user");
    assert_eq!(invited[0]["actor_id"], app.site.admin_id.to_string());
    assert_eq!(invited[0]["after"]["email"], email);
    assert_eq!(invited[0]["after"]["invitation_id"], row.id.to_string());

    let accepted_events = events(&app, &admin, "action=user.invitation_accepted").await;
    assert_eq!(accepted_events.len(), 1, "{accepted_events:#?}");
    let event = &accepted_events[0];
    assert_eq!(event["target_type"], "user");
    assert_eq!(event["target_id"], id.as_str());
    assert_eq!(event["actor_kind"], "user");
    assert_eq!(event["actor_id"], id.as_str());
    assert_eq!(event["after"]["invitation_id"], row.id.to_string());

    // Accepting sends nothing more.
    settle().await;
    assert_eq!(app.mail(Some(email)).len(), 1);
}

// ---------------------------------------------------------------------------------------
// 2. No invitation when the administrator sets the password
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_user_created_with_an_initial_password_gets_no_invitation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "paula.password@example.test";
    let created = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "Paula",
                "last_name": "Password",
                "email": email,
                "user_type": "clinical",
                "initial_password": PASSWORD,
            }),
        )
        .await
        .expect(201);
    let id = id_of(&created.body);
    assert_eq!(created.body["has_password"], true, "{:#}", created.body);

    // A user invited afterwards is mailed; by then Paula's message would have gone too.
    let control = "carl.control@example.test";
    let control_id = invite(&app, &admin, "Carl", control).await;
    mail_to(&app, control, 1).await;
    settle().await;

    assert!(app.mail(Some(email)).is_empty(), "{:#?}", app.mail(None));
    assert_eq!(email_jobs(&app, &id), 0);
    assert!(invitation_rows(&app, &id).is_empty());
    assert_eq!(email_jobs(&app, &control_id), 1);
    let invited = events(&app, &admin, "action=user.invited").await;
    assert_eq!(invited.len(), 1, "{invited:#?}");
    assert_eq!(invited[0]["target_id"], control_id.as_str());

    // She logs in with the password she was given; resending is refused.
    app.login(email, PASSWORD).await;
    resend(&app, &admin, &id)
        .await
        .expect_problem(409, "password_already_set");
}

// ---------------------------------------------------------------------------------------
// 3. Single use
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_works_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "otto.once@example.test";
    let id = invite(&app, &admin, "Otto", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);

    accept(&app, &token, CHOSEN).await.expect(200);
    let again = "a different password";
    accept(&app, &token, again)
        .await
        .expect_problem(404, "not_found");
    accept(&app, &token, CHOSEN)
        .await
        .expect_problem(404, "not_found");

    // The first password stands.
    app.login(email, CHOSEN).await;
    login_answer(&app, email, again)
        .await
        .expect_problem(401, "invalid_credentials");
    let accepted = events(&app, &admin, "action=user.invitation_accepted").await;
    assert_eq!(accepted.len(), 1, "{accepted:#?}");
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], true);
}

// ---------------------------------------------------------------------------------------
// 4. Wrong tokens and bad passwords
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_token_is_not_found_and_a_bad_password_leaves_the_token_usable() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "wanda.wrong@example.test";
    let id = invite(&app, &admin, "Wanda", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);

    // Tokens that were never issued: made up, one character off, and the stored digest.
    let last = token.chars().last().unwrap();
    let off_by_one = format!(
        "{}{}",
        &token[..token.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    let digest = invitation_rows(&app, &id)[0].token_hash.clone();
    for wrong in ["not-a-real-token", off_by_one.as_str(), digest.as_str()] {
        accept(&app, wrong, CHOSEN)
            .await
            .expect_problem(404, "not_found");
    }

    // A password that is too short: 422 naming `password`; nothing is used up.
    let short = accept(&app, &token, "short")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(error_fields(&short), vec!["password".to_owned()]);
    assert_eq!(
        short.body["errors"][0]["code"], "too_short",
        "{:#}",
        short.body
    );
    let seven = accept(&app, &token, "1234567")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(error_fields(&seven), vec!["password".to_owned()]);
    let missing = app
        .call(
            Method::POST,
            &format!("/v1/invitations/{token}/accept"),
            None,
            Some(json!({})),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(error_fields(&missing), vec!["password".to_owned()]);

    let row = &invitation_rows(&app, &id)[0];
    assert!(row.accepted_at.is_none(), "{row:#?}");
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], false);
    assert!(
        events(&app, &admin, "action=user.invitation_accepted")
            .await
            .is_empty()
    );

    // The token still works, with the shortest password the `Password` schema allows (8).
    let eight = "12345678";
    accept(&app, &token, eight).await.expect(200);
    app.login(email, eight).await;
}

// ---------------------------------------------------------------------------------------
// 5. Resend
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn resending_replaces_the_link_and_is_refused_when_it_cannot_help() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "rita.resend@example.test";
    let id = invite(&app, &admin, "Rita", email).await;
    let bystander = "bob.bystander@example.test";
    let bystander_id = invite(&app, &admin, "Bob", bystander).await;
    let first = token_in(&mail_to(&app, email, 1).await[0]);
    let bystander_token = token_in(&mail_to(&app, bystander, 1).await[0]);

    // A fresh invitation: 201, a second message with a different token.
    let resent = resend(&app, &admin, &id).await.expect(201);
    let mail = mail_to(&app, email, 2).await;
    settle().await;
    assert_eq!(app.mail(Some(email)).len(), 2);
    assert_eq!(mail[1]["subject"], "You are invited to Staffroom");
    assert!(
        mail[1]["body"].as_str().unwrap().contains("Hello Rita,"),
        "{:#}",
        mail[1]
    );
    let second = token_in(&mail[1]);
    assert_ne!(first, second);
    assert_eq!(email_jobs(&app, &id), 2);

    let rows = invitation_rows(&app, &id);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows[0].superseded_at.is_some(), "{rows:#?}");
    assert!(rows[1].superseded_at.is_none(), "{rows:#?}");
    assert_invitation_view(&resent.body, &id, email, &rows[1]);
    let invited = events(&app, &admin, &format!("action=user.invited&target_id={id}")).await;
    assert_eq!(invited.len(), 2, "{invited:#?}");

    // The earlier link stops working; the new one works.
    accept(&app, &first, CHOSEN)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], false);
    accept(&app, &second, CHOSEN).await.expect(200);
    app.login(email, CHOSEN).await;

    // Now that she has a password there is nothing to resend.
    resend(&app, &admin, &id)
        .await
        .expect_problem(409, "password_already_set");

    // Another user's invitation is untouched by all of this.
    accept(&app, &bystander_token, CHOSEN).await.expect(200);
    app.login(bystander, CHOSEN).await;
    assert_eq!(invitation_rows(&app, &bystander_id).len(), 1);

    // A deactivated user is not invited again.
    let sleeper = "sam.sleeper@example.test";
    let sleeper_id = invite(&app, &admin, "Sam", sleeper).await;
    mail_to(&app, sleeper, 1).await;
    deactivate(&app, &admin, &sleeper_id).await;
    resend(&app, &admin, &sleeper_id)
        .await
        .expect_problem(409, "user_inactive");

    // Only administrators resend, only in their site, only with credentials.
    let pending = "pat.pending@example.test";
    let pending_id = invite(&app, &admin, "Pat", pending).await;
    mail_to(&app, pending, 1).await;
    let plain_email = "nora.nonadmin@example.test";
    app.create_user(
        &admin,
        json!({
            "first_name": "Nora",
            "last_name": "Plain",
            "email": plain_email,
            "user_type": "clinical",
        }),
    )
    .await;
    let plain = app.login(plain_email, PASSWORD).await;
    resend(&app, &plain, &pending_id)
        .await
        .expect_problem(403, "forbidden");
    let anonymous = app
        .call(
            Method::POST,
            &format!("/v1/users/{pending_id}/invitation"),
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status.as_u16(), 401, "{:#}", anonymous.body);

    app.other_site("Elsewhere", "boss@elsewhere.test");
    let boss = app.login("boss@elsewhere.test", PASSWORD).await;
    let foreign = "fay.foreign@elsewhere.test";
    let foreign_id = invite(&app, &boss, "Fay", foreign).await;
    mail_to(&app, foreign, 1).await;
    resend(&app, &admin, &foreign_id)
        .await
        .expect_problem(404, "not_found");
    resend(&app, &boss, &pending_id)
        .await
        .expect_problem(404, "not_found");
    resend(&app, &admin, "00000000-0000-7000-8000-000000000000")
        .await
        .expect_problem(404, "not_found");

    // None of the refusals wrote an invitation or queued a message.
    settle().await;
    assert_eq!(email_jobs(&app, &id), 2);
    assert_eq!(email_jobs(&app, &sleeper_id), 1);
    assert_eq!(email_jobs(&app, &pending_id), 1);
    assert_eq!(email_jobs(&app, &foreign_id), 1);
    assert_eq!(invitation_rows(&app, &sleeper_id).len(), 1);
    assert_eq!(invitation_rows(&app, &pending_id).len(), 1);
    assert_eq!(invitation_rows(&app, &foreign_id).len(), 1);
    assert_eq!(app.mail(Some(sleeper)).len(), 1);
    assert_eq!(app.mail(Some(pending)).len(), 1);
    assert_eq!(app.mail(Some(foreign)).len(), 1);
}

// ---------------------------------------------------------------------------------------
// 6. Expiry
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_expired_link_is_gone_and_a_resend_gives_a_working_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "ezra.expired@example.test";
    let id = invite(&app, &admin, "Ezra", email).await;
    let old = token_in(&mail_to(&app, email, 1).await[0]);

    age_invitations(&app, &id);
    accept(&app, &old, CHOSEN)
        .await
        .expect_problem(410, "invitation_expired");
    // Still expired, not used up, and no password was set.
    accept(&app, &old, CHOSEN)
        .await
        .expect_problem(410, "invitation_expired");
    assert!(invitation_rows(&app, &id)[0].accepted_at.is_none());
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], false);
    login_answer(&app, email, CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");
    assert!(
        events(&app, &admin, "action=user.invitation_accepted")
            .await
            .is_empty()
    );

    // A resend gives a fresh, full-length link; the expired one is now superseded.
    let resent = resend(&app, &admin, &id).await.expect(201);
    let rows = invitation_rows(&app, &id);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_invitation_view(&resent.body, &id, email, &rows[1]);
    let lifetime = (rows[1].expires_at - rows[1].created_at).num_seconds();
    assert!(
        (TTL_SECONDS - 60..=TTL_SECONDS).contains(&lifetime),
        "a resent invitation lives {lifetime} s"
    );
    let new = token_in(&mail_to(&app, email, 2).await[1]);
    assert_ne!(old, new);
    accept(&app, &old, CHOSEN)
        .await
        .expect_problem(404, "not_found");
    accept(&app, &new, CHOSEN).await.expect(200);
    app.login(email, CHOSEN).await;
}

// ---------------------------------------------------------------------------------------
// 7. Tokens are stored hashed
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_are_stored_only_as_digests() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "hana.hashed@example.test";
    let id = invite(&app, &admin, "Hana", email).await;
    mail_to(&app, email, 1).await;
    resend(&app, &admin, &id).await.expect(201);
    let mail = mail_to(&app, email, 2).await;
    let tokens: Vec<String> = mail.iter().map(token_in).collect();
    assert_ne!(tokens[0], tokens[1]);

    let rows = invitation_rows(&app, &id);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for (row, token) in rows.iter().zip(&tokens) {
        assert_ne!(&row.token_hash, token);
        for t in &tokens {
            assert!(!row.token_hash.contains(t.as_str()), "{row:#?}");
        }
        assert_eq!(row.token_hash.len(), 64, "{row:#?}");
        assert!(
            row.token_hash
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{row:#?}"
        );
        // SHA-256 of the emailed token, as the server computes it.
        assert_eq!(
            row.token_hash,
            staffroom_api::auth::password::digest(token),
            "{row:#?}"
        );
    }

    // Neither the audit trail nor any answer carries a token.
    accept(&app, &tokens[1], CHOSEN).await.expect(200);
    let mut conn = app.pool.get().unwrap();
    let states: Vec<(Option<String>, Option<String>)> = audit_events::table
        .select((audit_events::before_state, audit_events::after_state))
        .load(&mut conn)
        .unwrap();
    for state in states {
        let text = format!("{state:?}");
        for token in &tokens {
            assert!(
                !text.contains(token.as_str()),
                "a token in the audit: {text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 8. Racing accepts
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn racing_accepts_of_one_token_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "rory.race@example.test";
    let id = invite(&app, &admin, "Rory", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);

    let passwords: Vec<String> = (0..8).map(|i| format!("racing password {i}")).collect();
    let answers =
        futures_util::future::join_all(passwords.iter().map(|p| accept(&app, &token, p))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    let winners: Vec<usize> = (0..answers.len()).filter(|&i| statuses[i] == 200).collect();
    assert_eq!(winners.len(), 1, "statuses {statuses:?}: {answers:#?}");
    for (i, answer) in answers.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(statuses[i], 404, "{:#}", answer.body);
            assert_eq!(answer.code(), "not_found", "{:#}", answer.body);
        }
    }
    let winner = winners[0];
    assert_eq!(answers[winner].body["user_id"], id.as_str());

    // The winner's password is the one that took.
    app.login(email, &passwords[winner]).await;
    let loser = (winner + 1) % passwords.len();
    login_answer(&app, email, &passwords[loser])
        .await
        .expect_problem(401, "invalid_credentials");
    let accepted = events(&app, &admin, "action=user.invitation_accepted").await;
    assert_eq!(accepted.len(), 1, "{accepted:#?}");
}

// ---------------------------------------------------------------------------------------
// Deactivated invitees
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_deactivated_user_cannot_accept_their_invitation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "dina.deactivated@example.test";
    let id = invite(&app, &admin, "Dina", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);
    deactivate(&app, &admin, &id).await;

    accept(&app, &token, CHOSEN)
        .await
        .expect_problem(409, "user_inactive");
    let user = read_user(&app, &admin, &id).await;
    assert_eq!(user["has_password"], false, "{user:#}");
    assert!(invitation_rows(&app, &id)[0].accepted_at.is_none());
    login_answer(&app, email, CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");
    assert!(
        events(&app, &admin, "action=user.invitation_accepted")
            .await
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// Plaintext copies of the token
// ---------------------------------------------------------------------------------------

/// SPEC §7: invitation tokens are stored hashed. The email has to carry the raw token, but
/// once the outbox has handed it to the email sink the server's own tables should not keep a
/// usable copy for the link's whole lifetime.
#[tokio::test]
async fn the_outbox_keeps_no_usable_token_after_sending() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "olly.outbox@example.test";
    let id = invite(&app, &admin, "Olly", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);
    let jobs = app
        .eventually(WITHIN, || async {
            let mut conn = app.pool.get().unwrap();
            let jobs: Vec<(String, String)> = outbox_jobs::table
                .filter(outbox_jobs::subject_id.eq(&id))
                .select((outbox_jobs::status, outbox_jobs::payload))
                .load(&mut conn)
                .unwrap();
            jobs.iter()
                .all(|(status, _)| status == "succeeded")
                .then_some(jobs)
        })
        .await
        .expect("the invitation job succeeds");
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    for (_, payload) in &jobs {
        assert!(
            !payload.contains(token.as_str()),
            "a delivered job still holds the token: {payload}"
        );
    }
    // The token is usable, so the stored copy matters.
    accept(&app, &token, CHOSEN).await.expect(200);
}

// ---------------------------------------------------------------------------------------
// Many invitations at once
// ---------------------------------------------------------------------------------------

/// Every email job of the site, through `GET /v1/outbox-jobs`, all pages.
async fn mail_jobs(app: &TestApp, token: &str) -> Vec<Value> {
    let mut jobs = Vec::new();
    let mut path = "/v1/outbox-jobs?kind=email.send&limit=200".to_owned();
    loop {
        let page = app.get(token, &path).await.expect(200).body;
        jobs.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/outbox-jobs?kind=email.send&limit=200&cursor={cursor}");
            }
            None => return jobs,
        }
    }
}

/// 500 users invited at the same moment: their mail jobs run side by side (in the requests
/// and in the worker), each storing its message in the database sink. Every write
/// transaction is a writer from its start, so none fails on the way from reading to
/// writing (`database is locked` on SQLite) and every message is stored on its job's
/// first attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_invitations_at_once_are_each_mailed_on_the_first_attempt() {
    const INVITED: usize = 500;
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created: Vec<Answer> = futures_util::future::join_all((0..INVITED).map(|n| {
        let admin = &admin;
        let app = &app;
        async move {
            // Non-clinical users need no licence on the group plan.
            let body = json!({
                "first_name": "Many",
                "last_name": "Invited",
                "email": format!("many.{n}@example.test"),
                "user_type": "non_clinical",
            });
            app.post(admin, "/v1/users", body).await
        }
    }))
    .await;
    for answer in &created {
        assert_eq!(answer.status.as_u16(), 201, "{:#}", answer.body);
        assert_eq!(answer.body["has_password"], false, "{:#}", answer.body);
    }

    let finished = app
        .eventually(Duration::from_secs(120), || async {
            let jobs = mail_jobs(&app, &admin).await;
            (jobs.len() == INVITED && jobs.iter().all(|j| j["status"] != "pending")).then_some(jobs)
        })
        .await
        .expect("every mail job finishes");
    let retried: Vec<&Value> = finished
        .iter()
        .filter(|j| j["status"] != "succeeded" || j["attempts"] != 1)
        .collect();
    assert!(
        retried.is_empty(),
        "{} of {INVITED} mail jobs needed more than one attempt or failed: {retried:#?}",
        retried.len()
    );
    let mail = app.mail(None);
    assert_eq!(mail.len(), INVITED);
    let recipients: BTreeSet<&str> = mail.iter().filter_map(|m| m["to"].as_str()).collect();
    let expected: Vec<String> = (0..INVITED)
        .map(|n| format!("many.{n}@example.test"))
        .collect();
    assert_eq!(
        recipients,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
}
