//! Filter selection

use super::*;

#[tokio::test]
async fn filter_with_select_all_selects_by_type_clinic_search_and_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let me = app.site.admin_id.to_string();
    let sleeper = user(
        &app,
        &admin,
        "Zed",
        "clinical",
        "SLP",
        json!([]),
        &[&m.main],
    )
    .await;
    app.call(
        reqwest::Method::POST,
        &format!("/v1/users/{sleeper}/deactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    let has = |u: &Value, p: &str| strings(&u["permissions"]).contains(p);

    // user_type: the clinical tab (pt, ot_both, pta, sleeper).
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"user_type": "clinical"},
            "select_all": true,
            "add_permissions": ["manage_schedule"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 4, "{report:#}");
    assert_eq!(report["outcome"], "success");
    assert_eq!(counts(&report, "permissions"), (4, 0, 0));
    for id in [&m.pt, &m.ot_both, &m.pta, &sleeper] {
        assert!(has(&read_user(&app, &admin, id).await, "manage_schedule"));
    }
    for id in [&m.clerk, &m.clinic_admin, &me] {
        assert!(!has(&read_user(&app, &admin, id).await, "manage_schedule"));
    }

    // clinic_id: only ot_both is in North.
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"clinic_id": m.north},
            "select_all": true,
            "add_permissions": ["manage_billing"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 1);
    assert_eq!(report["users_updated"], 1);
    assert!(has(
        &read_user(&app, &admin, &m.ot_both).await,
        "manage_billing"
    ));
    assert!(!has(
        &read_user(&app, &admin, &m.pt).await,
        "manage_billing"
    ));

    // q: name or email, case-insensitively.
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"q": "TESS"},
            "select_all": true,
            "add_permissions": ["view_reports"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 1);
    assert!(has(&read_user(&app, &admin, &m.pta).await, "view_reports"));
    assert!(!has(&read_user(&app, &admin, &m.pt).await, "view_reports"));

    // Combined: active clinical users named "bulk" (pt, ot_both, pta; not the sleeper).
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"user_type": "clinical", "status": "active", "q": "bulk"},
            "select_all": true,
            "add_permissions": ["start_soap_notes"],
            "dry_run": true,
        }),
    )
    .await;
    assert_eq!(report["selected"], 3, "{report:#}");
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"status": "inactive"},
            "select_all": true,
            "add_permissions": ["start_soap_notes"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 1);
    assert!(has(
        &read_user(&app, &admin, &sleeper).await,
        "start_soap_notes"
    ));

    // A filter matching nobody: nothing selected, a success.
    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "filter": {"q": "no such person"},
            "select_all": true,
            "add_permissions": ["start_soap_notes"],
        }),
    )
    .await;
    assert_eq!(report["selected"], 0);
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["users_updated"], 0);
}

#[tokio::test]
async fn the_selection_must_be_ids_or_filter_with_select_all() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let pt = user(&app, &admin, "Pat", "clinical", "PT", json!([]), &[&main]).await;

    let names_field = |answer: Answer, fields: &[&str]| {
        let answer = answer.expect_problem(422, "validation_failed");
        let errors = answer.field_errors();
        assert!(
            errors.iter().any(|(f, _)| fields.contains(&f.as_str())),
            "expected an error on {fields:?}: {:#}",
            answer.body
        );
    };
    // filter without select_all (absent or false).
    names_field(
        bulk(
            &app,
            &admin,
            json!({"filter": {"user_type": "clinical"}, "add_permissions": ["view_reports"]}),
        )
        .await,
        &["select_all"],
    );
    names_field(
        bulk(
            &app,
            &admin,
            json!({"filter": {}, "select_all": false, "add_permissions": ["view_reports"]}),
        )
        .await,
        &["select_all"],
    );
    // Both user_ids and filter.
    names_field(
        bulk(
            &app,
            &admin,
            json!({"user_ids": [pt], "filter": {}, "select_all": true, "add_permissions": ["view_reports"]}),
        )
        .await,
        &["user_ids", "filter"],
    );
    // Neither.
    names_field(
        bulk(&app, &admin, json!({"add_permissions": ["view_reports"]})).await,
        &["user_ids"],
    );
    names_field(
        bulk(
            &app,
            &admin,
            json!({"select_all": true, "add_permissions": ["view_reports"]}),
        )
        .await,
        &["user_ids", "filter"],
    );
    // Adding and removing the same permission or clinic.
    names_field(
        bulk(
            &app,
            &admin,
            json!({"user_ids": [pt], "add_permissions": ["view_reports", "manage_schedule"], "remove_permissions": ["view_reports"]}),
        )
        .await,
        &["add_permissions", "remove_permissions"],
    );
    names_field(
        bulk(
            &app,
            &admin,
            json!({"user_ids": [pt], "add_clinic_ids": [main], "remove_clinic_ids": [main]}),
        )
        .await,
        &["add_clinic_ids", "remove_clinic_ids"],
    );
    // Malformed ids and unknown permissions are validation errors too.
    bulk(
        &app,
        &admin,
        json!({"user_ids": ["not-a-uuid"], "add_permissions": ["view_reports"]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    bulk(
        &app,
        &admin,
        json!({"user_ids": [pt], "add_permissions": ["fly"]}),
    )
    .await
    .expect_problem(422, "validation_failed");

    let u = read_user(&app, &admin, &pt).await;
    assert_eq!(u["permissions"], json!([]));
    assert_eq!(u["version"], 1);
    assert!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .is_empty()
    );
}
