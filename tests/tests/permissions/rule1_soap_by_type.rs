//! Rule 1: no SOAP-note permission for CLERICAL or BILLING users

use super::*;

#[tokio::test]
async fn rule_1_clerical_and_billing_hold_no_soap_permission_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let clerk = staff(&app, &admin, "clerk@example.test")
        .profession("CLERICAL")
        .create()
        .await;
    let biller = staff(&app, &admin, "biller@example.test")
        .profession("BILLING")
        .permissions(&["view_reports"])
        .create()
        .await;

    for (id, soap) in [
        (&clerk, "start_soap_notes"),
        (&clerk, "forward_soap_notes"),
        (&clerk, "finish_soap_notes"),
        (&biller, "start_soap_notes"),
        (&biller, "forward_soap_notes"),
        (&biller, "finish_soap_notes"),
    ] {
        let answer = put_permissions(&app, &admin, id, json!(["view_reports", soap])).await;
        expect_refusal(answer, "permissions", "soap_not_allowed_for_profession");
    }
    // Every refused change is named, and nothing is applied (all-or-nothing).
    let answer = put_permissions(
        &app,
        &admin,
        &clerk,
        json!(["start_soap_notes", "forward_soap_notes", "manage_schedule"]),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_eq!(answer.field_errors().len(), 2, "{:#}", answer.body);
    let clerk_now = read_user(&app, &admin, &clerk).await;
    assert_eq!(clerk_now["permissions"], json!([]));
    assert_eq!(clerk_now["version"], 1);
    assert_eq!(
        permissions_of(&app, &admin, &biller).await,
        set(&["view_reports"])
    );
    assert_eq!(read_user(&app, &admin, &biller).await["version"], 1);

    // What rule 1 allows.
    let ok = put_permissions(
        &app,
        &admin,
        &clerk,
        json!(["manage_billing", "manage_schedule"]),
    )
    .await
    .expect(200);
    assert_eq!(
        strings(&ok.body["permissions"]),
        set(&["manage_billing", "manage_schedule"])
    );
}

#[tokio::test]
async fn rule_1_clerical_and_billing_hold_no_soap_permission_bulk() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let clerk = staff(&app, &admin, "clerk@example.test")
        .profession("CLERICAL")
        .create()
        .await;
    let biller = staff(&app, &admin, "biller@example.test")
        .profession("BILLING")
        .create()
        .await;
    let pt = staff(&app, &admin, "pt@example.test").create().await;

    let report = bulk(
        &app,
        &admin,
        json!({
            "user_ids": [clerk, biller, pt],
            "add_permissions": ["start_soap_notes", "forward_soap_notes", "view_reports"],
        }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["selected"], 3);
    assert_eq!(report["users_updated"], 3);
    // PT: 3 applied; clerk and biller: view_reports applied, two SOAP refused each.
    assert_eq!(counts(&report, "permissions"), (5, 4, 0));
    assert_eq!(counts(&report, "clinics"), (0, 0, 0));
    assert_eq!(
        group(&report, "soap_not_allowed_for_profession", "permission"),
        Some((4, set(&[&clerk, &biller])))
    );
    assert_eq!(reasons(&report).len(), 1);

    assert_eq!(
        permissions_of(&app, &admin, &clerk).await,
        set(&["view_reports"])
    );
    assert_eq!(
        permissions_of(&app, &admin, &biller).await,
        set(&["view_reports"])
    );
    assert_eq!(
        permissions_of(&app, &admin, &pt).await,
        set(&["start_soap_notes", "forward_soap_notes", "view_reports"])
    );
}
