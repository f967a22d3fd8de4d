//! Tenancy (SPEC §3): a principal of one site never sees or changes anything of another
//! site, and a foreign id answers `404`, never `403`, so ids cannot be probed.
#![expect(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, PASSWORD, TestApp, TestSite};

/// Site B's records, created through B's own administrator.
struct OtherSite {
    site: TestSite,
    admin: String,
    user_id: String,
    clinic_id: String,
    second_clinic_id: String,
    service_account_id: String,
    client_id: String,
    client_secret: String,
}

async fn populate_other_site(app: &TestApp) -> OtherSite {
    let site = app.other_site("Other Practice", "admin-b@example.test");
    let admin = app.login(&site.admin_email, PASSWORD).await;
    let user = app
        .create_user(
            &admin,
            json!({
                "first_name": "Bertha", "last_name": "Benz", "email": "bertha@example.test",
                "user_type": "clinical",
            }),
        )
        .await;
    let clinic = app
        .post(&admin, "/v1/clinics", json!({"name": "Harbour Clinic"}))
        .await
        .expect(201);
    let account = app
        .post(
            &admin,
            "/v1/service-accounts",
            json!({"name": "B's script", "permissions": ["site_admin"]}),
        )
        .await
        .expect(201);
    let text = |v: &Value, k: &str| v[k].as_str().unwrap().to_owned();
    OtherSite {
        clinic_id: site.clinic_id.clone(),
        site,
        admin,
        user_id: text(&user, "id"),
        second_clinic_id: text(&clinic.body, "id"),
        service_account_id: text(&account.body, "id"),
        client_id: text(&account.body, "client_id"),
        client_secret: text(&account.body, "client_secret"),
    }
}

/// A token of a service account of site A with `site_admin`.
async fn site_a_service_token(app: &TestApp, admin: &str) -> String {
    app.service_token(admin, &["site_admin"]).await
}

#[track_caller]
fn assert_not_found(answer: Answer) {
    answer.expect_problem(404, "not_found");
}

fn ids_of(list: &Answer) -> Vec<String> {
    list.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {:#}", list.body))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn foreign_user_id_is_not_found_for_read_update_and_status() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    let service = site_a_service_token(&app, &admin).await;
    let path = format!("/v1/users/{}", b.user_id);

    for token in [&admin, &service] {
        assert_not_found(app.get(token, &path).await);
        assert_not_found(
            app.patch(token, &path, json!({"first_name": "Hijacked"}))
                .await,
        );
        assert_not_found(
            app.post(token, &format!("{path}/deactivate"), json!({}))
                .await,
        );
        assert_not_found(
            app.post(token, &format!("{path}/reactivate"), json!({}))
                .await,
        );
    }
    // With an If-Match the answer is still 404, not 412.
    let response = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"first_name": "Hijacked"}))
        .send()
        .await
        .unwrap();
    assert_not_found(TestApp::answer(response).await);

    let unchanged = app.get(&b.admin, &path).await.expect(200);
    assert_eq!(unchanged.body["first_name"], "Bertha");
    assert_eq!(unchanged.body["status"], "active");
    assert_eq!(unchanged.body["version"], 1);
}

#[tokio::test]
async fn foreign_admin_user_id_is_not_found() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    let path = format!("/v1/users/{}", b.site.admin_id);
    assert_not_found(app.get(&admin, &path).await);
    assert_not_found(
        app.post(&admin, &format!("{path}/deactivate"), json!({}))
            .await,
    );
    app.get(&b.admin, "/v1/me").await.expect(200);
}

