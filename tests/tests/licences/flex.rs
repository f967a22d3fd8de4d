//! Flex: every active user needs a licence; switching is free

use super::*;

#[tokio::test]
async fn flex_counts_every_active_user_and_refuses_the_next_one() {
    let app = spawn(LicencePlan::Flex { licences: 3 }).await;
    let admin = app.admin_token().await;
    // The non-clinical admin already uses one of the three licences.
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 1, 2, 0, 1]);
    assert_can(&r, [true, true, true, false]);

    user(&app, &admin, "Carla", "clinical").await;
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 2, 1, 1, 1]);
    assert_can(&r, [true, true, true, true]);

    user(&app, &admin, "Nina", "non_clinical").await;
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 3, 0, 1, 2]);
    assert_can(&r, [false, false, true, true]);

    // Full: neither type can be added, and the body says "3 of 3 in use, 1 needed".
    for (first, user_type) in [("Carl", "clinical"), ("Nora", "non_clinical")] {
        assert_refused(
            try_create(&app, &admin, first, user_type).await,
            "licence_limit_reached",
            "flex",
            [3, 3, 0, 1, 2],
            &json!({"needed": 1}),
        );
    }
    assert_eq!(user_count(&app, &admin).await, 3);
    assert_usage(&report(&app, &admin).await, "flex", [3, 3, 0, 1, 2]);
}

#[tokio::test]
async fn flex_switching_is_free_even_when_every_licence_is_used() {
    let app = spawn(LicencePlan::Flex { licences: 3 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    assert_usage(&report(&app, &admin).await, "flex", [3, 3, 0, 1, 2]);

    let switched = set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    assert_eq!(switched.body["user_type"], "non_clinical");
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 3, 0, 0, 3]);
    assert_can(&r, [false, false, true, false]);

    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    set_type(&app, &admin, &carla, "clinical").await.expect(200);
    set_type(&app, &admin, &app.site.admin_id.to_string(), "clinical")
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [3, 3, 0, 3, 0]);
    assert_can(&r, [false, false, false, true]);
}

#[tokio::test]
async fn flex_deactivation_frees_a_licence_and_reactivation_needs_one() {
    let app = spawn(LicencePlan::Flex { licences: 2 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    try_create(&app, &admin, "Nina", "non_clinical")
        .await
        .expect_problem(409, "licence_limit_reached");

    deactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [2, 1, 1, 0, 1]);
    assert_can(&r, [true, true, true, false]);

    // The freed licence lets a new user in.
    let nina = id_of(
        &try_create(&app, &admin, "Nina", "non_clinical")
            .await
            .expect(201)
            .body,
    );
    // Full, but flex switches are free: the non-clinical users could become clinical.
    assert_can(&report(&app, &admin).await, [false, false, true, false]);

    // Reactivating Carla now needs a licence there is none of.
    assert_refused(
        reactivate(&app, &admin, &carla).await,
        "licence_limit_reached",
        "flex",
        [2, 2, 0, 0, 2],
        &json!({"needed": 1}),
    );
    assert_eq!(get_user(&app, &admin, &carla).await["status"], "inactive");

    deactivate(&app, &admin, &nina).await.expect(200);
    let back = reactivate(&app, &admin, &carla).await.expect(200);
    assert_eq!(back.body["status"], "active");
    assert_usage(&report(&app, &admin).await, "flex", [2, 2, 0, 1, 1]);
}
