//! Group: clinical users need a licence; non-clinical users are unlimited

use super::*;

#[tokio::test]
async fn group_limits_clinical_users_and_not_non_clinical_ones() {
    let app = spawn(LicencePlan::Group { licences: 2 }).await;
    let admin = app.admin_token().await;
    assert_usage(&report(&app, &admin).await, "group", [2, 0, 2, 0, 1]);
    user(&app, &admin, "Carla", "clinical").await;
    user(&app, &admin, "Cleo", "clinical").await;
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 2, 0, 2, 1]);
    assert_can(&r, [false, true, false, true]);

    assert_refused(
        try_create(&app, &admin, "Carl", "clinical").await,
        "licence_limit_reached",
        "group",
        [2, 2, 0, 2, 1],
        &json!({"needed": 1}),
    );

    for first in ["Nina", "Nora", "Ned", "Nell"] {
        user(&app, &admin, first, "non_clinical").await;
    }
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 2, 0, 2, 5]);
    assert_can(&r, [false, true, false, true]);
}

#[tokio::test]
async fn group_non_clinical_to_clinical_needs_a_free_licence() {
    let app = spawn(LicencePlan::Group { licences: 1 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    assert_can(&report(&app, &admin).await, [false, true, false, true]);

    assert_refused(
        set_type(&app, &admin, &nina, "clinical").await,
        "licence_limit_reached",
        "group",
        [1, 1, 0, 1, 2],
        &json!({"needed": 1}),
    );
    assert_eq!(
        get_user(&app, &admin, &nina).await["user_type"],
        "non_clinical"
    );

    deactivate(&app, &admin, &carla).await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [1, 0, 1, 0, 2]);
    assert_can(&r, [true, true, true, false]);
    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [1, 1, 0, 1, 1]);
    assert_can(&r, [false, true, false, true]);
}

#[tokio::test]
async fn group_clinical_to_non_clinical_is_allowed_even_when_full() {
    let app = spawn(LicencePlan::Group { licences: 1 }).await;
    let admin = app.admin_token().await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    assert_usage(&report(&app, &admin).await, "group", [1, 1, 0, 1, 1]);

    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [1, 0, 1, 0, 2]);
    assert_can(&r, [true, true, true, false]);
}