#[tokio::test]
async fn foreign_clinic_id_is_not_found_for_read_update_and_delete() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    let service = site_a_service_token(&app, &admin).await;

    for token in [&admin, &service] {
        for clinic in [&b.clinic_id, &b.second_clinic_id] {
            let path = format!("/v1/clinics/{clinic}");
            assert_not_found(app.get(token, &path).await);
            assert_not_found(
                app.patch(
                    token,
                    &path,
                    json!({"name": "Renamed", "assistants_may_finish_notes": true}),
                )
                .await,
            );
            assert_not_found(app.delete(token, &path).await);
        }
    }

    let clinics = app.get(&b.admin, "/v1/clinics").await.expect(200);
    let items = clinics.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        2,
        "B still has both clinics: {:#}",
        clinics.body
    );
    for clinic in items {
        assert_ne!(clinic["name"], "Renamed");
        assert_eq!(clinic["assistants_may_finish_notes"], false);
    }
}

#[tokio::test]
async fn foreign_service_account_cannot_be_read_or_revoked() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    let path = format!("/v1/service-accounts/{}", b.service_account_id);
    assert_not_found(app.get(&admin, &path).await);
    assert_not_found(
        app.delete(
            &admin,
            &format!("/v1/service-accounts/{}", b.service_account_id),
        )
        .await,
    );
    // B's account still exchanges its secret.
    app.call(
        Method::POST,
        "/v1/auth/token",
        None,
        Some(json!({
            "grant_type": "client_credentials",
            "client_id": b.client_id,
            "client_secret": b.client_secret,
        })),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn service_token_of_another_site_sees_only_its_own_site() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let answer = app
        .call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(json!({
                "grant_type": "client_credentials",
                "client_id": b.client_id,
                "client_secret": b.client_secret,
            })),
        )
        .await
        .expect(200);
    let b_service = answer.body["access_token"].as_str().unwrap();
    assert_not_found(
        app.get(b_service, &format!("/v1/users/{}", app.site.admin_id))
            .await,
    );
    assert_not_found(
        app.get(b_service, &format!("/v1/clinics/{}", app.site.clinic_id))
            .await,
    );
    let users = app.get(b_service, "/v1/users").await.expect(200);
    assert!(!ids_of(&users).contains(&app.site.admin_id.to_string()));
}

#[tokio::test]
async fn user_list_never_contains_another_sites_users() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    let foreign = [b.user_id.clone(), b.site.admin_id.to_string()];

    let all = app.get(&admin, "/v1/users?limit=200").await.expect(200);
    let ids = ids_of(&all);
    assert_eq!(ids, vec![app.site.admin_id.to_string()], "{:#}", all.body);

    for query in [
        "q=bertha",
        "q=example.test",
        "user_type=clinical",
        "status=active",
        "sort=-created_at",
    ] {
        let list = app
            .get(&admin, &format!("/v1/users?{query}"))
            .await
            .expect(200);
        for id in ids_of(&list) {
            assert!(!foreign.contains(&id), "{query}: {:#}", list.body);
        }
    }
    // Filtering by a foreign clinic finds nothing, as for a clinic that does not exist.
    let by_clinic = app
        .get(&admin, &format!("/v1/users?clinic_id={}", b.clinic_id))
        .await
        .expect(200);
    assert_eq!(ids_of(&by_clinic), Vec::<String>::new());
}

#[tokio::test]
async fn clinic_list_never_contains_another_sites_clinics() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    let list = app.get(&admin, "/v1/clinics").await.expect(200);
    assert_eq!(ids_of(&list), vec![app.site.clinic_id.clone()]);
    let searched = app.get(&admin, "/v1/clinics?q=Harbour").await.expect(200);
    assert_eq!(ids_of(&searched), Vec::<String>::new());
    assert!(!ids_of(&list).contains(&b.second_clinic_id));
}

#[tokio::test]
async fn service_account_list_never_contains_another_sites_accounts() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    let list = app.get(&admin, "/v1/service-accounts").await.expect(200);
    assert_eq!(ids_of(&list), Vec::<String>::new(), "{:#}", list.body);
    assert!(!list.body.to_string().contains(&b.client_id));
}

