#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `PUT /v1/users/{id}/type` (SPEC §2, seed 003): site administrators only; the lists follow
//! at once, the diary at the user's next login; no-ops, tenancy, audit and `If-Match`.

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, Options, PASSWORD, TestApp, id_of, send};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn email_of(first: &str) -> String {
    format!("{}@example.test", first.to_lowercase())
}

fn version_of(value: &Value) -> i64 {
    value["version"].as_i64().unwrap()
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Creates a user at the site's main clinic (who can log in with the harness password).
async fn user(app: &TestApp, admin: &str, first: &str, user_type: &str) -> Value {
    app.create_user(
        admin,
        json!({
            "first_name": first,
            "last_name": "Typed",
            "email": email_of(first),
            "user_type": user_type,
            "clinic_ids": [app.site.clinic_id],
        }),
    )
    .await
}

/// A user holding `permissions` at the main clinic, and their token.
async fn user_with(
    app: &TestApp,
    admin: &str,
    first: &str,
    permissions: Value,
) -> (String, String) {
    let created = app
        .create_user(
            admin,
            json!({
                "first_name": first,
                "last_name": "Actor",
                "email": email_of(first),
                "user_type": "non_clinical",
                "permissions": permissions,
                "clinic_ids": [app.site.clinic_id],
            }),
        )
        .await;
    (id_of(&created), app.login(&email_of(first), PASSWORD).await)
}

async fn set_type(app: &TestApp, token: &str, id: &str, user_type: &str) -> Answer {
    send(
        app,
        Method::PUT,
        &format!("/v1/users/{id}/type"),
        token,
        None,
        Some(json!({"user_type": user_type})),
    )
    .await
}

async fn get_user(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(token, &format!("/v1/users/{id}"))
        .await
        .expect(200)
        .body
}

/// Ids of one tab of the admin screen (`?user_type=...`), every page at once.
async fn tab(app: &TestApp, token: &str, user_type: &str) -> Vec<String> {
    let page = app
        .get(token, &format!("/v1/users?user_type={user_type}&limit=200"))
        .await
        .expect(200);
    assert!(page.body["next_cursor"].is_null());
    page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}

async fn audit(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    app.get(admin, &format!("/v1/audit-events?{query}&limit=200"))
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

// ---------------------------------------------------------------------------------------
// Who may change a type
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn only_site_admins_change_a_users_type() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let target = user(&app, &admin, "Carla", "clinical").await;
    let id = id_of(&target);
    // The clinic administrator shares the main clinic with Carla and administers her
    // otherwise; a type change still needs site_admin.
    let (_, clinic_admin) = user_with(&app, &admin, "Clinicadmin", json!(["clinic_admin"])).await;
    app.patch(
        &clinic_admin,
        &format!("/v1/users/{id}"),
        json!({"title": "Dr"}),
    )
    .await
    .expect(200);
    let (_, plain) = user_with(
        &app,
        &admin,
        "Plain",
        json!(["manage_schedule", "view_reports"]),
    )
    .await;
    let before = get_user(&app, &admin, &id).await;
    for token in [&clinic_admin, &plain] {
        for user_type in ["non_clinical", "clinical"] {
            set_type(&app, token, &id, user_type)
                .await
                .expect_problem(403, "forbidden");
        }
    }
    assert_eq!(get_user(&app, &admin, &id).await, before);
    app.call(
        Method::PUT,
        &format!("/v1/users/{id}/type"),
        None,
        Some(json!({"user_type": "non_clinical"})),
    )
    .await
    .expect_problem(401, "invalid_token");
    assert!(
        audit(&app, &admin, "action=user.type_changed")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn another_sites_user_is_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;
    let foreign = app
        .create_user(
            &other_admin,
            json!({
                "first_name": "Bertha",
                "last_name": "Benz",
                "email": "bertha@elsewhere.test",
                "user_type": "clinical",
            }),
        )
        .await;
    let foreign_id = id_of(&foreign);
    set_type(&app, &admin, &foreign_id, "non_clinical")
        .await
        .expect_problem(404, "not_found");
    set_type(&app, &admin, &other.admin_id.to_string(), "clinical")
        .await
        .expect_problem(404, "not_found");
    set_type(&app, &admin, &uuid::Uuid::new_v4().to_string(), "clinical")
        .await
        .expect_problem(404, "not_found");
    let after = get_user(&app, &other_admin, &foreign_id).await;
    assert_eq!(after["user_type"], "clinical");
    assert_eq!(version_of(&after), version_of(&foreign));
}

#[tokio::test]
async fn the_body_is_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = id_of(&user(&app, &admin, "Carla", "clinical").await);
    let path = format!("/v1/users/{id}/type");
    for body in [
        json!({"user_type": "robot"}),
        json!({}),
        json!({"user_type": null}),
        json!({"user_type": "clinical", "extra": 1}),
    ] {
        let answer = send(&app, Method::PUT, &path, &admin, None, Some(body.clone()))
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            answer.body["errors"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "{body}: {:#}",
            answer.body
        );
    }
    let answer = send(
        &app,
        Method::PUT,
        &path,
        &admin,
        None,
        Some(json!({"user_type": "robot"})),
    )
    .await;
    assert!(
        answer.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "user_type"),
        "{:#}",
        answer.body
    );
    let raw = app
        .client
        .put(app.url(&path))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    TestApp::answer(raw)
        .await
        .expect_problem(400, "malformed_body");
    assert_eq!(get_user(&app, &admin, &id).await["user_type"], "clinical");
}

