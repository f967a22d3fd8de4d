//! `/v1/site` (the caller's site, its name and settings) and `/v1/permissions` (the
//! permission catalogue and professions).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_domain::LicencePlan;
use staffroom_tests::{Answer, Options, PASSWORD, TestApp, send};

fn field_names(answer: &Answer) -> HashSet<String> {
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

/// A logged-in user of the site with `permissions`.
async fn user_with(app: &TestApp, admin: &str, email: &str, permissions: Value) -> String {
    app.create_user(
        admin,
        json!({
            "first_name": "Test",
            "last_name": "User",
            "email": email,
            "user_type": "non_clinical",
            "permissions": permissions,
        }),
    )
    .await;
    app.login(email, PASSWORD).await
}

#[tokio::test]
async fn get_site_shows_name_plan_settings_and_etag() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(site.body["id"], app.site.site_id.to_string().as_str());
    assert_eq!(site.body["name"], "Test Practice");
    assert_eq!(site.body["plan"], json!({"plan": "group", "licences": 50}));
    assert_eq!(site.body["settings"]["timezone"], "UTC");
    assert_eq!(site.body["version"], 1);
    assert_eq!(
        site.header("etag"),
        Some(format!("\"{}\"", site.body["version"]).as_str())
    );
    assert!(site.body["created_at"].is_string());
    assert!(site.body["updated_at"].is_string());

    // Every user of the site may read it.
    let plain = user_with(&app, &admin, "plain@example.test", json!([])).await;
    let read = app.get(&plain, "/v1/site").await.expect(200);
    assert_eq!(read.body, site.body);

    app.call(Method::GET, "/v1/site", None, None)
        .await
        .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn get_site_shows_other_plans() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Flex { licences: 7 },
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    let site = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(site.body["plan"], json!({"plan": "flex", "licences": 7}));

    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Solo,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    let site = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(site.body["plan"]["plan"], "solo");
}

#[tokio::test]
async fn each_site_sees_only_itself() {
    let app = TestApp::spawn().await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login("boss@elsewhere.test", PASSWORD).await;
    let theirs = app.get(&other_admin, "/v1/site").await.expect(200);
    assert_eq!(theirs.body["id"], other.site_id.to_string().as_str());
    assert_eq!(theirs.body["name"], "Elsewhere");
    app.patch(
        &other_admin,
        "/v1/site",
        json!({"name": "Renamed Elsewhere"}),
    )
    .await
    .expect(200);
    let admin = app.admin_token().await;
    let ours = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(ours.body["name"], "Test Practice");
    assert_eq!(ours.body["version"], 1);
}

#[tokio::test]
async fn site_admins_change_name_and_settings() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;

    let renamed = app
        .patch(&admin, "/v1/site", json!({"name": "  Riverside Physio  "}))
        .await
        .expect(200);
    assert_eq!(renamed.body["name"], "Riverside Physio");
    assert_eq!(renamed.body["version"], 2);
    assert_eq!(renamed.header("etag"), Some("\"2\""));
    assert_eq!(renamed.body["settings"]["timezone"], "UTC");
    assert_eq!(
        renamed.body["plan"],
        json!({"plan": "group", "licences": 50})
    );

    let zoned = app
        .patch(
            &admin,
            "/v1/site",
            json!({"settings": {"timezone": "Europe/Dublin"}}),
        )
        .await
        .expect(200);
    assert_eq!(zoned.body["settings"]["timezone"], "Europe/Dublin");
    assert_eq!(zoned.body["name"], "Riverside Physio");
    assert_eq!(zoned.body["version"], 3);

    let both = app
        .patch(
            &admin,
            "/v1/site",
            json!({"name": "Riverside", "settings": {"timezone": "America/Argentina/Buenos_Aires"}}),
        )
        .await
        .expect(200);
    assert_eq!(both.body["name"], "Riverside");
    assert_eq!(
        both.body["settings"]["timezone"],
        "America/Argentina/Buenos_Aires"
    );
    assert_eq!(both.body["version"], 4);

    // No change, no new version.
    let same = app
        .patch(&admin, "/v1/site", json!({"name": "Riverside"}))
        .await
        .expect(200);
    assert_eq!(same.body["version"], 4);
    let empty = app.patch(&admin, "/v1/site", json!({})).await.expect(200);
    assert_eq!(empty.body["version"], 4);

    let read = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(read.header("etag"), Some("\"4\""));
    assert_eq!(read.body, both.body);
}

#[tokio::test]
async fn only_site_admins_change_the_site() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let clinic_admin = user_with(&app, &admin, "ca@example.test", json!(["clinic_admin"])).await;
    let plain = user_with(
        &app,
        &admin,
        "plain@example.test",
        json!(["manage_billing", "view_reports"]),
    )
    .await;
    for token in [&clinic_admin, &plain] {
        app.patch(token, "/v1/site", json!({"name": "Taken Over"}))
            .await
            .expect_problem(403, "forbidden");
        app.patch(
            token,
            "/v1/site",
            json!({"settings": {"timezone": "Asia/Tokyo"}}),
        )
        .await
        .expect_problem(403, "forbidden");
    }
    let read = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(read.body["name"], "Test Practice");
    assert_eq!(read.body["settings"]["timezone"], "UTC");
    assert_eq!(read.body["version"], 1);
}

