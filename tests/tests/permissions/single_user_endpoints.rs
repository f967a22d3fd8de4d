//! Validation, If-Match, versions and audit of the single-user endpoints

use super::*;

#[tokio::test]
async fn unknown_and_foreign_clinics_are_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let id = staff(&app, &admin, "u@example.test")
        .clinics(&[&main])
        .create()
        .await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let unknown = "00000000-0000-4000-8000-000000000001";

    for clinic in [unknown, other.clinic_id.as_str()] {
        let answer = put_clinics(&app, &admin, &id, &[&main, clinic], &main)
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            answer.field_errors().iter().any(|(f, _)| f == "clinic_ids"),
            "{:#}",
            answer.body
        );
        let answer = put_clinics(&app, &admin, &id, &[clinic], clinic)
            .await
            .expect_problem(422, "validation_failed");
        assert!(!answer.field_errors().is_empty());
    }
    // The default must be one of the clinics; an empty list is invalid.
    let north = add_clinic(&app, &admin, "North").await;
    put_clinics(&app, &admin, &id, &[&main], &north)
        .await
        .expect_problem(422, "validation_failed");
    put_clinics(&app, &admin, &id, &[], &main)
        .await
        .expect_problem(422, "validation_failed");
    // Unknown permissions are invalid.
    put_permissions(&app, &admin, &id, json!(["fly_helicopters"]))
        .await
        .expect_problem(422, "validation_failed");

    let now = read_user(&app, &admin, &id).await;
    assert_eq!(now["clinic_ids"], json!([main]));
    assert_eq!(now["version"], 1);
}

#[tokio::test]
async fn puts_honour_if_match_and_bump_the_version_once_per_change() {
    let (app, admin, main, north) = two_clinics().await;
    let id = staff(&app, &admin, "u@example.test")
        .clinics(&[&main])
        .create()
        .await;

    // Stale tag: 412, nothing changes.
    let stale = put_permissions_if(&app, &admin, &id, Some(&etag(7)), json!(["view_reports"]))
        .await
        .expect_problem(412, "precondition_failed");
    assert_eq!(stale.body["current_etag"], etag(1));
    put_clinics_if(&app, &admin, &id, Some(&etag(7)), &[&main, &north], &main)
        .await
        .expect_problem(412, "precondition_failed");
    assert_eq!(read_user(&app, &admin, &id).await["version"], 1);

    // Matching tag: applied, version and ETag bumped.
    let changed = put_permissions_if(
        &app,
        &admin,
        &id,
        Some(&etag(1)),
        json!(["view_reports", "manage_schedule"]),
    )
    .await
    .expect(200);
    assert_eq!(changed.body["version"], 2);
    assert_eq!(changed.header("etag"), Some(etag(2).as_str()));
    // The old tag is now stale.
    put_permissions_if(&app, &admin, &id, Some(&etag(1)), json!([]))
        .await
        .expect_problem(412, "precondition_failed");
    let changed = put_clinics_if(&app, &admin, &id, Some(&etag(2)), &[&main, &north], &main)
        .await
        .expect(200);
    assert_eq!(changed.body["version"], 3);
    assert_eq!(changed.header("etag"), Some(etag(3).as_str()));
    assert_eq!(strings(&changed.body["clinic_ids"]), set(&[&main, &north]));

    // The same sets again change nothing and keep the version.
    let same = put_permissions(
        &app,
        &admin,
        &id,
        json!(["manage_schedule", "view_reports"]),
    )
    .await
    .expect(200);
    assert_eq!(same.body["version"], 3);
    let same = put_clinics(&app, &admin, &id, &[&north, &main], &main)
        .await
        .expect(200);
    assert_eq!(same.body["version"], 3);

    // Refused changes keep the version too.
    put_permissions(&app, &admin, &id, json!(["finish_soap_notes"]))
        .await
        .expect(200);
    let refused = app
        .patch(
            &admin,
            &format!("/v1/users/{id}"),
            json!({ "profession": "PTA" }),
        )
        .await;
    expect_refusal(
        refused,
        "profession",
        "finish_notes_not_allowed_for_profession",
    );
    let now = read_user(&app, &admin, &id).await;
    assert_eq!(now["version"], 4);
    assert_eq!(now["profession"], "PT");
}

#[tokio::test]
async fn single_changes_write_audit_events_with_before_and_after() {
    let (app, admin, main, north) = two_clinics().await;
    let id = staff(&app, &admin, "u@example.test")
        .permissions(&["view_reports"])
        .clinics(&[&main])
        .create()
        .await;

    put_permissions(&app, &admin, &id, json!(["manage_schedule"]))
        .await
        .expect(200);
    put_clinics(&app, &admin, &id, &[&main, &north], &north)
        .await
        .expect(200);
    // Refused and no-op requests write nothing.
    put_permissions(&app, &admin, &id, json!(["manage_schedule"]))
        .await
        .expect(200);
    put_permissions(&app, &admin, &id, json!(["manage_schedule", "nope"]))
        .await
        .expect_problem(422, "validation_failed");
    put_clinics(&app, &admin, &id, &[&north], &main)
        .await
        .expect_problem(422, "validation_failed");

    let changed = events(
        &app,
        &admin,
        &format!("action=user.permissions_changed&target_id={id}"),
    )
    .await;
    assert_eq!(changed.len(), 1, "{changed:#?}");
    let event = &changed[0];
    assert_eq!(event["target_type"], "user");
    assert_eq!(event["actor_id"], app.site.admin_id.to_string());
    assert_eq!(
        strings(&event["before"]["permissions"]),
        set(&["view_reports"])
    );
    assert_eq!(
        strings(&event["after"]["permissions"]),
        set(&["manage_schedule"])
    );
    assert!(event["request_id"].is_string());

    let changed = events(
        &app,
        &admin,
        &format!("action=user.clinics_changed&target_id={id}"),
    )
    .await;
    assert_eq!(changed.len(), 1, "{changed:#?}");
    let event = &changed[0];
    assert_eq!(strings(&event["before"]["clinic_ids"]), set(&[&main]));
    assert_eq!(event["before"]["default_clinic_id"], main.as_str());
    assert_eq!(
        strings(&event["after"]["clinic_ids"]),
        set(&[&main, &north])
    );
    assert_eq!(event["after"]["default_clinic_id"], north.as_str());

    // Every event of the user: created, permissions, clinics — nothing for the refusals.
    let all = events(&app, &admin, &format!("target_id={id}")).await;
    let actions: Vec<&str> = all.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "user.clinics_changed",
            "user.permissions_changed",
            "user.created"
        ]
    );
}
