//! Cross-cutting behaviour (SPEC §9): problem documents, validation, media types, body
//! limits, query errors, request ids and conditional requests.
#![expect(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, Options, TestApp};

mod body_size;
mod conditional;
mod malformed;
mod no_500s;
mod problems;
mod query;
mod request_ids;
mod validation;

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

/// The `(field, code)` pairs of a validation problem, each error with its message.
fn field_errors(answer: &Answer) -> Vec<(String, String)> {
    for e in answer.body["errors"].as_array().into_iter().flatten() {
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "every field error has a message: {e:#}"
        );
    }
    answer.field_errors()
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
