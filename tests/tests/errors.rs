//! Cross-cutting behaviour (SPEC §9): problem documents, validation, media types, body
//! limits, query errors, request ids and conditional requests.
#![expect(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, Options, TestApp};

/// Sends `body` as-is with the given content type (none when `None`).
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    TestApp::answer(request.body(body).send().await.unwrap()).await
}

/// Sends JSON with extra headers.
async fn with_headers(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    TestApp::answer(request.send().await.unwrap()).await
}

fn valid_user(email: &str) -> Value {
    json!({
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": email,
        "user_type": "clinical",
    })
}

/// Asserts the RFC 9457 shape of an error answer.
#[track_caller]
fn assert_problem_shape(answer: &Answer) {
    let context = format!("{} {:#}", answer.status, answer.body);
    assert!(answer.status.as_u16() >= 400, "{context}");
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json"),
        "{context}"
    );
    let body = answer
        .body
        .as_object()
        .unwrap_or_else(|| panic!("{context}"));
    for member in ["type", "title", "detail", "code"] {
        let value = body.get(member).and_then(Value::as_str).unwrap_or("");
        assert!(
            !value.is_empty(),
            "`{member}` is a non-empty string: {context}"
        );
    }
    assert_eq!(
        body.get("status").and_then(Value::as_u64),
        Some(u64::from(answer.status.as_u16())),
        "{context}"
    );
    let code = body["code"].as_str().unwrap();
    assert!(
        code.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
        "code is snake_case: {context}"
    );
}

/// The `(field, code)` pairs of a validation problem.
fn field_errors(answer: &Answer) -> Vec<(String, String)> {
    answer.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("an `errors` array: {:#}", answer.body))
        .iter()
        .map(|e| {
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "every field error has a message: {e:#}"
            );
            (
                e["field"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[track_caller]
fn assert_names_field(answer: &Answer, field: &str) {
    let errors = field_errors(answer);
    assert!(
        errors.iter().any(|(f, _)| f == field),
        "an error names `{field}`: {:#}",
        answer.body
    );
}

// ---------------------------------------------------------------------------------------
// Problem documents

#[tokio::test]
async fn every_error_is_a_problem_document() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, valid_user("grace@example.test"))
        .await;
    let user_id = app.site.admin_id.to_string();
    let answers = vec![
        app.call(Method::GET, "/v1/me", None, None).await,
        app.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": "x@example.test", "password": "nope"})),
        )
        .await,
        app.get(&admin, "/v1/nothing-here").await,
        app.get(&admin, &format!("/v1/users/{}", uuid::Uuid::new_v4()))
            .await,
        raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("application/json"),
            "{",
        )
        .await,
        raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("text/plain"),
            "{}",
        )
        .await,
        app.post(&admin, "/v1/users", json!({"first_name": ""}))
            .await,
        app.post(&admin, "/v1/users", valid_user("grace@example.test"))
            .await,
        app.get(&admin, "/v1/users?limit=0").await,
        with_headers(
            &app,
            Method::PATCH,
            &format!("/v1/users/{user_id}"),
            &admin,
            &[("if-match", "\"999\"")],
            Some(json!({"first_name": "Ada"})),
        )
        .await,
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses,
        vec![401, 401, 404, 404, 400, 415, 422, 409, 422, 412]
    );
    for answer in &answers {
        assert_problem_shape(answer);
    }
}

#[tokio::test]
async fn forbidden_is_a_problem_document() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, valid_user("grace@example.test"))
        .await;
    let user = app
        .login("grace@example.test", staffroom_tests::PASSWORD)
        .await;
    let answer = app
        .post(&user, "/v1/users", valid_user("other@example.test"))
        .await
        .expect_problem(403, "forbidden");
    assert_problem_shape(&answer);
}

// ---------------------------------------------------------------------------------------
// Malformed bodies and media types

#[tokio::test]
async fn broken_json_is_malformed_body() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for body in [
        "{",
        "{\"first_name\": \"Grace\",}",
        "not json at all",
        "{\"first_name\": \"Gr",
        "\u{feff}",
    ] {
        let answer = raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("application/json"),
            body,
        )
        .await
        .expect_problem(400, "malformed_body");
        assert_problem_shape(&answer);
    }
}

