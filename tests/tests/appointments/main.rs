#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bookings, diaries and the appointment report (SPEC §2): only clinical users with a diary
//! can be booked, the diary follows the type at the next login, and past appointments stay
//! in the report whatever happens to the diary or the user.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, PASSWORD, TestApp, add_clinic, enc, id_of};

mod booking;
mod clinics;
mod diary;
mod report;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// An instant in March 2030 (UTC), as the API writes it.
fn at(day: u32, hour: u32, minute: u32) -> String {
    format!("2030-03-{day:02}T{hour:02}:{minute:02}:00Z")
}

fn email_of(first: &str) -> String {
    format!("{}@example.test", first.to_lowercase())
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

fn items(answer: &Answer) -> Vec<Value> {
    answer.body["items"].as_array().unwrap().clone()
}

fn field_names(answer: &Answer) -> Vec<String> {
    answer.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[track_caller]
fn assert_names_field(answer: &Answer, field: &str) {
    assert!(
        field_names(answer).iter().any(|f| f == field),
        "expected an error naming `{field}`: {:#}",
        answer.body
    );
}

/// Creates a user (with the harness password) at these clinics; returns the user.
async fn user_at(
    app: &TestApp,
    admin: &str,
    first: &str,
    user_type: &str,
    clinic_ids: &[&str],
) -> Value {
    app.create_user(
        admin,
        json!({
            "first_name": first,
            "last_name": "Booked",
            "email": email_of(first),
            "user_type": user_type,
            "clinic_ids": clinic_ids,
            "default_clinic_id": clinic_ids[0],
        }),
    )
    .await
}

/// Creates a user at the main clinic and returns the id.
async fn user(app: &TestApp, admin: &str, first: &str, user_type: &str) -> String {
    id_of(&user_at(app, admin, first, user_type, &[&app.site.clinic_id]).await)
}

async fn book(
    app: &TestApp,
    token: &str,
    user_id: &str,
    clinic_id: &str,
    starts_at: &str,
    ends_at: &str,
) -> Answer {
    app.post(
        token,
        "/v1/appointments",
        json!({
            "user_id": user_id,
            "clinic_id": clinic_id,
            "client_ref": "client-42",
            "starts_at": starts_at,
            "ends_at": ends_at,
        }),
    )
    .await
}

/// Books and returns the appointment's id; panics unless `201`.
async fn booked(
    app: &TestApp,
    token: &str,
    user_id: &str,
    clinic_id: &str,
    starts_at: &str,
    ends_at: &str,
) -> String {
    id_of(
        &book(app, token, user_id, clinic_id, starts_at, ends_at)
            .await
            .expect(201)
            .body,
    )
}

async fn set_type(app: &TestApp, token: &str, id: &str, user_type: &str) -> Answer {
    app.call(
        Method::PUT,
        &format!("/v1/users/{id}/type"),
        Some(token),
        Some(json!({"user_type": user_type})),
    )
    .await
}

async fn set_status(app: &TestApp, token: &str, id: &str, action: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("/v1/users/{id}/{action}"),
        Some(token),
        None,
    )
    .await
}

async fn diary(app: &TestApp, token: &str, id: &str) -> Answer {
    app.get(token, &format!("/v1/users/{id}/diary?limit=200"))
        .await
}

/// Ids of one report query, in one page.
async fn report(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let sep = if query.is_empty() { "" } else { "&" };
    let page = app
        .get(
            token,
            &format!("/v1/reports/appointments?{query}{sep}limit=200"),
        )
        .await
        .expect(200);
    assert!(page.body["next_cursor"].is_null(), "{:#}", page.body);
    ids(&items(&page))
}

/// Walks every page of `path` (which has a `?`) with `limit`, checking page sizes and that
/// only the last page lacks a `next_cursor`.
async fn walk(app: &TestApp, token: &str, path: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut url = format!("{path}&limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", enc(c)));
        }
        let page = app.get(token, &url).await.expect(200);
        let page_items = items(&page);
        assert!(page_items.len() <= limit, "page larger than limit: {url}");
        all.extend(page_items.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(page_items.len(), limit, "a short page with a next_cursor");
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(page.body["next_cursor"].is_null());
                return all;
            }
        }
    }
    panic!("pagination of {path} does not end");
}

/// Asserts `items` are in start order (ties by id) and returns their ids.
#[track_caller]
fn in_start_order(items: &[Value]) -> Vec<String> {
    let keys: Vec<(String, String)> = items
        .iter()
        .map(|a| (a["starts_at"].as_str().unwrap().to_owned(), id_of(a)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "not in start order");
    ids(items)
}
