//! Diary

use super::*;

#[tokio::test]
async fn the_diary_lists_the_users_own_appointments_in_start_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let cleo = user(&app, &admin, "Cleo", "clinical").await;
    let late = booked(&app, &admin, &carla, &main, &at(3, 9, 0), &at(3, 10, 0)).await;
    let early = booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let middle = booked(&app, &admin, &carla, &main, &at(2, 9, 0), &at(2, 10, 0)).await;
    let cleos = booked(&app, &admin, &cleo, &main, &at(2, 9, 0), &at(2, 10, 0)).await;

    let listed = diary(&app, &admin, &carla).await.expect(200);
    assert!(listed.body["next_cursor"].is_null());
    let all = items(&listed);
    assert_eq!(
        in_start_order(&all),
        vec![early.clone(), middle.clone(), late.clone()]
    );
    assert!(all.iter().all(|a| a["user_id"] == carla.as_str()));
    assert_eq!(
        ids(&items(&diary(&app, &admin, &cleo).await.expect(200))),
        vec![cleos]
    );

    // Any user of the site may read it, page by page.
    let (_, plain) = {
        let created = app
            .create_user(
                &admin,
                json!({
                    "first_name": "Frank", "last_name": "Desk", "email": "frank@example.test",
                    "user_type": "non_clinical",
                }),
            )
            .await;
        (
            id_of(&created),
            app.login("frank@example.test", PASSWORD).await,
        )
    };
    let walked = walk(&app, &plain, &format!("/v1/users/{carla}/diary?"), 1).await;
    assert_eq!(
        ids(&walked),
        vec![early.clone(), middle.clone(), late.clone()]
    );

    // from / until select by time.
    let window = app
        .get(
            &admin,
            &format!(
                "/v1/users/{carla}/diary?from={}&until={}",
                enc(&at(1, 10, 0)),
                enc(&at(3, 9, 0))
            ),
        )
        .await
        .expect(200);
    assert_eq!(ids(&items(&window)), vec![middle]);

    // A user who never had a diary answers 409; an unknown one 404.
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    diary(&app, &admin, &nina)
        .await
        .expect_problem(409, "diary_disabled");
    diary(&app, &admin, &uuid::Uuid::new_v4().to_string())
        .await
        .expect_problem(404, "not_found");
    app.call(Method::GET, &format!("/v1/users/{carla}/diary"), None, None)
        .await
        .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn after_a_switch_to_non_clinical_and_a_login_the_diary_closes_but_the_report_keeps_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let first = booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let second = booked(&app, &admin, &carla, &main, &at(2, 9, 0), &at(2, 10, 0)).await;
    let both = vec![first.clone(), second.clone()];

    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    // Until she logs in, her diary is still there.
    assert_eq!(
        ids(&items(&diary(&app, &admin, &carla).await.expect(200))),
        both
    );

    app.login(&email_of("Carla"), PASSWORD).await;
    let refused = diary(&app, &admin, &carla)
        .await
        .expect_problem(409, "diary_disabled");
    assert!(refused.body["detail"].is_string());

    // The appointments stay in the report, for her and in general.
    assert_eq!(
        report(&app, &admin, &format!("user_id={carla}")).await,
        both
    );
    assert_eq!(report(&app, &admin, "").await, both);

    // Made clinical again, the diary (with the old appointments) returns at her next login.
    set_type(&app, &admin, &carla, "clinical").await.expect(200);
    diary(&app, &admin, &carla)
        .await
        .expect_problem(409, "diary_disabled");
    app.login(&email_of("Carla"), PASSWORD).await;
    assert_eq!(
        ids(&items(&diary(&app, &admin, &carla).await.expect(200))),
        both
    );
}
