//! `Idempotency-Key` on POST: retries return the first answer and act once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use staffroom_persistence::schema::idempotency_keys;
use staffroom_tests::{Answer, TestApp};

async fn post_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> Answer {
    post_to_with_key(app, "/v1/users", token, key, body).await
}

async fn post_to_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Answer {
    let response = app
        .client
        .request(Method::POST, app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    TestApp::answer(response).await
}

fn user(email: &str) -> Value {
    json!({"first_name": "Ida", "last_name": "Retry", "email": email, "user_type": "clinical"})
}

#[tokio::test]
async fn a_retry_returns_the_first_answer_and_creates_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = user("ida@example.test");
    let first = post_with_key(&app, &token, "key-1", &body)
        .await
        .expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post_with_key(&app, &token, "key-1", &body)
        .await
        .expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("location"), first.header("location"));
    let listed = app
        .get(&token, "/v1/users?q=ida%40example")
        .await
        .expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    post_with_key(&app, &token, "key-2", &user("a@example.test"))
        .await
        .expect(201);
    post_with_key(&app, &token, "key-2", &user("b@example.test"))
        .await
        .expect_problem(422, "idempotency_key_reused");
}

#[tokio::test]
async fn a_refused_request_can_be_corrected_and_retried_with_its_key() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bad = json!({"first_name": "", "last_name": "X", "email": "x@example.test", "user_type": "clinical"});
    post_with_key(&app, &token, "key-3", &bad)
        .await
        .expect_problem(422, "validation_failed");
    post_with_key(&app, &token, "key-3", &bad)
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn keys_are_scoped_to_the_principal() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.create_user(
        &token,
        json!({"first_name": "Sec", "last_name": "Ond", "email": "second@example.test",
               "user_type": "non_clinical", "permissions": ["site_admin"]}),
    )
    .await;
    let other = app
        .login("second@example.test", staffroom_tests::PASSWORD)
        .await;
    post_with_key(&app, &token, "shared", &user("one@example.test"))
        .await
        .expect(201);
    let theirs = post_with_key(&app, &other, "shared", &user("two@example.test"))
        .await
        .expect(201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
}

#[tokio::test]
async fn concurrent_retries_never_act_twice() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = user("race@example.test");
    let answers = futures_util::future::join_all(
        (0..8).map(|_| post_with_key(&app, &token, "race-key", &body)),
    )
    .await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert!(created >= 1);
    for a in &answers {
        assert!(
            a.status == 201 || (a.status == 409 && a.code() == "idempotency_key_in_use"),
            "unexpected {}: {}",
            a.status,
            a.body
        );
    }
    let ids: std::collections::HashSet<_> = answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.body["id"].clone())
        .collect();
    assert_eq!(ids.len(), 1, "every success is the same user");
}

#[tokio::test]
async fn an_invalid_key_names_the_header() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let long = "k".repeat(256);
    let answer = post_with_key(&app, &token, &long, &user("k@example.test"))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(answer.body["errors"][0]["field"], "Idempotency-Key");
}

/// The text columns of an idempotency row: scope, key, request hash, headers, body.
type StoredRow = (String, String, String, Option<String>, Option<String>);

