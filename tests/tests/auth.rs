//! Authentication (SPEC §3): login, bearer tokens, `GET /v1/me` and service accounts.
#![expect(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_api::auth::tokens::TokenKeys;
use staffroom_domain::PrincipalKind;
use staffroom_tests::{Answer, JWT_SECRET, Options, PASSWORD, TestApp, unix_now};

/// Base64url without padding, for hand-made JWTs.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

async fn login_answer(app: &TestApp, body: Value) -> Answer {
    app.call(Method::POST, "/v1/auth/login", None, Some(body))
        .await
}

/// Sends a request with a raw `Authorization` header value.
async fn with_authorization(app: &TestApp, path: &str, authorization: &str) -> Answer {
    let response = app
        .client
        .get(app.url(path))
        .header("authorization", authorization)
        .send()
        .await
        .unwrap();
    TestApp::answer(response).await
}

/// Asserts a `401 invalid_token` with the `WWW-Authenticate: Bearer` challenge.
#[track_caller]
fn user_body(email: &str) -> Value {
    json!({
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": email,
        "user_type": "clinical",
    })
}

/// A service account created by the site admin: `(id, client_id, client_secret)`.
async fn create_service_account(
    app: &TestApp,
    admin: &str,
    permissions: Value,
) -> (String, String, String) {
    let created = app.create_service_account(admin, permissions).await;
    let text = |k: &str| created.body[k].as_str().unwrap().to_owned();
    (text("id"), text("client_id"), text("client_secret"))
}

async fn token_json(app: &TestApp, client_id: &str, secret: &str) -> Answer {
    app.exchange(client_id, secret).await
}