#[tokio::test]
async fn empty_body_is_malformed_body() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    raw(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        Some("application/json"),
        "",
    )
    .await
    .expect_problem(400, "malformed_body");
    raw(&app, Method::POST, "/v1/users", &admin, None, "")
        .await
        .expect_problem(400, "malformed_body");
    let user = format!("/v1/users/{}", app.site.admin_id);
    raw(
        &app,
        Method::PATCH,
        &user,
        &admin,
        Some("application/json"),
        "",
    )
    .await
    .expect_problem(400, "malformed_body");
}

#[tokio::test]
async fn broken_json_login_is_malformed_body() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    TestApp::answer(response)
        .await
        .expect_problem(400, "malformed_body");
}

#[tokio::test]
async fn text_plain_is_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = valid_user("grace@example.test").to_string();
    let answer = raw(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        Some("text/plain"),
        body,
    )
    .await
    .expect_problem(415, "unsupported_media_type");
    assert_problem_shape(&answer);
    let users = app.get(&admin, "/v1/users").await.expect(200);
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn json_with_charset_is_accepted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = valid_user("grace@example.test").to_string();
    raw(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        Some("application/json; charset=utf-8"),
        body,
    )
    .await
    .expect(201);
}

// ---------------------------------------------------------------------------------------
// Validation

#[tokio::test]
async fn validation_lists_every_bad_string_field_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "",
                "last_name": "x".repeat(101),
                "email": "not-an-email",
                "user_type": "clinical",
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_problem_shape(&answer);
    let errors = field_errors(&answer);
    let mut fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["email", "first_name", "last_name"],
        "{:#}",
        answer.body
    );
    let email = errors.iter().find(|(f, _)| f == "email").unwrap();
    assert_eq!(email.1, "invalid_email");

    let users = app.get(&admin, "/v1/users").await.expect(200);
    assert_eq!(
        users.body["items"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
}

#[tokio::test]
async fn names_of_100_characters_are_accepted_and_101_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = valid_user("long@example.test");
    body["first_name"] = json!("é".repeat(100));
    body["last_name"] = json!("x".repeat(100));
    body["title"] = json!("T".repeat(100));
    app.post(&admin, "/v1/users", body.clone())
        .await
        .expect(201);

    body["email"] = json!("longer@example.test");
    body["title"] = json!("T".repeat(101));
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_errors(&answer).len(), 1, "{:#}", answer.body);
    assert_names_field(&answer, "title");
}

#[tokio::test]
async fn email_over_254_characters_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = format!("{}@{}.example.test", "a".repeat(60), "b".repeat(190));
    assert!(email.len() > 254);
    let answer = app
        .post(&admin, "/v1/users", valid_user(&email))
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "email");
}

#[tokio::test]
async fn patch_lists_every_bad_field_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .patch(
            &admin,
            &format!("/v1/users/{}", app.site.admin_id),
            json!({"first_name": "", "last_name": "", "email": "@"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<String> = field_errors(&answer).into_iter().map(|e| e.0).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "first_name", "last_name"]);
}

#[tokio::test]
async fn wrong_enum_value_names_its_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = valid_user("grace@example.test");
    body["user_type"] = json!("doctor");
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_type");

    let mut body = valid_user("grace@example.test");
    body["profession"] = json!("WIZARD");
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "profession");
}

#[tokio::test]
async fn wrong_enum_value_and_bad_strings_are_reported_together() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "",
                "last_name": "Hopper",
                "email": "not-an-email",
                "user_type": "doctor",
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<String> = field_errors(&answer).into_iter().map(|e| e.0).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["email", "first_name", "user_type"],
        "SPEC §9: all field errors (lengths, email syntax, enum values) at once: {:#}",
        answer.body
    );
}

#[tokio::test]
async fn missing_required_field_is_named_with_code_required() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for missing in ["first_name", "last_name", "email", "user_type"] {
        let mut body = valid_user("grace@example.test");
        body.as_object_mut().unwrap().remove(missing);
        let answer = app
            .post(&admin, "/v1/users", body)
            .await
            .expect_problem(422, "validation_failed");
        let errors = field_errors(&answer);
        assert!(
            errors.contains(&(missing.to_owned(), "required".to_owned())),
            "{missing}: {:#}",
            answer.body
        );
    }
}

