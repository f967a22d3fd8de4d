//! Licences

use super::*;

#[tokio::test]
async fn flex_plan_counts_every_active_user() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Flex { licences: 2 },
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    // The admin holds one licence; one more user fits.
    let first = id_of(
        &app.create_user(
            &admin,
            new_user("Uno", "One", "one@example.test", "non_clinical"),
        )
        .await,
    );
    for user_type in ["clinical", "non_clinical"] {
        let refused = app
            .post(
                &admin,
                "/v1/users",
                new_user("Dos", "Two", "two@example.test", user_type),
            )
            .await
            .expect_problem(409, "licence_limit_reached");
        assert_eq!(refused.body["licences_total"], 2, "{:#}", refused.body);
        assert_eq!(refused.body["licences_used"], 2, "{:#}", refused.body);
    }
    assert_eq!(list_all(&app, &admin, "").await.len(), 2);

    // Deactivating frees a licence.
    deactivate(&app, &admin, &first).await.expect(200);
    let second = id_of(
        &app.create_user(
            &admin,
            new_user("Dos", "Two", "two@example.test", "clinical"),
        )
        .await,
    );
    let refused = reactivate(&app, &admin, &first)
        .await
        .expect_problem(409, "licence_limit_reached");
    assert_eq!(refused.body["licences_total"], 2);
    assert_eq!(refused.body["licences_used"], 2);
    let read = app
        .get(&admin, &format!("/v1/users/{first}"))
        .await
        .expect(200);
    assert_eq!(read.body["status"], "inactive");

    deactivate(&app, &admin, &second).await.expect(200);
    reactivate(&app, &admin, &first).await.expect(200);
}

#[tokio::test]
async fn solo_plan_allows_one_clinical_and_one_non_clinical_user() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Solo,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    // The non-clinical admin holds the non-clinical slot.
    app.post(
        &admin,
        "/v1/users",
        new_user("Nina", "Desk", "nina@example.test", "non_clinical"),
    )
    .await
    .expect_problem(409, "solo_slot_taken");
    let clinician = id_of(
        &app.create_user(
            &admin,
            new_user("Carl", "Clinician", "carl@example.test", "clinical"),
        )
        .await,
    );
    app.post(
        &admin,
        "/v1/users",
        new_user("Cora", "Clinician", "cora@example.test", "clinical"),
    )
    .await
    .expect_problem(409, "solo_slot_taken");

    deactivate(&app, &admin, &clinician).await.expect(200);
    let cora = id_of(
        &app.create_user(
            &admin,
            new_user("Cora", "Clinician", "cora@example.test", "clinical"),
        )
        .await,
    );
    reactivate(&app, &admin, &clinician)
        .await
        .expect_problem(409, "solo_slot_taken");
    deactivate(&app, &admin, &cora).await.expect(200);
    reactivate(&app, &admin, &clinician).await.expect(200);
}

#[tokio::test]
async fn group_plan_counts_only_clinical_users() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Group { licences: 1 },
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        new_user("Cat", "Clinician", "cat@example.test", "clinical"),
    )
    .await;
    let refused = app
        .post(
            &admin,
            "/v1/users",
            new_user("Cid", "Clinician", "cid@example.test", "clinical"),
        )
        .await
        .expect_problem(409, "licence_limit_reached");
    assert_eq!(refused.body["licences_total"], 1);
    assert_eq!(refused.body["licences_used"], 1);
    // Non-clinical users are unlimited.
    for n in 0..4 {
        app.create_user(
            &admin,
            new_user(
                "Desk",
                "Person",
                &format!("desk{n}@example.test"),
                "non_clinical",
            ),
        )
        .await;
    }
    assert_eq!(
        list_all(&app, &admin, "user_type=non_clinical").await.len(),
        5
    );
}

#[tokio::test]
async fn the_default_group_plan_takes_many_non_clinical_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for n in 0..3 {
        let user = app
            .create_user(
                &admin,
                new_user(
                    "Desk",
                    "Person",
                    &format!("desk{n}@example.test"),
                    "non_clinical",
                ),
            )
            .await;
        assert_eq!(user["status"], "active");
    }
}