async fn token_form(app: &TestApp, form: &str) -> Answer {
    let response = app
        .client
        .post(app.url("/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    TestApp::answer(response).await
}

async fn service_token(app: &TestApp, client_id: &str, secret: &str) -> String {
    let answer = token_json(app, client_id, secret).await.expect(200);
    answer.body["access_token"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------
// Login

#[tokio::test]
async fn login_returns_a_bearer_token() {
    let app = TestApp::spawn().await;
    let answer = login_answer(
        &app,
        json!({"email": app.site.admin_email, "password": PASSWORD}),
    )
    .await
    .expect(200);
    let token = answer.body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    assert_eq!(answer.body["token_type"], "Bearer");
    let expires_in = answer.body["expires_in"].as_i64().unwrap();
    assert!(expires_in > 0, "expires_in is positive: {expires_in}");
    assert!(answer.body.get("password").is_none());
    app.get(token, "/v1/me").await.expect(200);
}

#[tokio::test]
async fn login_email_is_case_insensitive() {
    let app = TestApp::spawn().await;
    login_answer(
        &app,
        json!({"email": "ADMIN@Example.TEST", "password": PASSWORD}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_the_same() {
    let app = TestApp::spawn().await;
    let wrong_password = login_answer(
        &app,
        json!({"email": app.site.admin_email, "password": "not the password"}),
    )
    .await
    .expect_problem(401, "invalid_credentials");
    let unknown_email = login_answer(
        &app,
        json!({"email": "nobody@example.test", "password": "not the password"}),
    )
    .await
    .expect_problem(401, "invalid_credentials");
    assert_eq!(
        wrong_password.body, unknown_email.body,
        "the body must not reveal whether the email exists"
    );
}

#[tokio::test]
async fn deactivated_user_cannot_log_in_and_their_token_stops_working() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, user_body("grace@example.test"))
        .await;
    let token = app.login("grace@example.test", PASSWORD).await;
    app.get(&token, "/v1/me").await.expect(200);

    let id = user["id"].as_str().unwrap();
    let deactivated = app
        .post(&admin, &format!("/v1/users/{id}/deactivate"), json!({}))
        .await
        .expect(200);
    assert_eq!(deactivated.body["status"], "inactive");

    login_answer(
        &app,
        json!({"email": "grace@example.test", "password": PASSWORD}),
    )
    .await
    .expect_problem(401, "invalid_credentials");
    app.get(&token, "/v1/me").await.expect_invalid_token();
    app.get(&token, "/v1/users").await.expect_invalid_token();
}

#[tokio::test]
async fn login_records_last_login_at() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, user_body("grace@example.test"))
        .await;
    assert_eq!(user["last_login_at"], Value::Null, "never logged in yet");
    let id = user["id"].as_str().unwrap();

    app.login("grace@example.test", PASSWORD).await;
    let after = app
        .get(&admin, &format!("/v1/users/{id}"))
        .await
        .expect(200);
    let at = after.body["last_login_at"]
        .as_str()
        .unwrap_or_else(|| panic!("last_login_at is set after a login: {:#}", after.body));
    assert!(at.ends_with('Z') || at.ends_with("+00:00"), "UTC: {at}");
}

#[tokio::test]
async fn user_created_without_initial_password_cannot_log_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(&admin, "/v1/users", user_body("invitee@example.test"))
        .await
        .expect(201);
    assert_eq!(created.body["has_password"], false);
    for password in [PASSWORD, "", "anything at all"] {
        login_answer(
            &app,
            json!({"email": "invitee@example.test", "password": password}),
        )
        .await
        .expect_problem(401, "invalid_credentials");
    }
}

#[tokio::test]
async fn same_credentials_in_two_sites_need_a_site_id() {
    let app = TestApp::spawn().await;
    let admin_a = app.admin_token().await;
    let site_b = app.other_site("Second Practice", "admin-b@example.test");
    let admin_b = app.login(&site_b.admin_email, PASSWORD).await;
    let in_a = app
        .create_user(&admin_a, user_body("shared@example.test"))
        .await;
    let in_b = app
        .create_user(&admin_b, user_body("shared@example.test"))
        .await;

    login_answer(
        &app,
        json!({"email": "shared@example.test", "password": PASSWORD}),
    )
    .await
    .expect_problem(409, "site_required");

    // A wrong password never reveals that the email exists in several sites.
    login_answer(
        &app,
        json!({"email": "shared@example.test", "password": "wrong password"}),
    )
    .await
    .expect_problem(401, "invalid_credentials");

    for (site_id, user, site_name) in [
        (app.site.site_id.to_string(), &in_a, "Test Practice"),
        (site_b.site_id.to_string(), &in_b, "Second Practice"),
    ] {
        let answer = login_answer(
            &app,
            json!({"email": "shared@example.test", "password": PASSWORD, "site_id": site_id}),
        )
        .await
        .expect(200);
        let token = answer.body["access_token"].as_str().unwrap();
        let me = app.get(token, "/v1/me").await.expect(200);
        assert_eq!(me.body["site_id"], site_id.as_str());
        assert_eq!(me.body["site_name"], site_name);
        assert_eq!(me.body["user"]["id"], user["id"]);
    }
}

#[tokio::test]
async fn login_with_a_site_id_of_another_site_fails() {
    let app = TestApp::spawn().await;
    let site_b = app.other_site("Second Practice", "admin-b@example.test");
    login_answer(
        &app,
        json!({
            "email": app.site.admin_email,
            "password": PASSWORD,
            "site_id": site_b.site_id.to_string(),
        }),
    )
    .await
    .expect_problem(401, "invalid_credentials");
}

// ---------------------------------------------------------------------------------------
// GET /v1/me

#[tokio::test]
async fn me_describes_a_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = app.get(&admin, "/v1/me").await.expect(200);
    assert_eq!(me.body["kind"], "user");
    assert_eq!(me.body["site_id"], app.site.site_id.to_string());
    assert_eq!(me.body["site_name"], "Test Practice");
    assert_eq!(me.body["user"]["id"], app.site.admin_id.to_string());
    assert_eq!(me.body["user"]["email"], app.site.admin_email);
    assert!(
        me.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("site_admin")),
        "{:#}",
        me.body
    );
    assert!(me.body["user"].get("password_hash").is_none());
    assert!(me.body["user"].get("password").is_none());
}

#[tokio::test]
async fn me_describes_a_service_account() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, client_id, secret) =
        create_service_account(&app, &admin, json!(["view_reports"])).await;
    let token = service_token(&app, &client_id, &secret).await;
    let me = app.get(&token, "/v1/me").await.expect(200);
    assert_eq!(me.body["kind"], "service");
    assert_eq!(me.body["site_id"], app.site.site_id.to_string());
    assert_eq!(me.body["site_name"], "Test Practice");
    assert_eq!(me.body["service_account_id"], id.as_str());
    assert_eq!(me.body["permissions"], json!(["view_reports"]));
    assert_eq!(me.body["user"], Value::Null);
}