#[tokio::test]
async fn every_missing_required_field_is_named() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(&admin, "/v1/users", json!({"first_name": "Grace"}))
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<String> = field_errors(&answer).into_iter().map(|e| e.0).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["email", "last_name", "user_type"],
        "SPEC §9: all field errors at once: {:#}",
        answer.body
    );
}

#[tokio::test]
async fn wrong_json_type_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (field, value) in [
        ("first_name", json!(42)),
        ("email", json!(true)),
        ("permissions", json!("site_admin")),
        ("clinic_ids", json!([7])),
    ] {
        let mut body = valid_user("grace@example.test");
        body[field] = value;
        let answer = app
            .post(&admin, "/v1/users", body)
            .await
            .expect_problem(422, "validation_failed");
        let errors = field_errors(&answer);
        assert!(
            errors.iter().any(|(f, _)| f == field
                || f.starts_with(&format!("{field}["))
                || f.starts_with(&format!("{field}."))),
            "{field}: {:#}",
            answer.body
        );
    }
    let mut body = valid_user("grace@example.test");
    body["first_name"] = json!(42);
    let answer = app.post(&admin, "/v1/users", body).await;
    assert_eq!(
        field_errors(&answer),
        vec![("first_name".to_owned(), "invalid_type".to_owned())]
    );
}

#[tokio::test]
async fn non_object_bodies_are_validation_errors() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for body in [json!([]), json!(null), json!("user"), json!(12)] {
        let answer = app.post(&admin, "/v1/users", body.clone()).await;
        assert!(
            matches!(answer.status.as_u16(), 400 | 422),
            "{body}: {:#}",
            answer.body
        );
        assert_problem_shape(&answer);
    }
}

#[tokio::test]
async fn invalid_uuid_in_the_body_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = valid_user("grace@example.test");
    body["default_clinic_id"] = json!("not-a-uuid");
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "default_clinic_id");
}

// ---------------------------------------------------------------------------------------
// Body size

/// A valid user body padded with JSON whitespace to exactly `size` bytes.
fn padded_user(email: &str, size: usize) -> String {
    let body = valid_user(email).to_string();
    assert!(body.len() <= size);
    let mut padded = String::with_capacity(size);
    padded.push_str(&body[..body.len() - 1]);
    padded.push_str(&" ".repeat(size - body.len()));
    padded.push('}');
    assert_eq!(padded.len(), size);
    padded
}

#[tokio::test]
async fn body_over_the_limit_is_body_too_large() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    for size in [2049, 4096, 32_768] {
        let answer = raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("application/json"),
            padded_user("big@example.test", size),
        )
        .await
        .expect_problem(413, "body_too_large");
        assert_problem_shape(&answer);
    }
    let users = app.get(&admin, "/v1/users").await.expect(200);
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_body_too_large() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let padded = padded_user("big@example.test", 5000);
    // reqwest always sends a length here, so speak HTTP/1.1 with chunked encoding directly.
    let mut request = format!(
        "POST /v1/users HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n",
        host = app.base.trim_start_matches("http://"),
    );
    for chunk in padded.as_bytes().chunks(1000) {
        request.push_str(&format!("{:x}\r\n", chunk.len()));
        request.push_str(std::str::from_utf8(chunk).unwrap());
        request.push_str("\r\n");
    }
    request.push_str("0\r\n\r\n");
    let address = app.base.trim_start_matches("http://").to_owned();
    let response = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        // The server may answer and close before reading the whole body.
        let _ = stream.write_all(request.as_bytes());
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    let status_line = response.lines().next().unwrap_or("");
    assert!(
        status_line.starts_with("HTTP/1.1 413"),
        "expected 413, got: {response}"
    );
    let lower = response.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{response}"
    );
    assert!(
        response.contains("\"code\":\"body_too_large\""),
        "{response}"
    );
}

#[tokio::test]
async fn body_at_the_limit_is_accepted() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    for (size, email) in [(2047, "under@example.test"), (2048, "exact@example.test")] {
        raw(
            &app,
            Method::POST,
            "/v1/users",
            &admin,
            Some("application/json"),
            padded_user(email, size),
        )
        .await
        .expect(201);
    }
}

