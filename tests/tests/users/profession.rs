//! Profession rules (SPEC §4 rules 1, 2 and 6) on create and on profile updates

use super::*;

#[tokio::test]
async fn create_refuses_soap_permissions_a_profession_may_not_hold() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (n, (profession, permission)) in [
        ("CLERICAL", "start_soap_notes"),
        ("BILLING", "forward_soap_notes"),
        ("CLERICAL", "finish_soap_notes"),
        ("PTA", "finish_soap_notes"),
        ("SPT", "finish_soap_notes"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = new_user(
            "Rule",
            "Breaker",
            &format!("rule{n}@example.test"),
            "clinical",
        );
        body["profession"] = json!(profession);
        body["permissions"] = json!([permission]);
        let answer = app.post(&admin, "/v1/users", body).await;
        assert_eq!(
            answer.status.as_u16(),
            422,
            "{profession} with {permission}: {:#}",
            answer.body
        );
        assert_eq!(answer.code(), "validation_failed");
    }
    assert_eq!(
        list_all(&app, &admin, "").await.len(),
        1,
        "nobody was created"
    );

    // What the rules allow.
    let mut body = new_user("Allowed", "Assistant", "pta@example.test", "clinical");
    body["profession"] = json!("PTA");
    body["permissions"] = json!(["start_soap_notes", "forward_soap_notes"]);
    app.create_user(&admin, body).await;
    let mut body = new_user("Allowed", "Clerk", "clerk@example.test", "non_clinical");
    body["profession"] = json!("CLERICAL");
    body["permissions"] = json!(["manage_billing", "manage_schedule"]);
    app.create_user(&admin, body).await;
}

#[tokio::test]
async fn a_profession_change_rechecks_the_soap_permissions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = new_user("Fin", "Isher", "fin@example.test", "clinical");
    body["profession"] = json!("PT");
    body["permissions"] = json!(["finish_soap_notes"]);
    let finisher = id_of(&app.create_user(&admin, body).await);
    let mut body = new_user("Sta", "Rter", "sta@example.test", "clinical");
    body["profession"] = json!("OT");
    body["permissions"] = json!(["start_soap_notes"]);
    let starter = id_of(&app.create_user(&admin, body).await);

    for (id, profession) in [
        (&finisher, "PTA"),
        (&starter, "CLERICAL"),
        (&starter, "BILLING"),
    ] {
        let path = format!("/v1/users/{id}");
        let answer = app
            .patch(&admin, &path, json!({"profession": profession}))
            .await;
        assert!(
            matches!(answer.status.as_u16(), 409 | 422),
            "{profession}: {} {:#}",
            answer.status,
            answer.body
        );
        let read = app.get(&admin, &path).await.expect(200);
        assert_eq!(read.body["version"], 1, "{profession}: the user changed");
    }
    // A profession that keeps the permissions legal is fine.
    let moved = app
        .patch(
            &admin,
            &format!("/v1/users/{starter}"),
            json!({"profession": "SOT"}),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["profession"], "SOT");
}