// ---------------------------------------------------------------------------------------
// The list follows at once
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_user_list_reflects_the_new_type_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    let (carla, nina) = (id_of(&carla), id_of(&nina));
    assert_eq!(tab(&app, &admin, "clinical").await, vec![carla.clone()]);
    let non_clinical = tab(&app, &admin, "non_clinical").await;
    assert!(non_clinical.contains(&nina) && non_clinical.contains(&admin_id));
    assert_eq!(non_clinical.len(), 2);

    let before = get_user(&app, &admin, &carla).await;
    let switched = set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    assert_eq!(switched.body["user_type"], "non_clinical");
    assert_eq!(switched.body["id"], carla.as_str());
    assert_eq!(version_of(&switched.body), version_of(&before) + 1);
    assert_eq!(
        switched.header("etag"),
        Some(etag(version_of(&before) + 1).as_str())
    );

    assert!(tab(&app, &admin, "clinical").await.is_empty());
    let non_clinical = tab(&app, &admin, "non_clinical").await;
    assert!(non_clinical.contains(&carla), "{non_clinical:?}");
    assert_eq!(non_clinical.len(), 3);
    assert_eq!(
        get_user(&app, &admin, &carla).await["user_type"],
        "non_clinical"
    );

    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    assert_eq!(tab(&app, &admin, "clinical").await, vec![nina.clone()]);
    assert!(!tab(&app, &admin, "non_clinical").await.contains(&nina));

    // The tabs combine with the other filters, and the search sees the new type too.
    let page = app
        .get(&admin, "/v1/users?user_type=clinical&status=active&q=nina")
        .await
        .expect(200);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// The diary follows at the next login
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_user_created_as_clinical_has_a_diary_before_ever_logging_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // No password: this user cannot even log in yet.
    let clinical = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "Carla",
                "last_name": "Fresh",
                "email": "carla@example.test",
                "user_type": "clinical",
            }),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(clinical["diary_enabled"], true);
    assert!(clinical["last_login_at"].is_null());
    assert_eq!(clinical["has_password"], false);
    assert_eq!(
        get_user(&app, &admin, &id_of(&clinical)).await["diary_enabled"],
        true
    );

    let non_clinical = user(&app, &admin, "Nina", "non_clinical").await;
    assert_eq!(non_clinical["diary_enabled"], false);
    assert!(non_clinical["last_login_at"].is_null());
}