#[tokio::test]
async fn body_limit_applies_to_the_token_endpoint() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let response = app
        .client
        .post(app.url("/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id=x&client_secret={}",
            "s".repeat(3000)
        ))
        .send()
        .await
        .unwrap();
    TestApp::answer(response)
        .await
        .expect_problem(413, "body_too_large");
}

// ---------------------------------------------------------------------------------------
// Query parameters

#[tokio::test]
async fn bad_limits_name_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for list in [
        "/v1/users",
        "/v1/clinics",
        "/v1/service-accounts",
        "/v1/audit-events",
    ] {
        for limit in ["0", "201", "abc", "-1", "1.5", "99999999999999999999"] {
            let answer = app
                .get(&admin, &format!("{list}?limit={limit}"))
                .await
                .expect_problem(422, "validation_failed");
            assert_names_field(&answer, "limit");
        }
        app.get(&admin, &format!("{list}?limit=1"))
            .await
            .expect(200);
        app.get(&admin, &format!("{list}?limit=200"))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn bad_enum_filter_names_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (query, field) in [
        ("user_type=foo", "user_type"),
        ("status=sleeping", "status"),
        ("profession=WIZARD", "profession"),
        ("sort=age", "sort"),
        ("clinic_id=not-a-uuid", "clinic_id"),
    ] {
        let answer = app
            .get(&admin, &format!("/v1/users?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        assert_names_field(&answer, field);
    }
}

/// The `maxLength` the contract documents for text query parameters holds.
#[tokio::test]
async fn search_texts_longer_than_documented_name_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (path, field, max) in [
        ("/v1/users?q=", "q", 200),
        ("/v1/clinics?q=", "q", 200),
        ("/v1/reports/appointments?client_ref=", "client_ref", 100),
    ] {
        app.get(&admin, &format!("{path}{}", "a".repeat(max)))
            .await
            .expect(200);
        let answer = app
            .get(&admin, &format!("{path}{}", "a".repeat(max + 1)))
            .await
            .expect_problem(422, "validation_failed");
        assert_names_field(&answer, field);
        assert_eq!(answer.body["errors"][0]["code"], "too_long", "{path}");
    }
}

/// `minItems` of a body array holds, before `If-Match` is looked at.
#[tokio::test]
async fn an_empty_clinic_list_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let path = format!("/v1/users/{}/clinics", app.site.admin_id);
    let answer = with_headers(
        &app,
        Method::PUT,
        &path,
        &admin,
        &[("If-Match", "\"99\"")],
        Some(json!({"clinic_ids": [], "default_clinic_id": app.site.clinic_id})),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "clinic_ids");
    assert_eq!(answer.body["errors"][0]["code"], "too_few_items");
}

#[tokio::test]
async fn garbage_cursor_names_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for list in [
        "/v1/users",
        "/v1/clinics",
        "/v1/service-accounts",
        "/v1/audit-events",
    ] {
        for cursor in ["garbage", "!!not-a-cursor!!", "e30", "bnVsbA", "%00"] {
            let answer = app
                .get(&admin, &format!("{list}?cursor={cursor}"))
                .await
                .expect_problem(422, "validation_failed");
            assert_names_field(&answer, "cursor");
        }
    }
}

#[tokio::test]
async fn bad_audit_time_filter_names_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for query in ["since=yesterday", "until=2024-13-45"] {
        let answer = app
            .get(&admin, &format!("/v1/audit-events?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        let field = query.split('=').next().unwrap();
        assert_names_field(&answer, field);
    }
}

#[tokio::test]
async fn cursor_pagination_walks_every_item_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.create_user(&admin, valid_user(&format!("user{i}@example.test")))
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/users?limit=2".to_owned();
    loop {
        let page = app.get(&admin, &path).await.expect(200);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 5);
    assert_eq!(unique.len(), 5);
}

// ---------------------------------------------------------------------------------------
// Request ids