/// Every stored idempotency row as the text of its columns.
fn idempotency_rows(app: &TestApp) -> Vec<String> {
    let mut conn = app.pool.get().unwrap();
    let rows: Vec<StoredRow> = idempotency_keys::table
        .select((
            idempotency_keys::scope,
            idempotency_keys::idem_key,
            idempotency_keys::request_hash,
            idempotency_keys::response_headers,
            idempotency_keys::response_body,
        ))
        .load(&mut conn)
        .unwrap();
    rows.into_iter()
        .map(|(scope, key, hash, headers, body)| {
            format!(
                "{scope}|{key}|{hash}|{}|{}",
                headers.unwrap_or_default(),
                body.unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_service_account_secret_is_never_stored_and_a_retry_replays_the_account_without_it() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = json!({"name": "Provisioning", "permissions": []});
    let first = post_to_with_key(&app, "/v1/service-accounts", &token, "sa-1", &body)
        .await
        .expect(201);
    let secret = first.body["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32, "a real secret: {secret}");
    assert_eq!(first.header("secret-withheld"), None);

    let rows = idempotency_rows(&app);
    assert_eq!(rows.len(), 1, "the answer is stored for replay: {rows:?}");
    assert!(
        rows.iter().all(|row| !row.contains(&secret)),
        "the stored answer holds the secret: {rows:?}"
    );
    assert!(rows[0].contains(first.body["client_id"].as_str().unwrap()));

    let again = post_to_with_key(&app, "/v1/service-accounts", &token, "sa-1", &body)
        .await
        .expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("secret-withheld"), Some("client_secret"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.body["client_secret"], Value::Null);
    let mut without_secret = first.body.clone();
    without_secret["client_secret"] = Value::Null;
    assert_eq!(again.body, without_secret);

    let listed = app.get(&token, "/v1/service-accounts").await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let client_id = first.body["client_id"].as_str().unwrap();
    let exchanged = app.exchange(client_id, &secret).await;
    exchanged.expect(200);
}

/// `POST path` with the key and no bearer token: a sign-in, whose body holds credentials.
async fn sign_in_with_key(app: &TestApp, path: &str, key: &str, body: &Value) -> Answer {
    let response = app
        .client
        .request(Method::POST, app.url(path))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    TestApp::answer(response).await
}

/// A first sign-in answers its token; the retry with the same key replays that answer
/// without it, the stored row holds no token nor credential, and a wrong secret with the
/// same key is refused rather than replayed.
async fn check_sign_in_replay(app: &TestApp, path: &str, body: Value, wrong: Value) {
    let first = sign_in_with_key(app, path, "sign-in-1", &body)
        .await
        .expect(200);
    let token = first.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(first.header("secret-withheld"), None);
    let rows = idempotency_rows(app);
    assert_eq!(rows.len(), 1, "the answer is stored for replay: {rows:?}");
    let credential = body
        .get("password")
        .or_else(|| body.get("client_secret"))
        .and_then(Value::as_str)
        .unwrap();
    assert!(
        rows.iter()
            .all(|row| !row.contains(&token) && !row.contains(credential)),
        "the stored answer holds a secret: {rows:?}"
    );

    let again = sign_in_with_key(app, path, "sign-in-1", &body)
        .await
        .expect(200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("secret-withheld"), Some("access_token"));
    let mut without_token = first.body.clone();
    without_token["access_token"] = Value::Null;
    assert_eq!(again.body, without_token);

    sign_in_with_key(app, path, "sign-in-1", &wrong)
        .await
        .expect_problem(401, "invalid_credentials");
    // The token of the first answer works: the replay revoked nothing.
    app.get(&token, "/v1/me").await.expect(200);
}

#[tokio::test]
async fn a_login_is_replayed_without_its_token_and_only_to_its_password() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "admin@example.test", "password": staffroom_tests::PASSWORD});
    let wrong = json!({"email": "admin@example.test", "password": "not the password"});
    check_sign_in_replay(&app, "/v1/auth/login", body, wrong).await;
}

#[tokio::test]
async fn a_token_request_is_replayed_without_its_token_and_only_to_its_secret() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app.create_service_account(&admin, json!([])).await;
    // Only the token request's answer is under test: start from an empty store.
    diesel::delete(idempotency_keys::table)
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let body = |secret: &str| {
        json!({
            "grant_type": "client_credentials",
            "client_id": created.body["client_id"],
            "client_secret": secret,
        })
    };
    let secret = created.body["client_secret"].as_str().unwrap();
    check_sign_in_replay(&app, "/v1/auth/token", body(secret), body("wrong")).await;
}

#[tokio::test]
async fn a_sign_in_key_is_the_principal_key_of_every_other_request() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "admin@example.test", "password": staffroom_tests::PASSWORD});
    let token = sign_in_with_key(&app, "/v1/auth/login", "shared-key", &body)
        .await
        .expect(200)
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same principal's key on another operation is another request.
    post_with_key(&app, &token, "shared-key", &user("key@example.test"))
        .await
        .expect_problem(422, "idempotency_key_reused");
}
