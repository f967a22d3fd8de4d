//! Rule 6: a profession change re-checks the permissions held

use super::*;

#[tokio::test]
async fn rule_6_a_profession_change_rechecks_the_permissions_held() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let finisher = staff(&app, &admin, "fin@example.test")
        .permissions(&["finish_soap_notes"])
        .create()
        .await;
    let starter = staff(&app, &admin, "sta@example.test")
        .profession("OT")
        .permissions(&["start_soap_notes"])
        .create()
        .await;
    let forwarder = staff(&app, &admin, "fwd@example.test")
        .profession("SLP")
        .permissions(&["forward_soap_notes"])
        .create()
        .await;

    for (id, profession, code) in [
        (&finisher, "PTA", "finish_notes_not_allowed_for_profession"),
        (&finisher, "SSLP", "finish_notes_not_allowed_for_profession"),
        (&finisher, "CLERICAL", "soap_not_allowed_for_profession"),
        (&starter, "CLERICAL", "soap_not_allowed_for_profession"),
        (&forwarder, "BILLING", "soap_not_allowed_for_profession"),
    ] {
        let path = format!("/v1/users/{id}");
        let refused = app
            .patch(&admin, &path, json!({ "profession": profession }))
            .await;
        expect_refusal(refused, "profession", code);
        let now = read_user(&app, &admin, id).await;
        assert_eq!(now["version"], 1, "{profession}: the user changed");
        assert_ne!(now["profession"], profession);
    }
    // Assistants may start notes.
    let moved = app
        .patch(
            &admin,
            &format!("/v1/users/{starter}"),
            json!({ "profession": "COTA" }),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["profession"], "COTA");
    assert_eq!(moved.body["version"], 2);
    // Once the permission is gone, the change is allowed.
    put_permissions(&app, &admin, &finisher, json!(["view_reports"]))
        .await
        .expect(200);
    let moved = app
        .patch(
            &admin,
            &format!("/v1/users/{finisher}"),
            json!({ "profession": "CLERICAL" }),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["profession"], "CLERICAL");
}

#[tokio::test]
async fn rule_6_bulk_judges_the_current_profession() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = staff(&app, &admin, "a@example.test").create().await;
    let b = staff(&app, &admin, "b@example.test").create().await;
    // After these changes, a bulk grant judges the new professions.
    app.patch(
        &admin,
        &format!("/v1/users/{a}"),
        json!({ "profession": "BILLING" }),
    )
    .await
    .expect(200);
    app.patch(
        &admin,
        &format!("/v1/users/{b}"),
        json!({ "profession": "SPT" }),
    )
    .await
    .expect(200);

    let report = bulk(
        &app,
        &admin,
        json!({ "user_ids": [a, b], "add_permissions": ["finish_soap_notes", "start_soap_notes"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(counts(&report, "permissions"), (1, 3, 0));
    assert_eq!(
        group(&report, "soap_not_allowed_for_profession", "permission"),
        Some((2, set(&[&a])))
    );
    assert_eq!(
        group(
            &report,
            "finish_notes_not_allowed_for_profession",
            "permission"
        ),
        Some((1, set(&[&b])))
    );
    assert!(permissions_of(&app, &admin, &a).await.is_empty());
    assert_eq!(
        permissions_of(&app, &admin, &b).await,
        set(&["start_soap_notes"])
    );
}
