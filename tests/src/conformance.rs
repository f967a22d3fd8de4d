//! Checks every answer the harness receives against the contract, so the whole suite
//! enforces it: a problem's `code` is a declared `ProblemCode` answered with its one status
//! and title, a field error with an access rule's code is in an answer of that rule's one
//! status, and a documented operation answers only statuses its OpenAPI entry lists.

use std::sync::LazyLock;

use serde_json::Value;
use staffroom_domain::{ProblemCode, Refusal};

use crate::Answer;

/// The committed OpenAPI document (equal to the served one; a test fails on drift).
static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../openapi/openapi.json"))
        .unwrap_or_else(|e| panic!("openapi/openapi.json is not JSON: {e}"))
});

/// Panics unless a problem answer carries a declared code with that code's status and title.
#[track_caller]
pub fn check_problem(answer: &Answer) {
    if answer.header("content-type") != Some("application/problem+json") {
        return;
    }
    let wire = answer.code();
    let Ok(code) = ProblemCode::parse(wire) else {
        panic!("undeclared problem code {wire:?}: {:#}", answer.body);
    };
    assert_eq!(
        answer.status.as_u16(),
        code.status(),
        "{wire} is declared with status {}: {:#}",
        code.status(),
        answer.body
    );
    assert_eq!(answer.body["status"], code.status(), "{:#}", answer.body);
    assert_eq!(answer.body["title"], code.title(), "{:#}", answer.body);
    check_rule_codes(answer);
}

/// A field error carrying the code of an access rule (SPEC §4) is only ever in an answer
/// of that rule's one status: `422 validation_failed` on every single-user path.
#[track_caller]
fn check_rule_codes(answer: &Answer) {
    for error in answer.body["errors"].as_array().into_iter().flatten() {
        let field_code = error["code"].as_str().unwrap_or_default();
        if let Some(rule) = Refusal::ALL.iter().find(|r| r.code() == field_code) {
            assert_eq!(
                answer.status.as_u16(),
                rule.single_user_status(),
                "{field_code} is answered with status {}: {:#}",
                rule.single_user_status(),
                answer.body
            );
        }
    }
}

/// The documented operation `method path` answers, if any: the path template with the most
/// literal segments that matches (`/v1/users/bulk-update` over `/v1/users/{id}`).
pub fn documented_operation(method: &str, path: &str) -> Option<&'static Value> {
    let path = path.split('?').next().unwrap_or(path);
    let asked: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (_, item) = DOCUMENT["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let segments: Vec<&str> = template.trim_matches('/').split('/').collect();
            if segments.len() != asked.len() {
                return None;
            }
            let mut literal = 0;
            for (t, a) in segments.iter().zip(&asked) {
                if t.starts_with('{') {
                    continue;
                }
                if t != a {
                    return None;
                }
                literal += 1;
            }
            Some((literal, item))
        })
        .max_by_key(|(literal, _)| *literal)?;
    item.get(method.to_ascii_lowercase())
}

/// Panics when a documented operation answers a status its entry does not list.
#[track_caller]
pub fn check_documented(method: &str, path: &str, answer: &Answer) {
    let Some(operation) = documented_operation(method, path) else {
        return;
    };
    let status = answer.status.as_u16().to_string();
    assert!(
        operation["responses"].get(&status).is_some(),
        "{method} {path} answered {status}, which its OpenAPI entry does not document: {:#}",
        answer.body
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_found_by_their_most_literal_template() {
        let get_user = documented_operation("GET", "/v1/users/0190c5d2?x=1").unwrap();
        assert!(get_user["responses"].get("404").is_some());
        assert!(documented_operation("POST", "/v1/users/bulk-update").is_some());
        assert!(documented_operation("PATCH", "/v1/users/bulk-update").is_none());
        assert!(documented_operation("GET", "/v1/no/such/route").is_none());
    }
}
