//! `/v1/clinics`: the locations of a site.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, PASSWORD, TestApp, enc, id_of, send};

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
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

async fn add_clinic(app: &TestApp, token: &str, name: &str) -> Value {
    app.post(token, "/v1/clinics", json!({"name": name}))
        .await
        .expect(201)
        .body
}

/// Every clinic of a list query, walking the pages with `limit`.
async fn walk(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = format!("/v1/clinics?limit={limit}");
        if !query.is_empty() {
            path.push('&');
            path.push_str(query);
        }
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", enc(c)));
        }
        let page = app.get(token, &path).await.expect(200);
        let items = page.body["items"].as_array().unwrap().clone();
        assert!(items.len() <= limit);
        all.extend(items.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), limit, "a short page with a next_cursor");
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(page.body["next_cursor"].is_null());
                return all;
            }
        }
    }
    panic!("pagination does not end");
}

async fn list(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    walk(app, token, query, 200).await
}

/// A user with `permissions` in `clinic_ids`, logged in.
async fn user_with(
    app: &TestApp,
    admin: &str,
    email: &str,
    permissions: Value,
    clinic_ids: Value,
) -> (String, String) {
    let user = app
        .create_user(
            admin,
            json!({
                "first_name": "Test",
                "last_name": "User",
                "email": email,
                "user_type": "non_clinical",
                "permissions": permissions,
                "clinic_ids": clinic_ids,
            }),
        )
        .await;
    (id_of(&user), app.login(email, PASSWORD).await)
}

#[tokio::test]
async fn a_new_site_has_its_main_clinic() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let page = app.get(&admin, "/v1/clinics").await.expect(200);
    assert!(page.body["next_cursor"].is_null());
    let items = page.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let main = &items[0];
    assert_eq!(main["id"], app.site.clinic_id.as_str());
    assert_eq!(main["name"], "Main");
    assert_eq!(main["assistants_may_finish_notes"], false);
    assert_eq!(main["version"], 1);
    assert!(main["created_at"].is_string());
}

#[tokio::test]
async fn create_and_read_a_clinic() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(&admin, "/v1/clinics", json!({"name": "  North Side  "}))
        .await
        .expect(201);
    let id = id_of(&created.body);
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/clinics/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.body["name"], "North Side");
    assert_eq!(created.body["assistants_may_finish_notes"], false);
    assert_eq!(created.body["version"], 1);

    let read = app
        .get(&admin, &format!("/v1/clinics/{id}"))
        .await
        .expect(200);
    assert_eq!(read.header("etag"), Some("\"1\""));
    assert_eq!(read.body, created.body);

    let finishing = app
        .post(
            &admin,
            "/v1/clinics",
            json!({"name": "South", "assistants_may_finish_notes": true}),
        )
        .await
        .expect(201);
    assert_eq!(finishing.body["assistants_may_finish_notes"], true);

    // Any user of the site may read clinics.
    let (_, plain) = user_with(
        &app,
        &admin,
        "plain@example.test",
        json!([]),
        json!([app.site.clinic_id]),
    )
    .await;
    app.get(&plain, &format!("/v1/clinics/{id}"))
        .await
        .expect(200);
    assert_eq!(list(&app, &plain, "").await.len(), 3);
}

#[tokio::test]
async fn list_is_paginated_in_creation_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in ["Zeta", "Alpha", "Mid", "Beta"] {
        add_clinic(&app, &admin, name).await;
    }
    let expected = vec!["Main", "Zeta", "Alpha", "Mid", "Beta"];
    for limit in [1, 2, 3, 5, 200] {
        let walked = walk(&app, &admin, "", limit).await;
        assert_eq!(names(&walked), expected, "limit={limit}");
    }
    let first = app.get(&admin, "/v1/clinics?limit=2").await.expect(200);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert!(first.body["next_cursor"].is_string());

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=garbage!", "cursor"),
    ] {
        let answer = app
            .get(&admin, &format!("/v1/clinics?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            field_names(&answer).contains(&field.to_owned()),
            "{query}: {:#}",
            answer.body
        );
    }
}

