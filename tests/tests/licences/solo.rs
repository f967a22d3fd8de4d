//! Solo: one clinical and one non-clinical user; switching only into a free slot

use super::*;

#[tokio::test]
async fn solo_allows_one_clinical_and_one_non_clinical_user() {
    let app = spawn(LicencePlan::Solo).await;
    let admin = app.admin_token().await;
    // The non-clinical admin holds the non-clinical slot and no licence.
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 0, 1, 0, 1]);
    assert_can(&r, [true, false, true, false]);

    assert_refused(
        try_create(&app, &admin, "Nina", "non_clinical").await,
        "solo_slot_taken",
        "solo",
        [1, 0, 1, 0, 1],
        &json!({"user_type": "non_clinical"}),
    );

    user(&app, &admin, "Carla", "clinical").await;
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 1, 0, 1, 1]);
    assert_can(&r, [false, false, false, false]);

    assert_refused(
        try_create(&app, &admin, "Carl", "clinical").await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 1],
        &json!({"user_type": "clinical"}),
    );
    assert_eq!(user_count(&app, &admin).await, 2);
}

#[tokio::test]
async fn solo_with_one_of_each_no_switch_is_possible() {
    let app = spawn(LicencePlan::Solo).await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let carla = user(&app, &admin, "Carla", "clinical").await;

    assert_refused(
        set_type(&app, &admin, &carla, "non_clinical").await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 1],
        &json!({"user_type": "non_clinical"}),
    );
    assert_refused(
        set_type(&app, &admin, &admin_id, "clinical").await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 1],
        &json!({"user_type": "clinical"}),
    );
    assert_eq!(
        get_user(&app, &admin, &carla).await["user_type"],
        "clinical"
    );
    assert_eq!(
        get_user(&app, &admin, &admin_id).await["user_type"],
        "non_clinical"
    );
}

#[tokio::test]
async fn solo_switching_into_a_free_slot_works() {
    let app = spawn(LicencePlan::Solo).await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let carla = user(&app, &admin, "Carla", "clinical").await;

    // Carla leaves: the clinical slot is free, so the admin can move into it.
    deactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 0, 1, 0, 1]);
    assert_can(&r, [true, false, true, false]);

    let switched = set_type(&app, &admin, &admin_id, "clinical")
        .await
        .expect(200);
    assert_eq!(switched.body["user_type"], "clinical");
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 1, 0, 1, 0]);
    assert_can(&r, [false, true, false, true]);

    // And back into the (free) non-clinical slot.
    set_type(&app, &admin, &admin_id, "non_clinical")
        .await
        .expect(200);
    assert_can(&report(&app, &admin).await, [true, false, true, false]);
    set_type(&app, &admin, &admin_id, "clinical")
        .await
        .expect(200);

    // Carla's clinical slot is now the admin's.
    assert_refused(
        reactivate(&app, &admin, &carla).await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 0],
        &json!({"user_type": "clinical"}),
    );
    // As an inactive user she may change type without a slot, and then comes back into
    // the free non-clinical one.
    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    assert_usage(&report(&app, &admin).await, "solo", [1, 1, 0, 1, 0]);
    reactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 1, 0, 1, 1]);
    assert_can(&r, [false, false, false, false]);
}

#[tokio::test]
async fn solo_inactive_user_switched_into_a_taken_slot_cannot_be_reactivated() {
    let app = spawn(LicencePlan::Solo).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    deactivate(&app, &admin, &carla).await.expect(200);
    let cleo = user(&app, &admin, "Cleo", "clinical").await;

    // Carla is inactive: switching her into the admin's non-clinical slot is allowed...
    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    // ...but reactivating her needs that slot.
    assert_refused(
        reactivate(&app, &admin, &carla).await,
        "solo_slot_taken",
        "solo",
        [1, 1, 0, 1, 1],
        &json!({"user_type": "non_clinical"}),
    );
    deactivate(&app, &admin, &cleo).await.expect(200);
    // The clinical slot is free now, but Carla is non-clinical: still refused.
    reactivate(&app, &admin, &carla)
        .await
        .expect_problem(409, "solo_slot_taken");
    assert_eq!(get_user(&app, &admin, &carla).await["status"], "inactive");
}
