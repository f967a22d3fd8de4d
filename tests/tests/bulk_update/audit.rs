//! Audit

use super::*;

#[tokio::test]
async fn one_bulk_event_per_request_and_one_access_event_per_updated_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let ghost = random_id();

    let report = bulk_ok(
        &app,
        &admin,
        json!({
            "user_ids": [m.pt, m.ot_both, m.clerk, ghost],
            "add_permissions": ["start_soap_notes", "view_reports"],
            "add_clinic_ids": [m.north],
        }),
    )
    .await;
    // pt: 2 perms + North; ot_both: start only (has view_reports and North); clerk:
    // view_reports + North (start refused).
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["users_updated"], 3);

    let bulk_events = events(&app, &admin, "action=users.bulk_updated").await;
    assert_eq!(bulk_events.len(), 1, "{bulk_events:#?}");
    let event = &bulk_events[0];
    assert_eq!(event["actor_id"], app.site.admin_id.to_string());
    assert!(event["request_id"].is_string());
    // The event records the report.
    assert_eq!(event["after"]["users_updated"], 3);
    assert_eq!(event["after"]["outcome"], "partial");

    let access = events(&app, &admin, "action=user.access_changed").await;
    assert_eq!(access.len(), 3);
    let targets: BTreeSet<String> = access
        .iter()
        .map(|e| e["target_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(targets, set(&[&m.pt, &m.ot_both, &m.clerk]));
    for e in &access {
        assert_eq!(e["target_type"], "user");
        assert_eq!(e["request_id"], event["request_id"]);
        assert_eq!(e["actor_id"], event["actor_id"]);
        assert_eq!(e["actor_kind"], event["actor_kind"]);
        // One request's events share one instant.
        assert_eq!(e["occurred_at"], event["occurred_at"]);
    }

    // Per user, filtered by target: what was applied to that user.
    let mine = events(
        &app,
        &admin,
        &format!("action=user.access_changed&target_id={}", m.pt),
    )
    .await;
    assert_eq!(mine.len(), 1);
    let after = &mine[0]["after"];
    assert_eq!(
        strings(&after["added_permissions"]),
        set(&["start_soap_notes", "view_reports"])
    );
    assert_eq!(strings(&after["added_clinic_ids"]), set(&[&m.north]));
    let clerk = events(
        &app,
        &admin,
        &format!("action=user.access_changed&target_id={}", m.clerk),
    )
    .await;
    assert_eq!(
        strings(&clerk[0]["after"]["added_permissions"]),
        set(&["view_reports"])
    );
    for id in [&m.pta, &ghost] {
        assert!(
            events(
                &app,
                &admin,
                &format!("action=user.access_changed&target_id={id}")
            )
            .await
            .is_empty()
        );
    }

    // A second request: one more bulk event.
    bulk_ok(
        &app,
        &admin,
        json!({"user_ids": [m.pta], "add_permissions": ["view_reports"]}),
    )
    .await;
    assert_eq!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .len(),
        2
    );
    assert_eq!(
        events(&app, &admin, "action=user.access_changed")
            .await
            .len(),
        4
    );
}

#[tokio::test]
async fn a_large_bulk_update_writes_every_user_and_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    // A few dozen users through the API: every one updated, listed and audited.
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(
            user(
                &app,
                &admin,
                &format!("User{n}"),
                "non_clinical",
                "OTHER",
                json!([]),
                &[&main],
            )
            .await,
        );
    }
    let report = bulk_ok(
        &app,
        &admin,
        json!({"user_ids": ids, "add_permissions": ["view_reports"], "add_clinic_ids": [north]}),
    )
    .await;
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["users_updated"], 30);
    assert_eq!(counts(&report, "permissions"), (30, 0, 0));
    assert_eq!(counts(&report, "clinics"), (30, 0, 0));
    let listed = app
        .get(&admin, &format!("/v1/users?clinic_id={north}&limit=200"))
        .await
        .expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 30);
    assert_eq!(
        events(&app, &admin, "action=user.access_changed")
            .await
            .len(),
        30
    );
}
