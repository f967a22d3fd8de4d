//! Report

use super::*;

/// Two users at two clinics, seven appointments created out of order, two pairs sharing a
/// start time. Returns (carla, cleo, second clinic, appointment ids a1..a7).
async fn populate(app: &TestApp, admin: &str) -> (String, String, String, Vec<String>) {
    let main = app.site.clinic_id.clone();
    let second = add_clinic(app, admin, "Harbour").await;
    let carla = id_of(&user_at(app, admin, "Carla", "clinical", &[&main, &second]).await);
    let cleo = user(app, admin, "Cleo", "clinical").await;
    let a1 = booked(app, admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let a2 = booked(app, admin, &cleo, &main, &at(1, 9, 0), &at(1, 9, 30)).await;
    let a3 = booked(app, admin, &carla, &second, &at(1, 10, 0), &at(1, 11, 0)).await;
    let a4 = booked(app, admin, &cleo, &main, &at(2, 8, 0), &at(2, 9, 0)).await;
    let a5 = booked(app, admin, &carla, &second, &at(2, 8, 0), &at(2, 8, 45)).await;
    let a6 = booked(app, admin, &carla, &main, &at(3, 12, 0), &at(3, 13, 0)).await;
    let a7 = app
        .post(
            admin,
            "/v1/appointments",
            json!({
                "user_id": cleo, "clinic_id": main, "client_ref": "client-1",
                "starts_at": "2030-02-28T15:00:00Z", "ends_at": "2030-02-28T16:00:00Z",
            }),
        )
        .await
        .expect(201);
    let a7 = id_of(&a7.body);
    (carla, cleo, second, vec![a1, a2, a3, a4, a5, a6, a7])
}

#[tokio::test]
async fn the_report_lists_every_appointment_in_start_order_with_filters() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let (carla, cleo, second, a) = populate(&app, &admin).await;
    let pick =
        |which: &[usize]| -> Vec<String> { which.iter().map(|i| a[i - 1].clone()).collect() };

    let page = app
        .get(&admin, "/v1/reports/appointments?limit=200")
        .await
        .expect(200);
    let all = items(&page);
    let order = in_start_order(&all);
    assert_eq!(order.len(), 7);
    assert_eq!(order[0], a[6], "a7 starts first");
    assert_eq!(order[3], a[2], "a3 after the 1 March 09:00 pair");
    assert_eq!(order[6], a[5], "a6 starts last");
    let nine: HashSet<String> = order[1..3].iter().cloned().collect();
    let pair: HashSet<String> = pick(&[1, 2]).into_iter().collect();
    assert_eq!(
        nine, pair,
        "the two 1 March 09:00 appointments come second and third"
    );

    // Filters keep the start order.
    let by_carla = report(&app, &admin, &format!("user_id={carla}")).await;
    assert_eq!(by_carla.len(), 4);
    assert_eq!(by_carla[0], a[0]);
    assert_eq!(by_carla[3], a[5]);
    let ordered = |wanted: Vec<String>| -> Vec<String> {
        order
            .iter()
            .filter(|id| wanted.contains(id))
            .cloned()
            .collect()
    };
    assert_eq!(by_carla, ordered(pick(&[1, 3, 5, 6])));
    assert_eq!(
        report(&app, &admin, &format!("user_id={cleo}")).await,
        ordered(pick(&[7, 2, 4]))
    );
    assert_eq!(
        report(&app, &admin, &format!("clinic_id={second}")).await,
        pick(&[3, 5])
    );
    assert_eq!(
        report(&app, &admin, &format!("user_id={carla}&clinic_id={main}")).await,
        pick(&[1, 6])
    );
    // `from`: appointments ending after it (one ending exactly then is out).
    assert_eq!(
        report(&app, &admin, &format!("from={}", enc(&at(1, 10, 0)))).await,
        ordered(pick(&[3, 4, 5, 6]))
    );
    // `until`: appointments starting before it (one starting exactly then is out).
    assert_eq!(
        report(&app, &admin, &format!("until={}", enc(&at(2, 8, 0)))).await,
        ordered(pick(&[7, 1, 2, 3]))
    );
    assert_eq!(
        report(
            &app,
            &admin,
            &format!("from={}&until={}", enc(&at(1, 9, 45)), enc(&at(2, 8, 30)))
        )
        .await,
        ordered(pick(&[1, 3, 4, 5]))
    );
    assert_eq!(
        report(
            &app,
            &admin,
            &format!("clinic_id={second}&from={}", enc(&at(2, 0, 0)))
        )
        .await,
        pick(&[5])
    );
    let unknown = uuid::Uuid::new_v4();
    assert!(
        report(&app, &admin, &format!("user_id={unknown}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_report_pages_walk_every_appointment_once_in_start_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (carla, _, _, _) = populate(&app, &admin).await;
    let full = report(&app, &admin, "").await;
    for limit in [1, 2, 3, 7] {
        let walked = walk(&app, &admin, "/v1/reports/appointments?", limit).await;
        assert_eq!(in_start_order(&walked), full, "limit {limit}");
    }
    let carla_pages = walk(
        &app,
        &admin,
        &format!("/v1/reports/appointments?user_id={carla}"),
        3,
    )
    .await;
    assert_eq!(
        ids(&carla_pages),
        report(&app, &admin, &format!("user_id={carla}")).await
    );
    let first_page = app
        .get(&admin, "/v1/reports/appointments?limit=2")
        .await
        .expect(200);
    assert_eq!(items(&first_page).len(), 2);
    assert!(first_page.body["next_cursor"].is_string());

    for query in ["limit=0", "limit=201", "limit=-1"] {
        let answer = app
            .get(&admin, &format!("/v1/reports/appointments?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        assert_names_field(&answer, "limit");
    }
    app.get(&admin, "/v1/reports/appointments?cursor=not-a-cursor")
        .await
        .expect_problem(422, "validation_failed");
    let answer = app
        .get(&admin, "/v1/reports/appointments?from=yesterday")
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "from");
    let answer = app
        .get(&admin, "/v1/reports/appointments?user_id=nobody")
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");
}

#[tokio::test]
async fn deactivated_users_appointments_stay_in_the_report() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let cleo = user(&app, &admin, "Cleo", "clinical").await;
    let hers = booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let others = booked(&app, &admin, &cleo, &main, &at(1, 11, 0), &at(1, 12, 0)).await;
    set_status(&app, &admin, &carla, "deactivate")
        .await
        .expect(200);
    assert_eq!(report(&app, &admin, "").await, vec![hers.clone(), others]);
    assert_eq!(
        report(&app, &admin, &format!("user_id={carla}")).await,
        vec![hers]
    );
}

#[tokio::test]
async fn any_user_reads_the_report_and_only_their_own_sites() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let id = booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let carla_token = app.login(&email_of("Carla"), PASSWORD).await;
    assert_eq!(report(&app, &carla_token, "").await, vec![id]);

    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;
    assert!(report(&app, &other_admin, "").await.is_empty());
    assert!(
        report(&app, &other_admin, &format!("user_id={carla}"))
            .await
            .is_empty()
    );
    diary(&app, &other_admin, &carla)
        .await
        .expect_problem(404, "not_found");
    // Nor can another site book this site's users at this site's clinics.
    let answer = book(
        &app,
        &other_admin,
        &carla,
        &main,
        &at(2, 9, 0),
        &at(2, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");
    app.call(Method::GET, "/v1/reports/appointments", None, None)
        .await
        .expect_problem(401, "invalid_token");
}