// ---------------------------------------------------------------------------------------
// Bearer tokens

#[tokio::test]
async fn missing_bearer_token_is_invalid_token() {
    let app = TestApp::spawn().await;
    app.call(Method::GET, "/v1/me", None, None)
        .await
        .expect_invalid_token();
    app.call(Method::GET, "/v1/users", None, None)
        .await
        .expect_invalid_token();
}

#[tokio::test]
async fn garbage_bearer_tokens_are_invalid_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for authorization in [
        "Bearer garbage".to_owned(),
        "Bearer not.a.jwt".to_owned(),
        "Bearer ".to_owned(),
        "Bearer".to_owned(),
        format!("Basic {admin}"),
        admin.clone(),
        format!("Bearer {admin}x"),
    ] {
        with_authorization(&app, "/v1/me", &authorization)
            .await
            .expect_invalid_token();
    }
}

#[tokio::test]
async fn expired_token_is_invalid_token() {
    let app = TestApp::spawn().await;
    let keys = TokenKeys::hs256(JWT_SECRET);
    let expired = keys
        .issue(
            PrincipalKind::User,
            &app.site.admin_id.to_string(),
            app.site.site_id,
            vec!["site_admin".to_owned()],
            -3600,
        )
        .unwrap();
    app.get(&expired.token, "/v1/me")
        .await
        .expect_invalid_token();

    // The same keys with a future expiry work, so only the expiry was refused.
    let fresh = keys
        .issue(
            PrincipalKind::User,
            &app.site.admin_id.to_string(),
            app.site.site_id,
            vec!["site_admin".to_owned()],
            600,
        )
        .unwrap();
    app.get(&fresh.token, "/v1/me").await.expect(200);
}

#[tokio::test]
async fn token_signed_with_another_secret_is_invalid_token() {
    let app = TestApp::spawn().await;
    let forged = TokenKeys::hs256(b"another-secret-another-secret-another!!")
        .issue(
            PrincipalKind::User,
            &app.site.admin_id.to_string(),
            app.site.site_id,
            vec!["site_admin".to_owned()],
            600,
        )
        .unwrap();
    app.get(&forged.token, "/v1/me")
        .await
        .expect_invalid_token();
}

#[tokio::test]
async fn token_with_a_tampered_payload_is_invalid_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, user_body("grace@example.test"))
        .await;
    let token = app.login("grace@example.test", PASSWORD).await;
    // Keep Grace's signature but claim to be the administrator.
    let mut parts = token.split('.');
    let (header, _, signature) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let now = unix_now();
    let claims = json!({
        "sub": app.site.admin_id.to_string(), "site": app.site.site_id.to_string(),
        "kind": "user", "scopes": ["site_admin"], "iat": now, "exp": now + 600,
        "iss": "staffroom", "aud": "staffroom-api", "jti": "tampered",
    });
    let tampered = format!(
        "{header}.{}.{signature}",
        b64url(claims.to_string().as_bytes())
    );
    app.get(&tampered, "/v1/me").await.expect_invalid_token();
}

#[tokio::test]
async fn unsigned_alg_none_token_is_invalid_token() {
    let app = TestApp::spawn().await;
    let now = unix_now();
    let claims = json!({
        "sub": app.site.admin_id.to_string(), "site": app.site.site_id.to_string(),
        "kind": "user", "scopes": ["site_admin"], "iat": now, "exp": now + 600,
        "iss": "staffroom", "aud": "staffroom-api", "jti": "unsigned",
    });
    let payload = b64url(claims.to_string().as_bytes());
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"None","typ":"JWT"}"#,
        r#"{"alg":"NONE"}"#,
    ] {
        let token = format!("{}.{payload}.", b64url(header.as_bytes()));
        app.get(&token, "/v1/me").await.expect_invalid_token();
        let without_dot = format!("{}.{payload}", b64url(header.as_bytes()));
        app.get(&without_dot, "/v1/me").await.expect_invalid_token();
    }
}