#[tokio::test]
async fn the_diary_follows_the_type_at_the_users_next_login_in_both_directions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    let id = id_of(&nina);
    assert_eq!(nina["diary_enabled"], false);

    // Non-clinical → clinical: the type changes, the diary does not (yet).
    let switched = set_type(&app, &admin, &id, "clinical").await.expect(200);
    assert_eq!(switched.body["user_type"], "clinical");
    assert_eq!(switched.body["diary_enabled"], false);
    let version_after_switch = version_of(&switched.body);
    // Other changes and other people's logins do not start it either.
    app.patch(&admin, &format!("/v1/users/{id}"), json!({"title": "Dr"}))
        .await
        .expect(200);
    let admin = app.admin_token().await;
    let unchanged = get_user(&app, &admin, &id).await;
    assert_eq!(unchanged["diary_enabled"], false);
    assert!(unchanged["last_login_at"].is_null());

    // Her own login does.
    let nina_token = app.login(&email_of("Nina"), PASSWORD).await;
    let after_login = get_user(&app, &admin, &id).await;
    assert_eq!(after_login["diary_enabled"], true);
    assert!(after_login["last_login_at"].is_string());
    assert_eq!(after_login["user_type"], "clinical");
    // The representation changed, so the version moved.
    assert!(version_of(&after_login) > version_of(&unchanged));
    assert!(version_of(&unchanged) > version_after_switch);
    // She sees the same about herself.
    assert_eq!(
        get_user(&app, &nina_token, &id).await["diary_enabled"],
        true
    );

    // A second login changes nothing about the diary, nor the version.
    app.login(&email_of("Nina"), PASSWORD).await;
    let again = get_user(&app, &admin, &id).await;
    assert_eq!(again["diary_enabled"], true);
    assert_eq!(version_of(&again), version_of(&after_login));

    // Clinical → non-clinical: the diary stays until her next login.
    let back = set_type(&app, &admin, &id, "non_clinical")
        .await
        .expect(200);
    assert_eq!(back.body["user_type"], "non_clinical");
    assert_eq!(back.body["diary_enabled"], true);
    assert_eq!(get_user(&app, &admin, &id).await["diary_enabled"], true);
    app.login(&email_of("Nina"), PASSWORD).await;
    let gone = get_user(&app, &admin, &id).await;
    assert_eq!(gone["diary_enabled"], false);
    assert_eq!(gone["user_type"], "non_clinical");
}

#[tokio::test]
async fn switching_back_before_logging_in_leaves_the_diary_as_it_was() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let id = id_of(&carla);
    set_type(&app, &admin, &id, "non_clinical")
        .await
        .expect(200);
    set_type(&app, &admin, &id, "clinical").await.expect(200);
    app.login(&email_of("Carla"), PASSWORD).await;
    let after = get_user(&app, &admin, &id).await;
    assert_eq!(after["user_type"], "clinical");
    assert_eq!(after["diary_enabled"], true);
}

