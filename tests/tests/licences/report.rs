//! GET /v1/site/licences

use super::*;

#[tokio::test]
async fn licence_report_has_every_field_and_any_user_can_read_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = report(&app, &admin).await;
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "plan",
        "licences_total",
        "licences_used",
        "licences_available",
        "clinical_active",
        "non_clinical_active",
        "can_add_clinical",
        "can_add_non_clinical",
        "can_switch_to_clinical",
        "can_switch_to_non_clinical",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected, "{body:#}");
    // Default harness plan: group with 50 licences; the admin is non-clinical.
    assert_usage(&body, "group", [50, 0, 50, 0, 1]);
    assert_can(&body, [true, true, true, false]);

    // A user without any permission reads the same report.
    let (_, plain) = user_with(&app, &admin, "Plain", "clinical", json!([])).await;
    let seen_by_plain = report(&app, &plain).await;
    assert_usage(&seen_by_plain, "group", [50, 1, 49, 1, 1]);
    assert_can(&seen_by_plain, [true, true, true, true]);
    assert_eq!(seen_by_plain, report(&app, &admin).await);

    // A clinic administrator too.
    let (_, clinic_admin) = user_with(
        &app,
        &admin,
        "Clinicadmin",
        "non_clinical",
        json!(["clinic_admin"]),
    )
    .await;
    assert_usage(
        &report(&app, &clinic_admin).await,
        "group",
        [50, 1, 49, 1, 2],
    );

    app.call(Method::GET, "/v1/site/licences", None, None)
        .await
        .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn licence_report_is_per_site() {
    let app = spawn(LicencePlan::Flex { licences: 4 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;
    assert_usage(
        &report(&app, &other_admin).await,
        "group",
        [10, 0, 10, 0, 1],
    );
    assert_usage(&report(&app, &admin).await, "flex", [4, 2, 2, 1, 1]);
}