#[tokio::test]
async fn bad_timezones_and_names_are_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let long = "A".repeat(65);
    for timezone in ["Not a zone!", "", long.as_str(), "Europe/Dublin;DROP"] {
        let answer = app
            .patch(
                &admin,
                "/v1/site",
                json!({"settings": {"timezone": timezone}}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(
            field_names(&answer),
            HashSet::from(["settings.timezone".to_owned()]),
            "{timezone:?}: {:#}",
            answer.body
        );
    }
    // Every bad field at once.
    let answer = app
        .patch(
            &admin,
            "/v1/site",
            json!({"name": "", "settings": {"timezone": "no spaces allowed"}}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        field_names(&answer),
        HashSet::from(["name".to_owned(), "settings.timezone".to_owned()])
    );
    let answer = app
        .patch(&admin, "/v1/site", json!({"name": "x".repeat(201)}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_names(&answer), HashSet::from(["name".to_owned()]));

    let read = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(read.body["settings"]["timezone"], "UTC");
    assert_eq!(read.body["version"], 1);
}

#[tokio::test]
async fn unknown_settings_are_refused_not_dropped() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for settings in [
        json!({"no_such_setting": true}),
        json!({"timezone": "Europe/Dublin", "no_such_setting": true}),
    ] {
        let answer = app
            .patch(&admin, "/v1/site", json!({ "settings": settings }))
            .await
            .expect_problem(422, "validation_failed");
        let errors: Vec<(String, String)> = answer.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            errors,
            [(
                "settings.no_such_setting".to_owned(),
                "unknown_field".to_owned()
            )],
            "{settings}: {:#}",
            answer.body
        );
    }
    let read = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(read.body["settings"], json!({"timezone": "UTC"}));
    assert_eq!(read.body["version"], 1);
}

#[tokio::test]
async fn patch_site_honours_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let first = send(
        &app,
        Method::PATCH,
        "/v1/site",
        &admin,
        Some("\"1\""),
        Some(json!({"name": "First Writer"})),
    )
    .await
    .expect(200);
    assert_eq!(first.body["version"], 2);
    send(
        &app,
        Method::PATCH,
        "/v1/site",
        &admin,
        Some("\"1\""),
        Some(json!({"name": "Second Writer"})),
    )
    .await
    .expect_problem(412, "precondition_failed");
    let read = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(read.body["name"], "First Writer");
    let current = read.header("etag").unwrap().to_owned();
    send(
        &app,
        Method::PATCH,
        "/v1/site",
        &admin,
        Some(&current),
        Some(json!({"name": "Second Writer"})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn permissions_lists_the_catalogue_and_professions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let plain = user_with(&app, &admin, "plain@example.test", json!([])).await;
    let catalogue = app.get(&plain, "/v1/permissions").await.expect(200);

    let permissions = catalogue.body["permissions"].as_array().unwrap();
    let keys: Vec<&str> = permissions
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec![
            "site_admin",
            "clinic_admin",
            "start_soap_notes",
            "forward_soap_notes",
            "finish_soap_notes",
            "manage_schedule",
            "view_reports",
            "manage_billing",
            "view_users",
            "view_clinics",
            "view_site",
            "view_audit",
        ]
    );
    for permission in permissions {
        let key = permission["key"].as_str().unwrap();
        assert!(
            permission["label"].as_str().is_some_and(|l| !l.is_empty()),
            "{key} has no label"
        );
        assert!(
            permission["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{key} has no description"
        );
        assert_eq!(
            permission["soap_note"],
            key.ends_with("_soap_notes"),
            "{key}"
        );
        assert_eq!(
            permission["admin"],
            key == "site_admin" || key == "clinic_admin",
            "{key}"
        );
    }

    let professions = catalogue.body["professions"].as_array().unwrap();
    let keys: Vec<&str> = professions
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec![
            "PT", "OT", "SLP", "ATC", "PTA", "COTA", "SLPA", "RTT", "SPT", "SOT", "SSLP",
            "CLERICAL", "BILLING", "OTHER",
        ]
    );
    let assistants = ["PTA", "COTA", "SLPA", "RTT", "SPT", "SOT", "SSLP"];
    for profession in professions {
        let key = profession["key"].as_str().unwrap();
        assert_eq!(
            profession["assistant_or_student"],
            assistants.contains(&key),
            "{key}"
        );
        assert_eq!(
            profession["clerical_or_billing"],
            key == "CLERICAL" || key == "BILLING",
            "{key}"
        );
    }

    app.call(Method::GET, "/v1/permissions", None, None)
        .await
        .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn a_deployment_can_require_if_match() {
    let app = TestApp::spawn_with(Options {
        require_if_match: true,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    app.patch(&admin, "/v1/site", json!({"name": "Unconditional"}))
        .await
        .expect_problem(428, "precondition_required");
    let read = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(read.body["name"], "Test Practice");
    let tag = read.header("etag").unwrap().to_owned();
    send(
        &app,
        Method::PATCH,
        "/v1/site",
        &admin,
        Some(&tag),
        Some(json!({"name": "Conditional"})),
    )
    .await
    .expect(200);
}
