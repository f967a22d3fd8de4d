//! Rule 2: finish_soap_notes never for assistant or student professions

use super::*;

const ASSISTANTS_AND_STUDENTS: [&str; 7] = ["PTA", "COTA", "SLPA", "RTT", "SPT", "SOT", "SSLP"];

/// Turns `assistants_may_finish_notes` on for a clinic.
async fn allow_assistants_to_finish(app: &TestApp, token: &str, clinic: &str) {
    let answer = app
        .patch(
            token,
            &format!("/v1/clinics/{clinic}"),
            json!({ "assistants_may_finish_notes": true }),
        )
        .await
        .expect(200);
    assert_eq!(answer.body["assistants_may_finish_notes"], true);
}

#[tokio::test]
async fn rule_2_assistants_and_students_never_finish_notes_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let north = add_clinic(&app, &admin, "North").await;
    // The setting is on for every clinic the users have: it changes nothing.
    allow_assistants_to_finish(&app, &admin, &app.site.clinic_id).await;
    allow_assistants_to_finish(&app, &admin, &north).await;

    for (n, profession) in ASSISTANTS_AND_STUDENTS.iter().enumerate() {
        let id = staff(&app, &admin, &format!("assistant{n}@example.test"))
            .profession(profession)
            .permissions(&["start_soap_notes"])
            .clinics(&[&app.site.clinic_id, &north])
            .create()
            .await;
        let answer = put_permissions(
            &app,
            &admin,
            &id,
            json!(["start_soap_notes", "finish_soap_notes"]),
        )
        .await;
        expect_refusal(
            answer,
            "permissions",
            "finish_notes_not_allowed_for_profession",
        );
        assert_eq!(
            permissions_of(&app, &admin, &id).await,
            set(&["start_soap_notes"])
        );
        // Starting and forwarding are fine.
        put_permissions(
            &app,
            &admin,
            &id,
            json!(["start_soap_notes", "forward_soap_notes"]),
        )
        .await
        .expect(200);
    }
    // A licensed profession may finish notes.
    let pt = staff(&app, &admin, "pt@example.test").create().await;
    put_permissions(&app, &admin, &pt, json!(["finish_soap_notes"]))
        .await
        .expect(200);
}

#[tokio::test]
async fn rule_2_assistants_and_students_never_finish_notes_bulk() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    allow_assistants_to_finish(&app, &admin, &app.site.clinic_id).await;
    let mut assistants = BTreeSet::new();
    for (n, profession) in ASSISTANTS_AND_STUDENTS.iter().enumerate() {
        assistants.insert(
            staff(&app, &admin, &format!("a{n}@example.test"))
                .profession(profession)
                .create()
                .await,
        );
    }
    let pt = staff(&app, &admin, "pt@example.test").create().await;
    let clerk = staff(&app, &admin, "clerk@example.test")
        .profession("CLERICAL")
        .create()
        .await;
    let mut ids: Vec<&String> = assistants.iter().collect();
    ids.push(&pt);
    ids.push(&clerk);

    let report = bulk(
        &app,
        &admin,
        json!({ "user_ids": ids, "add_permissions": ["finish_soap_notes"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["selected"], 9);
    assert_eq!(report["users_updated"], 1);
    assert_eq!(counts(&report, "permissions"), (1, 8, 0));
    assert_eq!(
        group(
            &report,
            "finish_notes_not_allowed_for_profession",
            "permission"
        ),
        Some((7, assistants.clone()))
    );
    // Rule 1 names the clerk's refusal.
    assert_eq!(
        group(&report, "soap_not_allowed_for_profession", "permission"),
        Some((1, set(&[&clerk])))
    );
    for id in &assistants {
        assert!(permissions_of(&app, &admin, id).await.is_empty());
    }
    assert_eq!(
        permissions_of(&app, &admin, &pt).await,
        set(&["finish_soap_notes"])
    );
}