#[tokio::test]
async fn request_id_is_echoed_when_sent() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = with_headers(
        &app,
        Method::GET,
        "/v1/me",
        &admin,
        &[("x-request-id", "trace-abc-123")],
        None,
    )
    .await
    .expect(200);
    assert_eq!(answer.header("x-request-id"), Some("trace-abc-123"));

    let error = with_headers(
        &app,
        Method::GET,
        "/v1/users/not-a-uuid",
        &admin,
        &[("x-request-id", "trace-def-456")],
        None,
    )
    .await
    .expect(404);
    assert_eq!(error.header("x-request-id"), Some("trace-def-456"));
}

#[tokio::test]
async fn request_id_is_generated_when_not_sent() {
    let app = TestApp::spawn().await;
    let first = app
        .call(Method::GET, "/v1/me", None, None)
        .await
        .expect(401);
    let second = app
        .call(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    let a = first.header("x-request-id").unwrap_or("");
    let b = second.header("x-request-id").unwrap_or("");
    assert!(!a.is_empty() && !b.is_empty(), "every response has an id");
    assert_ne!(a, b, "each request gets its own id");
}

#[tokio::test]
async fn request_id_of_a_change_is_in_its_audit_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let request_id = format!("create-{}", uuid::Uuid::new_v4());
    let created = with_headers(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        &[("x-request-id", &request_id)],
        Some(valid_user("grace@example.test")),
    )
    .await
    .expect(201);
    assert_eq!(created.header("x-request-id"), Some(request_id.as_str()));
    let user_id = created.body["id"].as_str().unwrap();

    let events = app
        .get(&admin, &format!("/v1/audit-events?request_id={request_id}"))
        .await
        .expect(200);
    let items = events.body["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{:#}", events.body);
    for event in items {
        assert_eq!(event["request_id"], request_id.as_str());
    }
    assert!(
        items
            .iter()
            .any(|e| e["action"] == "user.created" && e["target_id"] == user_id),
        "{:#}",
        events.body
    );
}

// ---------------------------------------------------------------------------------------
// Conditional requests

async fn etag_of(app: &TestApp, token: &str, path: &str) -> String {
    let answer = app.get(token, path).await.expect(200);
    answer.header("etag").unwrap().to_owned()
}

async fn patch_if_match(app: &TestApp, token: &str, path: &str, etag: &str, body: Value) -> Answer {
    with_headers(
        app,
        Method::PATCH,
        path,
        token,
        &[("if-match", etag)],
        Some(body),
    )
    .await
}

#[tokio::test]
async fn if_match_mismatch_is_precondition_failed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, valid_user("grace@example.test"))
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    for etag in ["\"999\"", "\"abc\"", "999", "W/\"999\""] {
        patch_if_match(&app, &admin, &path, etag, json!({"first_name": "Amazing"}))
            .await
            .expect_problem(412, "precondition_failed");
    }
    let unchanged = app.get(&admin, &path).await.expect(200);
    assert_eq!(unchanged.body["first_name"], "Grace");
}

#[tokio::test]
async fn stale_etag_after_another_change_is_precondition_failed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, valid_user("grace@example.test"))
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    let first = etag_of(&app, &admin, &path).await;

    let changed = patch_if_match(
        &app,
        &admin,
        &path,
        &first,
        json!({"first_name": "Amazing"}),
    )
    .await
    .expect(200);
    let second = changed.header("etag").unwrap().to_owned();
    assert_ne!(first, second, "a change gives a new ETag");
    assert_eq!(etag_of(&app, &admin, &path).await, second);

    patch_if_match(
        &app,
        &admin,
        &path,
        &first,
        json!({"last_name": "Lovelace"}),
    )
    .await
    .expect_problem(412, "precondition_failed");
    with_headers(
        &app,
        Method::POST,
        &format!("{path}/deactivate"),
        &admin,
        &[("if-match", &first)],
        None,
    )
    .await
    .expect_problem(412, "precondition_failed");

    let current = app.get(&admin, &path).await.expect(200);
    assert_eq!(current.body["last_name"], "Hopper");
    assert_eq!(current.body["status"], "active");
}

#[tokio::test]
async fn if_match_star_passes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, valid_user("grace@example.test"))
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    app.patch(&admin, &path, json!({"first_name": "Changed"}))
        .await
        .expect(200);
    let answer = patch_if_match(&app, &admin, &path, "*", json!({"first_name": "Starred"}))
        .await
        .expect(200);
    assert_eq!(answer.body["first_name"], "Starred");
}

