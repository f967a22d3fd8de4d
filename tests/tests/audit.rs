//! `GET /v1/audit-events`: one event per change with who, what, before and after; filters,
//! newest-first cursor pagination, and site administrators only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, PASSWORD, TestApp, enc, id_of};

/// Sends a request with extra headers and an optional JSON body.
async fn send(
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

fn new_user(first: &str, email: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": "Audited",
        "email": email,
        "user_type": "clinical",
    })
}

fn str_of<'a>(event: &'a Value, key: &str) -> &'a str {
    event[key].as_str().unwrap_or("")
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| str_of(e, "action").to_owned())
        .collect()
}

fn event_ids(events: &[Value]) -> Vec<String> {
    events.iter().map(id_of).collect()
}

/// Every event of a query, in one page.
async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let sep = if query.is_empty() { "" } else { "&" };
    let page = app
        .get(token, &format!("/v1/audit-events?{query}{sep}limit=200"))
        .await
        .expect(200);
    assert!(page.body["next_cursor"].is_null());
    page.body["items"].as_array().unwrap().clone()
}

async fn deactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("/v1/users/{id}/deactivate"),
        Some(token),
        None,
    )
    .await
}

async fn reactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("/v1/users/{id}/reactivate"),
        Some(token),
        None,
    )
    .await
}

fn assert_by(event: &Value, actor_kind: &str, actor_id: &str) {
    assert_eq!(event["actor_kind"], actor_kind, "{event:#}");
    assert_eq!(event["actor_id"], actor_id, "{event:#}");
    assert!(event["id"].is_string());
    assert!(event["occurred_at"].is_string());
}

#[tokio::test]
async fn user_changes_write_one_event_each() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();

    let created = send(
        &app,
        Method::POST,
        "/v1/users",
        &admin,
        &[("X-Request-Id", "audit-create-1")],
        Some(json!({
            "first_name": "Olive",
            "last_name": "Audited",
            "email": "olive@example.test",
            "user_type": "clinical",
            "initial_password": PASSWORD,
        })),
    )
    .await
    .expect(201);
    let id = id_of(&created.body);
    let path = format!("/v1/users/{id}");
    app.patch(&admin, &path, json!({"first_name": "Olivia"}))
        .await
        .expect(200);
    deactivate(&app, &admin, &id).await.expect(200);
    reactivate(&app, &admin, &id).await.expect(200);

    let trail = events(&app, &admin, &format!("target_id={id}")).await;
    assert_eq!(
        actions(&trail),
        vec![
            "user.reactivated",
            "user.deactivated",
            "user.updated",
            "user.created"
        ]
    );
    for event in &trail {
        assert_by(event, "user", &admin_id);
        assert_eq!(event["target_type"], "user");
        assert_eq!(event["target_id"], id.as_str());
        assert!(event["request_id"].is_string(), "{event:#}");
    }
    let (reactivated, deactivated, updated, created_event) =
        (&trail[0], &trail[1], &trail[2], &trail[3]);

    assert!(created_event["before"].is_null());
    assert_eq!(created_event["after"]["email"], "olive@example.test");
    assert_eq!(created_event["after"]["first_name"], "Olive");
    assert_eq!(created_event["after"]["status"], "active");
    assert_eq!(created_event["request_id"], "audit-create-1");
    assert_eq!(created.header("x-request-id"), Some("audit-create-1"));
    let recorded = created_event["after"].to_string();
    assert!(
        !recorded.contains("argon2") && !recorded.contains(PASSWORD),
        "no password material in the audit log: {recorded}"
    );

    assert_eq!(updated["before"]["first_name"], "Olive");
    assert_eq!(updated["after"]["first_name"], "Olivia");
    assert_eq!(updated["after"]["version"], 2);

    assert_eq!(deactivated["before"]["status"], "active");
    assert_eq!(deactivated["after"]["status"], "inactive");
    assert_eq!(reactivated["before"]["status"], "inactive");
    assert_eq!(reactivated["after"]["status"], "active");

    // Every request has its own id.
    let request_ids: std::collections::HashSet<&str> =
        trail.iter().map(|e| str_of(e, "request_id")).collect();
    assert_eq!(request_ids.len(), 4);
}

