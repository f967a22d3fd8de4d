//! Dry run

use super::*;

#[tokio::test]
async fn a_dry_run_reports_the_same_as_the_real_run_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let m = mixed(&app, &admin).await;
    let ghost = random_id();
    let ids = [&m.pt, &m.ot_both, &m.clerk, &m.pta, &m.clinic_admin];
    let mut body = json!({
        "user_ids": [m.pt, m.ot_both, m.clerk, m.pta, m.clinic_admin, ghost],
        "add_permissions": ["finish_soap_notes", "manage_schedule"],
        "remove_permissions": ["clinic_admin"],
        "add_clinic_ids": [m.north],
        "remove_clinic_ids": [m.main],
    });
    let before = snapshot(&app, &admin, &ids).await;
    let audit_before = events(&app, &admin, "").await.len();

    body["dry_run"] = json!(true);
    let dry = bulk_ok(&app, &admin, body.clone()).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["outcome"], "partial");
    assert!(dry["users_updated"].as_u64().unwrap() > 0);
    // Nothing written: users, versions, audit.
    assert_eq!(snapshot(&app, &admin, &ids).await, before);
    assert_eq!(events(&app, &admin, "").await.len(), audit_before);
    assert!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .is_empty()
    );
    assert!(
        events(&app, &admin, "action=user.access_changed")
            .await
            .is_empty()
    );
    // A second dry run says the same.
    assert_eq!(bulk_ok(&app, &admin, body.clone()).await, dry);

    body["dry_run"] = json!(false);
    let real = bulk_ok(&app, &admin, body).await;
    assert_eq!(real["dry_run"], false);
    let mut expected_report = dry.clone();
    expected_report["dry_run"] = json!(false);
    assert_eq!(real, expected_report);
    assert_ne!(snapshot(&app, &admin, &ids).await, before);
    assert_eq!(
        events(&app, &admin, "action=users.bulk_updated")
            .await
            .len(),
        1
    );
}