#[tokio::test]
async fn clinic_if_match_is_honoured() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let clinic = app
        .post(&admin, "/v1/clinics", json!({"name": "Harbour"}))
        .await
        .expect(201);
    let path = format!("/v1/clinics/{}", clinic.body["id"].as_str().unwrap());
    let etag = clinic.header("etag").unwrap().to_owned();
    patch_if_match(&app, &admin, &path, &etag, json!({"name": "Harbour North"}))
        .await
        .expect(200);
    patch_if_match(&app, &admin, &path, &etag, json!({"name": "Harbour South"}))
        .await
        .expect_problem(412, "precondition_failed");
    with_headers(
        &app,
        Method::DELETE,
        &path,
        &admin,
        &[("if-match", &etag)],
        None,
    )
    .await
    .expect_problem(412, "precondition_failed");
    let current = etag_of(&app, &admin, &path).await;
    with_headers(
        &app,
        Method::DELETE,
        &path,
        &admin,
        &[("if-match", &current)],
        None,
    )
    .await
    .expect(204);
}

#[tokio::test]
async fn required_if_match_refuses_changes_without_it() {
    let app = TestApp::spawn_with(Options {
        require_if_match: true,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, valid_user("grace@example.test"))
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());

    let answer = app
        .patch(&admin, &path, json!({"first_name": "Amazing"}))
        .await
        .expect_problem(428, "precondition_required");
    assert_problem_shape(&answer);
    app.post(&admin, &format!("{path}/deactivate"), json!({}))
        .await
        .expect_problem(428, "precondition_required");

    let etag = etag_of(&app, &admin, &path).await;
    patch_if_match(&app, &admin, &path, &etag, json!({"first_name": "Amazing"}))
        .await
        .expect(200);

    let clinic = app
        .post(&admin, "/v1/clinics", json!({"name": "Harbour"}))
        .await
        .expect(201);
    let clinic_path = format!("/v1/clinics/{}", clinic.body["id"].as_str().unwrap());
    app.patch(&admin, &clinic_path, json!({"name": "Harbour North"}))
        .await
        .expect_problem(428, "precondition_required");
    app.delete(&admin, &clinic_path)
        .await
        .expect_problem(428, "precondition_required");
}

// ---------------------------------------------------------------------------------------
// No 500s

/// Asserts that no answer is a server error, naming every request that was one.
#[track_caller]
fn assert_no_server_error(answers: &[(String, Answer)]) {
    let failures: Vec<String> = answers
        .iter()
        .filter(|(_, a)| a.status.as_u16() >= 500)
        .map(|(label, a)| format!("{label} -> {} {}", a.status, a.body))
        .collect();
    assert!(
        failures.is_empty(),
        "client input caused server errors:\n{}",
        failures.join("\n")
    );
    for (_, answer) in answers {
        if answer.status.as_u16() >= 400 {
            assert_problem_shape(answer);
        }
    }
}