#[tokio::test]
async fn clinic_changes_write_one_event_each() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let clinic = app
        .post(&admin, "/v1/clinics", json!({"name": "North"}))
        .await
        .expect(201)
        .body;
    let id = id_of(&clinic);
    let path = format!("/v1/clinics/{id}");
    app.patch(&admin, &path, json!({"name": "North Side"}))
        .await
        .expect(200);
    app.patch(&admin, &path, json!({"assistants_may_finish_notes": true}))
        .await
        .expect(200);
    app.delete(&admin, &path).await.expect(204);

    let trail = events(&app, &admin, &format!("target_id={id}")).await;
    assert_eq!(
        actions(&trail),
        vec![
            "clinic.deleted",
            "clinic.updated",
            "clinic.updated",
            "clinic.created"
        ]
    );
    for event in &trail {
        assert_by(event, "user", &admin_id);
        assert_eq!(event["target_type"], "clinic");
        assert_eq!(event["target_id"], id.as_str());
    }
    assert!(trail[3]["before"].is_null());
    assert_eq!(trail[3]["after"]["name"], "North");
    assert_eq!(trail[2]["before"]["name"], "North");
    assert_eq!(trail[2]["after"]["name"], "North Side");
    assert_eq!(trail[1]["before"]["assistants_may_finish_notes"], false);
    assert_eq!(trail[1]["after"]["assistants_may_finish_notes"], true);
    assert_eq!(trail[0]["before"]["name"], "North Side");
}

#[tokio::test]
async fn site_updates_write_one_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site_id = app.site.site_id.to_string();
    app.patch(
        &admin,
        "/v1/site",
        json!({"name": "Riverside", "settings": {"timezone": "Europe/Dublin"}}),
    )
    .await
    .expect(200);

    let trail = events(&app, &admin, "action=site.updated").await;
    assert_eq!(trail.len(), 1);
    let event = &trail[0];
    assert_by(event, "user", &app.site.admin_id.to_string());
    assert_eq!(event["target_type"], "site");
    assert_eq!(event["target_id"], site_id.as_str());
    assert_eq!(event["before"]["name"], "Test Practice");
    assert_eq!(event["before"]["settings"]["timezone"], "UTC");
    assert_eq!(event["after"]["name"], "Riverside");
    assert_eq!(event["after"]["settings"]["timezone"], "Europe/Dublin");
}

#[tokio::test]
async fn service_accounts_are_audited_and_audit_their_own_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let account = app
        .post(
            &admin,
            "/v1/service-accounts",
            json!({"name": "Provisioning", "permissions": ["site_admin"]}),
        )
        .await
        .expect(201)
        .body;
    let account_id = id_of(&account);
    let secret = account["client_secret"].as_str().unwrap().to_owned();

    // The account's own changes name it as the actor.
    let token = app
        .call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(json!({
                "grant_type": "client_credentials",
                "client_id": account["client_id"],
                "client_secret": secret,
            })),
        )
        .await
        .expect(200)
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = app
        .create_user(&token, new_user("Robo", "robo@example.test"))
        .await;
    let by_service = events(&app, &admin, &format!("actor_id={account_id}")).await;
    assert_eq!(actions(&by_service), vec!["user.created"]);
    assert_by(&by_service[0], "service", &account_id);
    assert_eq!(by_service[0]["target_id"], id_of(&user).as_str());

    app.delete(&admin, &format!("/v1/service-accounts/{account_id}"))
        .await
        .expect(204);

    let trail = events(&app, &admin, &format!("target_id={account_id}")).await;
    assert_eq!(
        actions(&trail),
        vec!["service_account.revoked", "service_account.created"]
    );
    for event in &trail {
        assert_by(event, "user", &admin_id);
        assert_eq!(event["target_type"], "service_account");
    }
    assert!(trail[1]["before"].is_null());
    assert_eq!(trail[1]["after"]["name"], "Provisioning");
    assert_eq!(trail[0]["before"]["name"], "Provisioning");
    for event in &trail {
        let recorded = event.to_string();
        assert!(
            !recorded.contains(&secret),
            "the client secret is never recorded: {recorded}"
        );
    }
}

