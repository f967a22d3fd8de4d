//! Inactive users hold nothing; reactivation needs a licence of their (new) type

use super::*;

#[tokio::test]
async fn inactive_users_switch_without_a_licence_and_reactivate_with_one_of_the_new_type() {
    let app = spawn(LicencePlan::Group { licences: 1 }).await;
    let admin = app.admin_token().await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    let cleo = user(&app, &admin, "Cleo", "clinical").await;
    deactivate(&app, &admin, &nina).await.expect(200);
    deactivate(&app, &admin, &cleo).await.expect(200);
    user(&app, &admin, "Carla", "clinical").await;
    let before = report(&app, &admin).await;
    assert_usage(&before, "group", [1, 1, 0, 1, 1]);

    // The only licence is Carla's, yet inactive Nina may become clinical...
    let switched = set_type(&app, &admin, &nina, "clinical").await.expect(200);
    assert_eq!(switched.body["user_type"], "clinical");
    assert_eq!(switched.body["status"], "inactive");
    assert_eq!(report(&app, &admin).await, before);
    // ...and then needs a clinical licence to come back.
    assert_refused(
        reactivate(&app, &admin, &nina).await,
        "licence_limit_reached",
        "group",
        [1, 1, 0, 1, 1],
        &json!({"needed": 1}),
    );

    // Inactive Cleo, clinical, could not come back while full — as non-clinical she can.
    reactivate(&app, &admin, &cleo)
        .await
        .expect_problem(409, "licence_limit_reached");
    set_type(&app, &admin, &cleo, "non_clinical")
        .await
        .expect(200);
    reactivate(&app, &admin, &cleo).await.expect(200);
    assert_usage(&report(&app, &admin).await, "group", [1, 1, 0, 1, 2]);
}

#[tokio::test]
async fn report_follows_creation_deactivation_reactivation_and_switches() {
    let app = spawn(LicencePlan::Group { licences: 2 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    assert_can(&report(&app, &admin).await, [true, true, true, true]);
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 2, 0, 2, 1]);
    assert_can(&r, [false, true, false, true]);
    deactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 1, 1, 1, 1]);
    assert_can(&r, [true, true, true, true]);
    reactivate(&app, &admin, &carla).await.expect(200);
    assert_can(&report(&app, &admin).await, [false, true, false, true]);
    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    set_type(&app, &admin, &nina, "non_clinical")
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 0, 2, 0, 3]);
    assert_can(&r, [true, true, true, false]);
}