#[tokio::test]
async fn a_deactivated_user_keeps_the_pending_diary_change_until_they_log_in_again() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let nina = id_of(&user(&app, &admin, "Nina", "non_clinical").await);
    app.call(
        Method::POST,
        &format!("/v1/users/{nina}/deactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    // Inactive users may change type (they hold no licence); the diary waits.
    let switched = set_type(&app, &admin, &nina, "clinical").await.expect(200);
    assert_eq!(switched.body["status"], "inactive");
    assert_eq!(switched.body["diary_enabled"], false);
    app.call(
        Method::POST,
        &format!("/v1/users/{nina}/reactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    assert_eq!(get_user(&app, &admin, &nina).await["diary_enabled"], false);
    app.login(&email_of("Nina"), PASSWORD).await;
    assert_eq!(get_user(&app, &admin, &nina).await["diary_enabled"], true);
}

// ---------------------------------------------------------------------------------------
// No-ops, If-Match and audit
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_same_type_is_a_no_op() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let id = id_of(&carla);
    let answer = set_type(&app, &admin, &id, "clinical").await.expect(200);
    assert_eq!(answer.body["user_type"], "clinical");
    assert_eq!(version_of(&answer.body), version_of(&carla));
    assert_eq!(
        answer.header("etag"),
        Some(etag(version_of(&carla)).as_str())
    );
    assert_eq!(answer.body["updated_at"], carla["updated_at"]);
    assert_eq!(get_user(&app, &admin, &id).await, carla);
    assert!(
        audit(
            &app,
            &admin,
            &format!("action=user.type_changed&target_id={id}")
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn the_same_type_is_a_no_op_even_when_the_plan_is_full() {
    let app = TestApp::spawn_with(Options {
        plan: staffroom_domain::LicencePlan::Solo,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let answer = set_type(&app, &admin, &id_of(&carla), "clinical")
        .await
        .expect(200);
    assert_eq!(version_of(&answer.body), version_of(&carla));
    set_type(&app, &admin, &app.site.admin_id.to_string(), "non_clinical")
        .await
        .expect(200);
}

#[tokio::test]
async fn type_change_honours_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let id = id_of(&carla);
    let path = format!("/v1/users/{id}/type");
    let current = etag(version_of(&carla));

    let stale = send(
        &app,
        Method::PUT,
        &path,
        &admin,
        Some("\"12345\""),
        Some(json!({"user_type": "non_clinical"})),
    )
    .await
    .expect_problem(412, "precondition_failed");
    assert_eq!(stale.body["current_etag"], current.as_str());
    assert_eq!(get_user(&app, &admin, &id).await["user_type"], "clinical");

    let changed = send(
        &app,
        Method::PUT,
        &path,
        &admin,
        Some(&current),
        Some(json!({"user_type": "non_clinical"})),
    )
    .await
    .expect(200);
    assert_eq!(changed.body["user_type"], "non_clinical");

    // The tag it was changed with is stale now.
    send(
        &app,
        Method::PUT,
        &path,
        &admin,
        Some(&current),
        Some(json!({"user_type": "clinical"})),
    )
    .await
    .expect_problem(412, "precondition_failed");
    assert_eq!(
        get_user(&app, &admin, &id).await["user_type"],
        "non_clinical"
    );
    let new_tag = changed.header("etag").unwrap().to_owned();
    send(
        &app,
        Method::PUT,
        &path,
        &admin,
        Some(&new_tag),
        Some(json!({"user_type": "clinical"})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn type_change_needs_if_match_when_the_deployment_requires_it() {
    let app = TestApp::spawn_with(Options {
        require_if_match: true,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let id = id_of(&carla);
    set_type(&app, &admin, &id, "non_clinical")
        .await
        .expect_problem(428, "precondition_required");
    send(
        &app,
        Method::PUT,
        &format!("/v1/users/{id}/type"),
        &admin,
        Some(&etag(version_of(&carla))),
        Some(json!({"user_type": "non_clinical"})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn type_change_is_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let id = id_of(&carla);
    let answer = send(
        &app,
        Method::PUT,
        &format!("/v1/users/{id}/type"),
        &admin,
        None,
        Some(json!({"user_type": "non_clinical"})),
    )
    .await
    .expect(200);
    let request_id = answer.header("x-request-id").unwrap().to_owned();

    let events = audit(
        &app,
        &admin,
        &format!("action=user.type_changed&target_id={id}"),
    )
    .await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["target_type"], "user");
    assert_eq!(event["target_id"], id.as_str());
    assert_eq!(event["actor_kind"], "user");
    assert_eq!(event["actor_id"], admin_id.as_str());
    assert_eq!(event["request_id"], request_id.as_str());
    assert_eq!(event["before"]["user_type"], "clinical");
    assert_eq!(event["after"]["user_type"], "non_clinical");
    assert_eq!(event["after"]["diary_enabled"], true);

    // A refused change writes nothing.
    let solo = TestApp::spawn_with(Options {
        plan: staffroom_domain::LicencePlan::Solo,
        ..Default::default()
    })
    .await;
    let solo_admin = solo.admin_token().await;
    let solo_carla = id_of(&user(&solo, &solo_admin, "Carla", "clinical").await);
    set_type(&solo, &solo_admin, &solo_carla, "non_clinical")
        .await
        .expect_problem(409, "solo_slot_taken");
    assert!(
        audit(&solo, &solo_admin, "action=user.type_changed")
            .await
            .is_empty()
    );

    // The diary switching at the next login is a change of its own, made by the user.
    app.login(&email_of("Carla"), PASSWORD).await;
    let diary = audit(
        &app,
        &admin,
        &format!("target_id={id}&action=user.diary_disabled"),
    )
    .await;
    assert_eq!(diary.len(), 1, "{diary:#?}");
    assert_eq!(diary[0]["actor_id"], id.as_str());
    assert_eq!(diary[0]["before"]["diary_enabled"], true);
    assert_eq!(diary[0]["after"]["diary_enabled"], false);
}