#[tokio::test]
async fn token_whose_user_is_not_in_its_site_is_invalid_token() {
    let app = TestApp::spawn().await;
    let other = app.other_site("Second Practice", "admin-b@example.test");
    // A correctly signed token whose user id belongs to another site than its `site` claim.
    let mismatched = TokenKeys::hs256(JWT_SECRET)
        .issue(
            PrincipalKind::User,
            &other.admin_id.to_string(),
            app.site.site_id,
            vec!["site_admin".to_owned()],
            600,
        )
        .unwrap();
    app.get(&mismatched.token, "/v1/me")
        .await
        .expect_invalid_token();
}

// ---------------------------------------------------------------------------------------
// Service accounts

#[tokio::test]
async fn service_account_secret_is_shown_only_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(
            &admin,
            "/v1/service-accounts",
            json!({"name": "HR sync", "permissions": ["site_admin"]}),
        )
        .await
        .expect(201);
    let id = created.body["id"].as_str().unwrap();
    let client_id = created.body["client_id"].as_str().unwrap();
    let secret = created.body["client_secret"].as_str().unwrap();
    assert!(!secret.is_empty());
    assert_eq!(created.body["name"], "HR sync");
    assert_eq!(created.body["permissions"], json!(["site_admin"]));

    let list = app.get(&admin, "/v1/service-accounts").await.expect(200);
    let items = list.body["items"].as_array().unwrap();
    let listed = items
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("the new account is listed: {:#}", list.body));
    assert_eq!(listed["client_id"], client_id);
    assert!(listed.get("client_secret").is_none(), "{listed:#}");
    let text = list.body.to_string();
    assert!(
        !text.contains(secret),
        "the secret never appears in the list"
    );
    assert!(!text.contains("secret_hash"));
}

#[tokio::test]
async fn client_credentials_work_as_json() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, client_id, secret) = create_service_account(&app, &admin, json!(["site_admin"])).await;
    let answer = token_json(&app, &client_id, &secret).await.expect(200);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert!(answer.body["expires_in"].as_i64().unwrap() > 0);
    let token = answer.body["access_token"].as_str().unwrap();
    app.get(token, "/v1/me").await.expect(200);
}

#[tokio::test]
async fn client_credentials_work_as_a_form() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, client_id, secret) = create_service_account(&app, &admin, json!(["site_admin"])).await;
    // client ids and secrets are URL-safe, so they need no escaping.
    let answer = token_form(
        &app,
        &format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}"),
    )
    .await
    .expect(200);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert!(answer.body["expires_in"].as_i64().unwrap() > 0);
    let token = answer.body["access_token"].as_str().unwrap();
    let me = app.get(token, "/v1/me").await.expect(200);
    assert_eq!(me.body["kind"], "service");
}

#[tokio::test]
async fn wrong_client_secret_is_invalid_credentials() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, client_id, secret) = create_service_account(&app, &admin, json!(["site_admin"])).await;
    let wrong = token_json(&app, &client_id, &format!("{secret}x"))
        .await
        .expect_problem(401, "invalid_credentials");
    let unknown = token_json(&app, "sa_unknown", &secret)
        .await
        .expect_problem(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
    token_form(
        &app,
        &format!("grant_type=client_credentials&client_id={client_id}&client_secret=nope"),
    )
    .await
    .expect_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn unsupported_grant_type_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, client_id, secret) = create_service_account(&app, &admin, json!(["site_admin"])).await;
    let as_json = app
        .call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(
                json!({"grant_type": "password", "client_id": client_id, "client_secret": secret}),
            ),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(as_json.body["errors"][0]["field"], "grant_type");
    let as_form = token_form(
        &app,
        &format!("grant_type=authorization_code&client_id={client_id}&client_secret={secret}"),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_eq!(as_form.body["errors"][0]["field"], "grant_type");
}

#[tokio::test]
async fn token_request_without_grant_type_names_the_field() {
    let app = TestApp::spawn().await;
    let answer = token_form(&app, "client_id=sa_x&client_secret=y")
        .await
        .expect_problem(422, "validation_failed");
    let errors = answer.body["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["field"] == "grant_type"),
        "{:#}",
        answer.body
    );
}

#[tokio::test]
async fn service_token_with_site_admin_can_list_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, client_id, secret) = create_service_account(&app, &admin, json!(["site_admin"])).await;
    let token = service_token(&app, &client_id, &secret).await;
    let list = app.get(&token, "/v1/users").await.expect(200);
    assert!(
        list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == app.site.admin_id.to_string())
    );
    app.post(&token, "/v1/users", user_body("scripted@example.test"))
        .await
        .expect(201);
}