#[tokio::test]
async fn events_filter_by_action_target_and_actor() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let first = id_of(
        &app.create_user(&admin, new_user("First", "first@example.test"))
            .await,
    );
    let mut body = new_user("Second", "second@example.test");
    body["user_type"] = json!("non_clinical");
    body["permissions"] = json!(["site_admin"]);
    let second = id_of(&app.create_user(&admin, body).await);
    let second_token = app.login("second@example.test", PASSWORD).await;
    let third = id_of(
        &app.create_user(&second_token, new_user("Third", "third@example.test"))
            .await,
    );
    app.patch(
        &second_token,
        &format!("/v1/users/{first}"),
        json!({"first_name": "Firstly"}),
    )
    .await
    .expect(200);

    let created = events(&app, &admin, "action=user.created").await;
    assert_eq!(
        created
            .iter()
            .map(|e| str_of(e, "target_id").to_owned())
            .collect::<Vec<_>>(),
        vec![
            third.clone(),
            second.clone(),
            first.clone(),
            admin_id.clone()
        ]
    );
    assert!(created.iter().all(|e| e["action"] == "user.created"));
    // The bootstrap's own events are the operator's.
    assert_eq!(created[3]["actor_kind"], "system");

    let by_second = events(&app, &admin, &format!("actor_id={second}")).await;
    assert_eq!(actions(&by_second), vec!["user.updated", "user.created"]);
    assert!(by_second.iter().all(|e| e["actor_id"] == second.as_str()));

    let by_admin = events(&app, &admin, &format!("actor_id={admin_id}")).await;
    assert_eq!(
        by_admin
            .iter()
            .map(|e| str_of(e, "target_id").to_owned())
            .collect::<Vec<_>>(),
        vec![second.clone(), first.clone()]
    );

    let about_first = events(&app, &admin, &format!("target_id={first}")).await;
    assert_eq!(actions(&about_first), vec!["user.updated", "user.created"]);

    let combined = events(
        &app,
        &admin,
        &format!("action=user.created&actor_id={second}"),
    )
    .await;
    assert_eq!(combined.len(), 1);
    assert_eq!(combined[0]["target_id"], third.as_str());

    // The filter takes the actions the log holds; anything else is a mistake, not a filter.
    let unknown = app
        .get(&admin, "/v1/audit-events?action=no.such.action")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        unknown.body["errors"][0]["field"], "action",
        "{:#}",
        unknown.body
    );
    assert!(
        events(&app, &admin, "action=clinic.deleted")
            .await
            .is_empty(),
        "an action that did not happen filters everything out"
    );
    assert!(
        events(&app, &admin, "target_type=clinic").await.is_empty(),
        "no clinic was changed"
    );
    assert_eq!(events(&app, &admin, "target_type=user").await.len(), 5);
}

