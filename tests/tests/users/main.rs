//! `/v1/users`: creation, the staff list (filters, search, sorting, pagination), profile
//! updates, deactivation and reactivation, licences, and who may administer whom.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_domain::LicencePlan;
use staffroom_tests::{Answer, Options, PASSWORD, TestApp, add_clinic, enc, id_of, send};

mod administration;
mod concurrency;
mod create_and_read;
mod deactivation;
mod licences;
mod list;
mod profession;
mod profile;

fn new_user(first: &str, last: &str, email: &str, user_type: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": last,
        "email": email,
        "user_type": user_type,
    })
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

fn etag_of(version: &Value) -> String {
    format!("\"{}\"", version.as_i64().unwrap())
}

async fn deactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    send(
        app,
        Method::POST,
        &format!("/v1/users/{id}/deactivate"),
        token,
        None,
        None,
    )
    .await
}

async fn reactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    send(
        app,
        Method::POST,
        &format!("/v1/users/{id}/reactivate"),
        token,
        None,
        None,
    )
    .await
}

/// Every user of a list query, in order, in one page.
async fn list_all(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let sep = if query.is_empty() { "" } else { "&" };
    let answer = app
        .get(token, &format!("/v1/users?{query}{sep}limit=200"))
        .await
        .expect(200);
    assert!(answer.body["next_cursor"].is_null());
    items(&answer)
}

/// Walks every page of a list query with `limit`, checking the page sizes and that only
/// the last page has no `next_cursor`.
async fn walk(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = format!("/v1/users?limit={limit}");
        if !query.is_empty() {
            path.push('&');
            path.push_str(query);
        }
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", enc(c)));
        }
        let page = app.get(token, &path).await.expect(200);
        let page_items = items(&page);
        assert!(page_items.len() <= limit, "page larger than limit: {path}");
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
    panic!("pagination of {query} does not end");
}