#[tokio::test]
async fn list_searches_names() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in ["Zeta", "Alpha", "Mid", "Beta"] {
        add_clinic(&app, &admin, name).await;
    }
    let search = |q: &str| {
        let (app, admin, q) = (&app, &admin, q.to_owned());
        async move { names(&list(app, admin, &format!("q={}", enc(&q))).await) }
    };
    assert_eq!(search("Alpha").await, vec!["Alpha"]);
    assert_eq!(search("lph").await, vec!["Alpha"]);
    assert!(search("nowhere").await.is_empty());
    // Pages of a search.
    assert_eq!(
        names(&walk(&app, &admin, "q=et", 1).await),
        vec!["Zeta", "Beta"]
    );
}

#[tokio::test]
async fn search_is_case_insensitive_and_literal() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in ["Zeta", "Alpha", "100% Care", "Under_Score", "UnderXScore"] {
        add_clinic(&app, &admin, name).await;
    }
    let search = |q: &str| {
        let (app, admin, q) = (&app, &admin, q.to_owned());
        async move { names(&list(app, admin, &format!("q={}", enc(&q))).await) }
    };
    assert_eq!(search("ALPHA").await, vec!["Alpha"]);
    assert_eq!(search("main").await, vec!["Main"]);
    assert_eq!(
        search("a").await,
        vec!["Main", "Zeta", "Alpha", "100% Care"]
    );
    assert_eq!(search("%").await, vec!["100% Care"]);
    assert_eq!(search("under_").await, vec!["Under_Score"]);
}

#[tokio::test]
async fn search_is_case_insensitive_beyond_ascii() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in ["Ärztehaus Süd", "Zürich"] {
        add_clinic(&app, &admin, name).await;
    }
    let search = |q: &str| {
        let (app, admin, q) = (&app, &admin, q.to_owned());
        async move { names(&list(app, admin, &format!("q={}", enc(&q))).await) }
    };
    assert_eq!(search("ärztehaus").await, vec!["Ärztehaus Süd"]);
    assert_eq!(search("SÜD").await, vec!["Ärztehaus Süd"]);
    assert_eq!(search("ZÜRICH").await, vec!["Zürich"]);
}

#[tokio::test]
async fn only_site_admins_create_clinics() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let (_, clinic_admin) = user_with(
        &app,
        &admin,
        "ca@example.test",
        json!(["clinic_admin"]),
        json!([main]),
    )
    .await;
    let (_, plain) = user_with(
        &app,
        &admin,
        "plain@example.test",
        json!(["manage_schedule"]),
        json!([main]),
    )
    .await;
    for token in [&clinic_admin, &plain] {
        app.post(token, "/v1/clinics", json!({"name": "Sneaky"}))
            .await
            .expect_problem(403, "forbidden");
    }
    assert_eq!(list(&app, &admin, "").await.len(), 1);
    app.call(
        Method::POST,
        "/v1/clinics",
        None,
        Some(json!({"name": "Anonymous"})),
    )
    .await
    .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn patch_renames_and_changes_settings_with_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let clinic = add_clinic(&app, &admin, "North").await;
    let path = format!("/v1/clinics/{}", id_of(&clinic));

    let renamed = send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"1\""),
        Some(json!({"name": "North Side"})),
    )
    .await
    .expect(200);
    assert_eq!(renamed.body["name"], "North Side");
    assert_eq!(renamed.body["version"], 2);
    assert_eq!(renamed.header("etag"), Some("\"2\""));
    assert_eq!(renamed.body["assistants_may_finish_notes"], false);

    send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"1\""),
        Some(json!({"name": "Lost Update"})),
    )
    .await
    .expect_problem(412, "precondition_failed");

    let flagged = send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"2\""),
        Some(json!({"assistants_may_finish_notes": true})),
    )
    .await
    .expect(200);
    assert_eq!(flagged.body["assistants_may_finish_notes"], true);
    assert_eq!(flagged.body["name"], "North Side");
    assert_eq!(flagged.body["version"], 3);

    // No change, no new version.
    let same = app
        .patch(
            &admin,
            &path,
            json!({"name": "North Side", "assistants_may_finish_notes": true}),
        )
        .await
        .expect(200);
    assert_eq!(same.body["version"], 3);

    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.header("etag"), Some("\"3\""));
    assert_eq!(read.body["name"], "North Side");
    assert_eq!(read.body["assistants_may_finish_notes"], true);
}