#[tokio::test]
async fn events_filter_by_time() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for n in 0..4 {
        app.create_user(&admin, new_user("Timed", &format!("timed{n}@example.test")))
            .await;
    }
    let all = events(&app, &admin, "").await;
    assert_eq!(all.len(), 6, "site.created, the admin and four users");

    // Cut at the second-newest user's event: `since` includes it, `until` excludes it.
    let cut = &all[2];
    let at = enc(str_of(cut, "occurred_at"));
    let since = events(&app, &admin, &format!("since={at}")).await;
    assert_eq!(event_ids(&since), event_ids(&all[..3]));
    let until = events(&app, &admin, &format!("until={at}")).await;
    assert_eq!(event_ids(&until), event_ids(&all[3..]));

    // A window holding exactly one event.
    let newer = enc(str_of(&all[1], "occurred_at"));
    let window = events(&app, &admin, &format!("since={at}&until={newer}")).await;
    assert_eq!(event_ids(&window), vec![id_of(cut)]);

    // The future holds nothing; the distant past holds everything.
    assert!(
        events(&app, &admin, "since=2999-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    assert_eq!(
        events(&app, &admin, "since=2000-01-01T00:00:00Z")
            .await
            .len(),
        6
    );
    assert!(
        events(&app, &admin, "until=2000-01-01T00:00:00Z")
            .await
            .is_empty()
    );

    for (query, field) in [("since=yesterday", "since"), ("until=13", "until")] {
        let answer = app
            .get(&admin, &format!("/v1/audit-events?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = answer.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{query}: {:#}", answer.body);
    }
}

#[tokio::test]
async fn events_are_newest_first_and_paginated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut created = Vec::new();
    for n in 0..5 {
        let user = app
            .create_user(&admin, new_user("Paged", &format!("paged{n}@example.test")))
            .await;
        created.push(id_of(&user));
    }
    let all = events(&app, &admin, "").await;
    let mut expected: Vec<String> = created.iter().rev().cloned().collect();
    expected.push(app.site.admin_id.to_string());
    expected.push(app.site.site_id.to_string());
    assert_eq!(
        all.iter()
            .map(|e| str_of(e, "target_id").to_owned())
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(all.last().unwrap()["action"], "site.created");

    for limit in [1, 2, 3] {
        let mut walked = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..20 {
            let mut path = format!("/v1/audit-events?limit={limit}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", enc(c)));
            }
            let page = app.get(&admin, &path).await.expect(200);
            let items = page.body["items"].as_array().unwrap().clone();
            assert!(items.len() <= limit);
            walked.extend(items.iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(next) => {
                    assert_eq!(items.len(), limit);
                    cursor = Some(next.to_owned());
                }
                None => {
                    cursor = None;
                    break;
                }
            }
        }
        assert!(cursor.is_none(), "pagination did not end");
        assert_eq!(event_ids(&walked), event_ids(&all), "limit={limit}");
    }

    // A filtered feed pages too.
    let first_page = app
        .get(&admin, "/v1/audit-events?action=user.created&limit=4")
        .await
        .expect(200);
    assert_eq!(first_page.body["items"].as_array().unwrap().len(), 4);
    let cursor = first_page.body["next_cursor"].as_str().unwrap().to_owned();
    let second_page = app
        .get(
            &admin,
            &format!(
                "/v1/audit-events?action=user.created&limit=4&cursor={}",
                enc(&cursor)
            ),
        )
        .await
        .expect(200);
    let rest = second_page.body["items"].as_array().unwrap();
    assert_eq!(rest.len(), 2);
    assert!(second_page.body["next_cursor"].is_null());
    assert_eq!(rest[1]["target_id"], app.site.admin_id.to_string().as_str());

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=garbage!", "cursor"),
    ] {
        let answer = app
            .get(&admin, &format!("/v1/audit-events?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(
            answer.body["errors"][0]["field"], field,
            "{query}: {:#}",
            answer.body
        );
    }
}