#[tokio::test]
async fn audit_feed_never_contains_another_sites_events() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        json!({
            "first_name": "Alma", "last_name": "Alpha", "email": "alma@example.test",
            "user_type": "non_clinical",
        }),
    )
    .await;

    let b_events = app
        .get(&b.admin, "/v1/audit-events?limit=200")
        .await
        .expect(200);
    let b_ids = ids_of(&b_events);
    assert!(
        b_ids.len() >= 3,
        "B's own changes are audited: {:#}",
        b_events.body
    );

    let a_events = app
        .get(&admin, "/v1/audit-events?limit=200")
        .await
        .expect(200);
    let a_ids = ids_of(&a_events);
    assert!(!a_ids.is_empty(), "A's user creation is audited");
    for id in &a_ids {
        assert!(!b_ids.contains(id), "event {id} shows in both sites");
    }
    let text = a_events.body.to_string();
    for foreign in [
        &b.user_id,
        &b.second_clinic_id,
        &b.service_account_id,
        &b.site.admin_id.to_string(),
    ] {
        assert!(
            !text.contains(foreign.as_str()),
            "A's feed mentions {foreign}"
        );
    }
    // Filtering by a foreign target finds nothing.
    let filtered = app
        .get(&admin, &format!("/v1/audit-events?target_id={}", b.user_id))
        .await
        .expect(200);
    assert_eq!(ids_of(&filtered), Vec::<String>::new());
}

#[tokio::test]
async fn foreign_clinic_is_refused_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    let b = populate_other_site(&app).await;
    let admin = app.admin_token().await;
    let grant = |clinic: String| {
        json!({
            "first_name": "Alma", "last_name": "Alpha", "email": "alma@example.test",
            "user_type": "non_clinical", "clinic_ids": [clinic], "default_clinic_id": clinic,
        })
    };
    let foreign = app
        .post(&admin, "/v1/users", grant(b.second_clinic_id.clone()))
        .await
        .expect_problem(422, "validation_failed");
    let unknown = app
        .post(&admin, "/v1/users", grant(uuid::Uuid::new_v4().to_string()))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        foreign.body, unknown.body,
        "a foreign clinic cannot be told apart from a missing one"
    );
    assert!(
        foreign.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "clinic_ids"),
        "{:#}",
        foreign.body
    );
    let users = app.get(&admin, "/v1/users").await.expect(200);
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn non_uuid_path_ids_are_not_found_problems() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (method, path) in [
        (Method::GET, "/v1/users/not-a-uuid"),
        (Method::GET, "/v1/users/123"),
        (Method::PATCH, "/v1/users/not-a-uuid"),
        (Method::POST, "/v1/users/not-a-uuid/deactivate"),
        (Method::POST, "/v1/users/not-a-uuid/reactivate"),
        (Method::GET, "/v1/clinics/not-a-uuid"),
        (Method::PATCH, "/v1/clinics/not-a-uuid"),
        (Method::DELETE, "/v1/clinics/not-a-uuid"),
        (Method::DELETE, "/v1/service-accounts/not-a-uuid"),
        (
            Method::GET,
            "/v1/users/00000000-0000-0000-0000-00000000000g",
        ),
        (Method::GET, "/v1/users/%E2%98%83"),
    ] {
        let body = matches!(method, Method::PATCH | Method::POST).then(|| json!({"name": "x"}));
        let answer = app.call(method.clone(), path, Some(&admin), body).await;
        assert_eq!(
            answer.status.as_u16(),
            404,
            "{method} {path}: {:#}",
            answer.body
        );
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json"),
            "{method} {path}"
        );
        assert_eq!(answer.code(), "not_found", "{method} {path}");
    }
}

#[tokio::test]
async fn unknown_uuid_is_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = uuid::Uuid::new_v4();
    assert_not_found(app.get(&admin, &format!("/v1/users/{id}")).await);
    assert_not_found(app.get(&admin, &format!("/v1/clinics/{id}")).await);
    assert_not_found(
        app.delete(&admin, &format!("/v1/service-accounts/{id}"))
            .await,
    );
}