#[tokio::test]
async fn clinic_admins_patch_only_their_own_clinics() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = id_of(&add_clinic(&app, &admin, "North").await);
    let (_, clinic_admin) = user_with(
        &app,
        &admin,
        "ca@example.test",
        json!(["clinic_admin"]),
        json!([main]),
    )
    .await;
    let (_, plain) = user_with(
        &app,
        &admin,
        "plain@example.test",
        json!(["view_reports"]),
        json!([main]),
    )
    .await;

    let own = app
        .patch(
            &clinic_admin,
            &format!("/v1/clinics/{main}"),
            json!({"assistants_may_finish_notes": true}),
        )
        .await
        .expect(200);
    assert_eq!(own.body["assistants_may_finish_notes"], true);

    app.patch(
        &clinic_admin,
        &format!("/v1/clinics/{north}"),
        json!({"name": "Taken Over"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.patch(
        &plain,
        &format!("/v1/clinics/{main}"),
        json!({"name": "Renamed"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let read = app
        .get(&admin, &format!("/v1/clinics/{north}"))
        .await
        .expect(200);
    assert_eq!(read.body["name"], "North");
    assert_eq!(read.body["version"], 1);

    // Deleting is for site admins only.
    app.delete(&clinic_admin, &format!("/v1/clinics/{north}"))
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn the_last_clinic_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    app.delete(&admin, &format!("/v1/clinics/{main}"))
        .await
        .expect_problem(409, "last_clinic");
    app.get(&admin, &format!("/v1/clinics/{main}"))
        .await
        .expect(200);
}

#[tokio::test]
async fn a_default_clinic_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let north = id_of(&add_clinic(&app, &admin, "North").await);
    let (user_id, _) = user_with(
        &app,
        &admin,
        "north@example.test",
        json!([]),
        json!([north]),
    )
    .await;
    app.delete(&admin, &format!("/v1/clinics/{north}"))
        .await
        .expect_problem(409, "clinic_in_use");

    // Still in use while that user is inactive: the record keeps its default.
    app.call(
        Method::POST,
        &format!("/v1/users/{user_id}/deactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    app.delete(&admin, &format!("/v1/clinics/{north}"))
        .await
        .expect_problem(409, "clinic_in_use");
    let user = app
        .get(&admin, &format!("/v1/users/{user_id}"))
        .await
        .expect(200);
    assert_eq!(user.body["clinic_ids"], json!([north]));
    app.get(&admin, &format!("/v1/clinics/{north}"))
        .await
        .expect(200);
}

#[tokio::test]
async fn deleting_a_clinic_removes_every_users_access() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = id_of(&add_clinic(&app, &admin, "North").await);
    let south = id_of(&add_clinic(&app, &admin, "South").await);
    let (with_access, _) = user_with(
        &app,
        &admin,
        "both@example.test",
        json!([]),
        json!([main, north]),
    )
    .await;
    let (without_access, _) = user_with(
        &app,
        &admin,
        "south@example.test",
        json!([]),
        json!([main, south]),
    )
    .await;
    let before = app
        .get(&admin, &format!("/v1/users/{with_access}"))
        .await
        .expect(200);
    let untouched_before = app
        .get(&admin, &format!("/v1/users/{without_access}"))
        .await
        .expect(200);

    // A stale If-Match refuses the delete.
    send(
        &app,
        Method::DELETE,
        &format!("/v1/clinics/{north}"),
        &admin,
        Some("\"7\""),
        None,
    )
    .await
    .expect_problem(412, "precondition_failed");

    let deleted = send(
        &app,
        Method::DELETE,
        &format!("/v1/clinics/{north}"),
        &admin,
        Some("\"1\""),
        None,
    )
    .await
    .expect(204);
    assert!(deleted.body.is_null());

    app.get(&admin, &format!("/v1/clinics/{north}"))
        .await
        .expect_problem(404, "not_found");
    app.delete(&admin, &format!("/v1/clinics/{north}"))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(names(&list(&app, &admin, "").await), vec!["Main", "South"]);

    let after = app
        .get(&admin, &format!("/v1/users/{with_access}"))
        .await
        .expect(200);
    assert_eq!(after.body["clinic_ids"], json!([main]));
    assert_eq!(after.body["default_clinic_id"], main.as_str());
    assert_eq!(
        after.body["version"].as_i64().unwrap(),
        before.body["version"].as_i64().unwrap() + 1
    );
    assert_eq!(
        after.header("etag"),
        Some(format!("\"{}\"", after.body["version"]).as_str())
    );
    let untouched = app
        .get(&admin, &format!("/v1/users/{without_access}"))
        .await
        .expect(200);
    assert_eq!(untouched.body, untouched_before.body);

    // The user list by clinic no longer knows it.
    let by_clinic = app
        .get(&admin, &format!("/v1/users?clinic_id={north}"))
        .await
        .expect(200);
    assert_eq!(by_clinic.body["items"], json!([]));
}

#[tokio::test]
async fn names_are_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in [json!(""), json!("   "), json!("n".repeat(201))] {
        let answer = app
            .post(&admin, "/v1/clinics", json!({"name": name}))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(field_names(&answer), vec!["name"], "{:#}", answer.body);
    }
    let answer = app
        .post(&admin, "/v1/clinics", json!({}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_names(&answer), vec!["name"]);
    let answer = app
        .post(&admin, "/v1/clinics", json!({"name": 42}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_names(&answer), vec!["name"]);

    let main = app.site.clinic_id.clone();
    for name in [json!(""), json!("n".repeat(201))] {
        let answer = app
            .patch(
                &admin,
                &format!("/v1/clinics/{main}"),
                json!({"name": name}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(field_names(&answer), vec!["name"], "{:#}", answer.body);
    }
    let read = app
        .get(&admin, &format!("/v1/clinics/{main}"))
        .await
        .expect(200);
    assert_eq!(read.body["name"], "Main");
    assert_eq!(read.body["version"], 1);
}

#[tokio::test]
async fn unknown_and_foreign_clinics_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), other.clinic_id.as_str()] {
        let path = format!("/v1/clinics/{id}");
        app.get(&admin, &path)
            .await
            .expect_problem(404, "not_found");
        app.patch(&admin, &path, json!({"name": "Mine Now"}))
            .await
            .expect_problem(404, "not_found");
        app.delete(&admin, &path)
            .await
            .expect_problem(404, "not_found");
    }
    let other_admin = app.login("boss@elsewhere.test", PASSWORD).await;
    let theirs = list(&app, &other_admin, "").await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["id"], other.clinic_id.as_str());
    assert_eq!(theirs[0]["name"], "Main");
}

#[tokio::test]
async fn a_deployment_can_require_if_match() {
    let app = TestApp::spawn_with(staffroom_tests::Options {
        require_if_match: true,
        ..staffroom_tests::Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    let north = add_clinic(&app, &admin, "North").await;
    let path = format!("/v1/clinics/{}", id_of(&north));
    app.patch(&admin, &path, json!({"name": "North Side"}))
        .await
        .expect_problem(428, "precondition_required");
    app.delete(&admin, &path)
        .await
        .expect_problem(428, "precondition_required");
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["name"], "North");
    send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"1\""),
        Some(json!({"name": "North Side"})),
    )
    .await
    .expect(200);
    send(&app, Method::DELETE, &path, &admin, Some("\"2\""), None)
        .await
        .expect(204);
}