#[tokio::test]
async fn only_site_admins_read_the_feed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    for (email, permissions) in [
        ("ca@example.test", json!(["clinic_admin"])),
        (
            "plain@example.test",
            json!(["view_reports", "manage_billing"]),
        ),
    ] {
        let mut body = new_user("Nosy", email);
        body["permissions"] = permissions;
        body["clinic_ids"] = json!([main]);
        app.create_user(&admin, body).await;
        let token = app.login(email, PASSWORD).await;
        app.get(&token, "/v1/audit-events")
            .await
            .expect_problem(403, "forbidden");
    }
    app.call(Method::GET, "/v1/audit-events", None, None)
        .await
        .expect_problem(401, "invalid_token");

    // Another site's admin sees only their own site's events.
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login("boss@elsewhere.test", PASSWORD).await;
    let theirs = events(&app, &other_admin, "").await;
    assert_eq!(
        theirs
            .iter()
            .map(|e| str_of(e, "target_id").to_owned())
            .collect::<Vec<_>>(),
        vec![other.admin_id.to_string(), other.site_id.to_string()]
    );
    let ours = events(&app, &admin, "").await;
    assert!(
        ours.iter()
            .all(|e| e["target_id"] != other.admin_id.to_string().as_str())
    );
}

#[tokio::test]
async fn failed_and_empty_changes_write_no_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let user = app
        .create_user(&admin, new_user("Fay", "fay@example.test"))
        .await;
    let id = id_of(&user);
    let mut body = new_user("Plain", "plain@example.test");
    body["permissions"] = json!([]);
    app.create_user(&admin, body).await;
    let plain = app.login("plain@example.test", PASSWORD).await;
    let before = events(&app, &admin, "").await;

    // Conflicts.
    app.post(&admin, "/v1/users", new_user("Dup", "FAY@example.test"))
        .await
        .expect_problem(409, "email_taken");
    app.patch(
        &admin,
        &format!("/v1/users/{id}"),
        json!({"email": "Plain@Example.test"}),
    )
    .await
    .expect_problem(409, "email_taken");
    deactivate(&app, &admin, &admin_id)
        .await
        .expect_problem(409, "last_admin");
    app.delete(&admin, &format!("/v1/clinics/{}", app.site.clinic_id))
        .await
        .expect_problem(409, "last_clinic");
    // Validation.
    app.post(&admin, "/v1/users", new_user("", "not-an-email"))
        .await
        .expect_problem(422, "validation_failed");
    app.patch(
        &admin,
        "/v1/site",
        json!({"settings": {"timezone": "bad zone"}}),
    )
    .await
    .expect_problem(422, "validation_failed");
    // No credentials.
    app.call(
        Method::PATCH,
        &format!("/v1/users/{id}"),
        None,
        Some(json!({"first_name": "Anonymous"})),
    )
    .await
    .expect_problem(401, "invalid_token");
    // Stale versions.
    send(
        &app,
        Method::PATCH,
        &format!("/v1/users/{id}"),
        &admin,
        &[("If-Match", "\"9\"")],
        Some(json!({"first_name": "Stale"})),
    )
    .await
    .expect_problem(412, "precondition_failed");
    // Forbidden.
    app.post(&plain, "/v1/users", new_user("Sneak", "sneak@example.test"))
        .await
        .expect_problem(403, "forbidden");
    app.patch(&plain, "/v1/site", json!({"name": "Sneaky"}))
        .await
        .expect_problem(403, "forbidden");
    // Changes that change nothing.
    app.patch(
        &admin,
        &format!("/v1/users/{id}"),
        json!({"first_name": "Fay"}),
    )
    .await
    .expect(200);
    app.patch(&admin, "/v1/site", json!({"name": "Test Practice"}))
        .await
        .expect(200);
    app.patch(
        &admin,
        &format!("/v1/clinics/{}", app.site.clinic_id),
        json!({"name": "Main"}),
    )
    .await
    .expect(200);
    reactivate(&app, &admin, &id).await.expect(200);

    let after = events(&app, &admin, "").await;
    assert_eq!(
        event_ids(&after),
        event_ids(&before),
        "new events: {:#}",
        json!(after[..after.len() - before.len()])
    );

    // Deactivating twice writes one event.
    deactivate(&app, &admin, &id).await.expect(200);
    deactivate(&app, &admin, &id).await.expect(200);
    let last = events(&app, &admin, "").await;
    assert_eq!(last.len(), before.len() + 1);
    assert_eq!(last[0]["action"], "user.deactivated");
}
