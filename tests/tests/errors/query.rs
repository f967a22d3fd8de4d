//! Query parameters

use super::*;

#[tokio::test]
async fn bad_limits_name_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for list in [
        "/v1/users",
        "/v1/clinics",
        "/v1/service-accounts",
        "/v1/audit-events",
    ] {
        for limit in ["0", "201", "abc", "-1", "1.5", "99999999999999999999"] {
            let answer = app
                .get(&admin, &format!("{list}?limit={limit}"))
                .await
                .expect_problem(422, "validation_failed");
            assert_names_field(&answer, "limit");
        }
        app.get(&admin, &format!("{list}?limit=1"))
            .await
            .expect(200);
        app.get(&admin, &format!("{list}?limit=200"))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn bad_enum_filter_names_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (query, field) in [
        ("user_type=foo", "user_type"),
        ("status=sleeping", "status"),
        ("profession=WIZARD", "profession"),
        ("sort=age", "sort"),
        ("clinic_id=not-a-uuid", "clinic_id"),
    ] {
        let answer = app
            .get(&admin, &format!("/v1/users?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        assert_names_field(&answer, field);
    }
}

/// The `maxLength` the contract documents for text query parameters holds.
#[tokio::test]
async fn search_texts_longer_than_documented_name_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (path, field, max) in [
        ("/v1/users?q=", "q", 200),
        ("/v1/clinics?q=", "q", 200),
        ("/v1/reports/appointments?client_ref=", "client_ref", 100),
    ] {
        app.get(&admin, &format!("{path}{}", "a".repeat(max)))
            .await
            .expect(200);
        let answer = app
            .get(&admin, &format!("{path}{}", "a".repeat(max + 1)))
            .await
            .expect_problem(422, "validation_failed");
        assert_names_field(&answer, field);
        assert_eq!(answer.body["errors"][0]["code"], "too_long", "{path}");
    }
}

/// `minItems` of a body array holds, before `If-Match` is looked at.
#[tokio::test]
async fn an_empty_clinic_list_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let path = format!("/v1/users/{}/clinics", app.site.admin_id);
    let answer = with_headers(
        &app,
        Method::PUT,
        &path,
        &admin,
        &[("If-Match", "\"99\"")],
        Some(json!({"clinic_ids": [], "default_clinic_id": app.site.clinic_id})),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "clinic_ids");
    assert_eq!(answer.body["errors"][0]["code"], "too_few_items");
}

#[tokio::test]
async fn garbage_cursor_names_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for list in [
        "/v1/users",
        "/v1/clinics",
        "/v1/service-accounts",
        "/v1/audit-events",
    ] {
        for cursor in ["garbage", "!!not-a-cursor!!", "e30", "bnVsbA", "%00"] {
            let answer = app
                .get(&admin, &format!("{list}?cursor={cursor}"))
                .await
                .expect_problem(422, "validation_failed");
            assert_names_field(&answer, "cursor");
        }
    }
}

#[tokio::test]
async fn bad_audit_time_filter_names_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for query in ["since=yesterday", "until=2024-13-45"] {
        let answer = app
            .get(&admin, &format!("/v1/audit-events?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        let field = query.split('=').next().unwrap();
        assert_names_field(&answer, field);
    }
}

#[tokio::test]
async fn cursor_pagination_walks_every_item_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.create_user(&admin, valid_user(&format!("user{i}@example.test")))
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/users?limit=2".to_owned();
    loop {
        let page = app.get(&admin, &path).await.expect(200);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 5);
    assert_eq!(unique.len(), 5);
}
