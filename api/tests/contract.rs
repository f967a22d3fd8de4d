#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the server derives from its OpenAPI document at start-up, checked against the
//! generated document: the body contract (every violation with its field path and code)
//! and the documented paths the fallback answers `405` for.

use std::sync::LazyLock;

use serde_json::json;
use staffroom_api::contract::BodyContract;
use staffroom_api::fallback::DocumentedPaths;
use staffroom_domain::FieldError;

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> =
    LazyLock::new(staffroom_api::openapi::document);

static CONTRACT: LazyLock<BodyContract> = LazyLock::new(|| BodyContract::new(&DOCUMENT));

fn contract() -> &'static BodyContract {
    &CONTRACT
}

fn fields(errors: &[FieldError]) -> Vec<(&str, &str)> {
    errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect()
}

#[test]
fn an_array_shorter_than_min_items_names_its_field() {
    let errors = contract().violations(
        "SetClinicsRequest",
        &json!({"clinic_ids": [], "default_clinic_id": "0190c5d2-0000-7000-8000-000000000000"}),
    );
    assert_eq!(fields(&errors), vec![("clinic_ids", "too_few_items")]);
}

#[test]
fn reports_every_violation_of_a_body() {
    let errors = contract().violations(
        "CreateUserRequest",
        &json!({"first_name": "", "email": "nope", "user_type": "doctor",
                "permissions": ["site_admin", "fly"], "clinic_ids": ["x"], "title": 5}),
    );
    let mut found = fields(&errors);
    found.sort_unstable();
    assert_eq!(
        found,
        vec![
            ("clinic_ids[0]", "invalid_uuid"),
            ("email", "invalid_email"),
            ("first_name", "required"),
            ("last_name", "required"),
            ("permissions[1]", "invalid_value"),
            ("title", "invalid_type"),
            ("user_type", "invalid_value"),
        ]
    );
}

#[test]
fn unknown_fields_are_named() {
    let errors = contract().violations(
        "UpdateUserRequest",
        &json!({"status": "inactive", "first_name": "A"}),
    );
    assert_eq!(fields(&errors), vec![("status", "unknown_field")]);
}

#[test]
fn a_valid_body_has_no_violation() {
    let body = json!({"first_name": "Zoë", "last_name": "O'Brien", "email": "z@example.test",
                      "user_type": "clinical", "profession": null, "default_clinic_id": null});
    assert!(contract().violations("CreateUserRequest", &body).is_empty());
}

#[test]
fn nested_objects_and_nullable_refs() {
    let errors = contract().violations("UpdateSiteRequest", &json!({"settings": {"timezone": ""}}));
    assert_eq!(fields(&errors), vec![("settings.timezone", "required")]);
    assert!(
        contract()
            .violations("UpdateSiteRequest", &json!({"settings": null}))
            .is_empty()
    );
    let errors = contract().violations("UpdateSiteRequest", &json!({"settings": 3}));
    assert_eq!(fields(&errors), vec![("settings", "invalid_type")]);
}

#[test]
fn finds_nul_characters_anywhere() {
    let found = contract().violations(
        "UpdateSiteRequest",
        &json!({"name": "x\u{0}", "settings": {"timezone": "\u{0}"}, "b": ["ok", "\u{0}"]}),
    );
    assert_eq!(
        fields(&found),
        vec![
            ("b[1]", "invalid_characters"),
            ("name", "invalid_characters"),
            ("settings.timezone", "invalid_characters")
        ]
    );
}

#[test]
fn literal_segments_win_over_templates() {
    let paths = DocumentedPaths::new(&DOCUMENT);
    assert_eq!(paths.allowed("/v1/users/bulk-update"), Some(&["POST"][..]));
    let user = paths
        .allowed("/v1/users/0190c5d2-0000-7000-8000-000000000000")
        .unwrap();
    assert!(user.contains(&"GET") && user.contains(&"PATCH"), "{user:?}");
}

#[test]
fn unknown_paths_have_no_methods() {
    let paths = DocumentedPaths::new(&DOCUMENT);
    assert_eq!(paths.allowed("/v1/nothing-here"), None);
    assert_eq!(paths.allowed("/v1/users/x/y/z"), None);
}