#[tokio::test]
async fn odd_bodies_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = format!("/v1/users/{}", app.site.admin_id);
    let bodies = [
        json!({"first_name": null, "last_name": null, "email": null, "user_type": null}),
        json!({"first_name": "\u{202e}x", "last_name": "\u{1F600}", "email": "a@b.co", "user_type": "clinical"}),
        json!({"first_name": "A", "last_name": "B", "email": "b@b.co", "user_type": "clinical",
               "clinic_ids": [uuid::Uuid::new_v4()]}),
        json!({"first_name": "A", "last_name": "B", "email": "c@b.co", "user_type": "clinical",
               "default_clinic_id": uuid::Uuid::new_v4()}),
        json!({"first_name": "A", "last_name": "B", "email": "d@b.co", "user_type": "clinical",
               "permissions": ["site_admin", "site_admin", "finish_soap_notes"], "profession": "CLERICAL"}),
        json!({"first_name": "A", "last_name": "B", "email": "e@b.co", "user_type": "clinical",
               "initial_password": "short"}),
        json!({"first_name": "A", "last_name": "B", "email": "f@b.co", "user_type": "clinical",
               "initial_password": "x".repeat(10_000)}),
        json!({"first_name": ["A"], "extra": {"deep": [[[[[]]]]]}}),
        json!({"first_name": 1e308, "last_name": -0, "email": {}, "user_type": []}),
        json!({"title": null}),
    ];
    let mut answers = Vec::new();
    for body in bodies {
        answers.push((
            format!("POST /v1/users {body}"),
            app.post(&admin, "/v1/users", body.clone()).await,
        ));
        answers.push((
            format!("PATCH {me} {body}"),
            app.patch(&admin, &me, body).await,
        ));
    }
    answers.push((
        "PATCH with a huge If-Match".to_owned(),
        with_headers(
            &app,
            Method::PATCH,
            &me,
            &admin,
            &[("if-match", "\"99999999999999999999999\"")],
            Some(json!({"first_name": "Ada"})),
        )
        .await,
    ));
    for body in [
        json!({"email": "x".repeat(5000), "password": "p", "site_id": "nope"}),
        json!({"email": "admin@example.test", "password": "x".repeat(100_000)}),
        json!({"email": "admin@example.test", "password": 5}),
    ] {
        answers.push((
            "POST /v1/auth/login (odd body)".to_owned(),
            app.call(Method::POST, "/v1/auth/login", None, Some(body))
                .await,
        ));
    }
    assert_no_server_error(&answers);
}

#[tokio::test]
async fn odd_query_parameters_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut answers = Vec::new();
    for path in [
        "/v1/users?q=%25%27%22%5C",
        "/v1/users?q=%E2%98%83",
        "/v1/users?limit=&cursor=",
        "/v1/users?limit=1&limit=2",
        "/v1/users?sort=",
        "/v1/users?sort=-email&limit=1",
        "/v1/clinics?q=%25_",
        "/v1/audit-events?request_id=%27%3B--",
        "/v1/audit-events?since=",
        "/v1/audit-events?since=9999-12-31T23:59:59Z",
    ] {
        answers.push((format!("GET {path}"), app.get(&admin, path).await));
    }
    assert_no_server_error(&answers);
}

#[tokio::test]
async fn nul_characters_never_cause_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = format!("/v1/users/{}", app.site.admin_id);
    let mut answers = Vec::new();
    let body = json!({"first_name": "A\u{0}", "last_name": "B", "email": "nul@example.test",
                      "user_type": "clinical"});
    answers.push((
        format!("POST /v1/users {body}"),
        app.post(&admin, "/v1/users", body.clone()).await,
    ));
    answers.push((
        format!("PATCH {me} {body}"),
        app.patch(&admin, &me, json!({"last_name": "\u{0}"})).await,
    ));
    answers.push((
        "POST /v1/clinics name with NUL".to_owned(),
        app.post(&admin, "/v1/clinics", json!({"name": "Main\u{0}"}))
            .await,
    ));
    answers.push((
        "POST /v1/service-accounts name with NUL".to_owned(),
        app.post(&admin, "/v1/service-accounts", json!({"name": "\u{0}"}))
            .await,
    ));
    answers.push((
        "POST /v1/auth/login email with NUL".to_owned(),
        app.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": "admin\u{0}@example.test", "password": "x"})),
        )
        .await,
    ));
    answers.push((
        "POST /v1/auth/token client_id with NUL".to_owned(),
        app.call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(
                json!({"grant_type": "client_credentials", "client_id": "sa_\u{0}",
                        "client_secret": "x"}),
            ),
        )
        .await,
    ));
    for path in [
        "/v1/users?q=%00",
        "/v1/clinics?q=%00",
        "/v1/audit-events?request_id=%00",
        "/v1/audit-events?action=%00",
        // Cursors that decode to keys holding a NUL character.
        "/v1/users?cursor=WyJcdTAwMDAiLCJhIl0",
        "/v1/clinics?cursor=Ilx1MDAwMCI",
        "/v1/service-accounts?cursor=Ilx1MDAwMCI",
        "/v1/audit-events?cursor=Ilx1MDAwMCI",
    ] {
        answers.push((format!("GET {path}"), app.get(&admin, path).await));
    }
    assert_no_server_error(&answers);
}