#[tokio::test]
async fn service_token_without_permissions_cannot_create_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, client_id, secret) = create_service_account(&app, &admin, json!([])).await;
    let token = service_token(&app, &client_id, &secret).await;
    app.post(&token, "/v1/users", user_body("scripted@example.test"))
        .await
        .expect_problem(403, "forbidden");
    app.get(&token, "/v1/service-accounts")
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn revoked_service_account_loses_its_secret_and_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, client_id, secret) = create_service_account(&app, &admin, json!(["site_admin"])).await;
    let token = service_token(&app, &client_id, &secret).await;
    app.get(&token, "/v1/users").await.expect(200);

    let revoked = app
        .delete(&admin, &format!("/v1/service-accounts/{id}"))
        .await
        .expect(204);
    assert_eq!(revoked.body, Value::Null);

    token_json(&app, &client_id, &secret)
        .await
        .expect_problem(401, "invalid_credentials");
    app.get(&token, "/v1/users").await.expect_invalid_token();
    app.get(&token, "/v1/me").await.expect_invalid_token();

    let list = app.get(&admin, "/v1/service-accounts").await.expect(200);
    assert!(
        !list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str()),
        "a revoked account is not listed: {:#}",
        list.body
    );
    // Revoking twice: the account no longer exists for the API.
    app.delete(&admin, &format!("/v1/service-accounts/{id}"))
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn service_account_cannot_hold_clinic_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(
            &admin,
            "/v1/service-accounts",
            json!({"name": "Clinic script", "permissions": ["clinic_admin"]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(answer.body["errors"][0]["field"], "permissions");
    let list = app.get(&admin, "/v1/service-accounts").await.expect(200);
    assert_eq!(list.body["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn service_account_with_an_unknown_permission_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(
            &admin,
            "/v1/service-accounts",
            json!({"name": "Script", "permissions": ["root"]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let field = answer.body["errors"][0]["field"].as_str().unwrap();
    assert!(field.starts_with("permissions"), "{:#}", answer.body);
}

#[tokio::test]
async fn non_admin_users_cannot_manage_service_accounts() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, _, _) = create_service_account(&app, &admin, json!(["site_admin"])).await;
    app.create_user(
        &admin,
        json!({
            "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.test",
            "user_type": "clinical", "permissions": ["view_reports", "manage_schedule"],
        }),
    )
    .await;
    let user = app.login("grace@example.test", PASSWORD).await;

    app.get(&user, "/v1/service-accounts")
        .await
        .expect_problem(403, "forbidden");
    app.post(
        &user,
        "/v1/service-accounts",
        json!({"name": "Mine", "permissions": []}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.delete(&user, &format!("/v1/service-accounts/{id}"))
        .await
        .expect_problem(403, "forbidden");
    // The account still works.
    let list = app.get(&admin, "/v1/service-accounts").await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

/// Password checks are bounded (each holds 19 MiB): with 2 permits and a 1 ms wait, 8
/// logins at once get either their token or `503 hashing_busy` with `Retry-After`, never
/// anything else; at least the permits' worth succeed, and once they are done a login
/// succeeds again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_beyond_the_hashing_permits_are_answered_503_with_retry_after() {
    const PERMITS: usize = 2;
    let app = TestApp::spawn_with(Options {
        hashing: (PERMITS, std::time::Duration::from_millis(1)),
        ..Options::default()
    })
    .await;
    let email = app.site.admin_email.clone();
    let logins = (0..4 * PERMITS).map(|_| {
        app.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
    });
    let answers = futures_util::future::join_all(logins).await;
    let mut busy = 0;
    let mut succeeded = 0;
    for answer in answers {
        match answer.status.as_u16() {
            200 => {
                assert!(answer.body["access_token"].is_string(), "{:#}", answer.body);
                succeeded += 1;
            }
            _ => {
                let answer = answer.expect_problem(503, "hashing_busy");
                let retry = answer.header("retry-after").expect("Retry-After");
                assert!(retry.parse::<u32>().unwrap() >= 1, "{retry}");
                busy += 1;
            }
        }
    }
    assert!(busy >= 1, "{succeeded} logins succeeded, none was refused");
    assert!(succeeded >= PERMITS, "{succeeded} succeeded, {busy} busy");
    app.login(&email, PASSWORD).await;
}
