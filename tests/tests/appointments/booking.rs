//! Booking

use super::*;

#[tokio::test]
async fn booking_a_clinical_user_at_one_of_their_clinics_answers_201() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let answer = app
        .post(
            &admin,
            "/v1/appointments",
            json!({
                "user_id": carla,
                "clinic_id": main,
                "client_ref": "  client-7  ",
                "starts_at": "2030-03-01T09:00:00Z",
                "ends_at": "2030-03-01T09:45:00+00:00",
            }),
        )
        .await
        .expect(201);
    let a = &answer.body;
    assert!(
        uuid::Uuid::parse_str(a["id"].as_str().unwrap()).is_ok(),
        "{a:#}"
    );
    assert_eq!(a["user_id"], carla.as_str());
    assert_eq!(a["clinic_id"], main.as_str());
    assert_eq!(a["client_ref"], "client-7");
    assert_eq!(a["starts_at"], "2030-03-01T09:00:00Z");
    assert_eq!(a["ends_at"], "2030-03-01T09:45:00Z");
    assert!(a["created_at"].is_string());

    // Offsets are instants: 11:00+02:00 is 09:00Z.
    let other = book(
        &app,
        &admin,
        &carla,
        &main,
        "2030-03-02T11:00:00+02:00",
        "2030-03-02T12:00:00+02:00",
    )
    .await
    .expect(201);
    assert_eq!(other.body["starts_at"], "2030-03-02T09:00:00Z");

    // Any user may book, not only administrators.
    let (plain_id, plain) = {
        let created = app
            .create_user(
                &admin,
                json!({
                    "first_name": "Frank", "last_name": "Desk", "email": "frank@example.test",
                    "user_type": "non_clinical", "permissions": ["manage_schedule"],
                }),
            )
            .await;
        (
            id_of(&created),
            app.login("frank@example.test", PASSWORD).await,
        )
    };
    assert_ne!(plain_id, carla);
    book(&app, &plain, &carla, &main, &at(3, 9, 0), &at(3, 10, 0))
        .await
        .expect(201);
    assert_eq!(report(&app, &admin, "").await.len(), 3);

    app.call(
        Method::POST,
        "/v1/appointments",
        None,
        Some(json!({
            "user_id": carla, "clinic_id": main, "client_ref": "x",
            "starts_at": at(4, 9, 0), "ends_at": at(4, 10, 0),
        })),
    )
    .await
    .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn a_user_created_as_clinical_is_bookable_before_their_first_login() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let fresh = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "Carla", "last_name": "Fresh", "email": "carla@example.test",
                "user_type": "clinical",
            }),
        )
        .await
        .expect(201)
        .body;
    assert!(fresh["last_login_at"].is_null());
    book(
        &app,
        &admin,
        &id_of(&fresh),
        &app.site.clinic_id,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn non_clinical_users_are_not_bookable() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    book(&app, &admin, &nina, &main, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect_problem(422, "not_bookable");
    // The (non-clinical) administrator neither.
    book(
        &app,
        &admin,
        &app.site.admin_id.to_string(),
        &main,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "not_bookable");
    assert!(report(&app, &admin, "").await.is_empty());
}

#[tokio::test]
async fn deactivated_users_are_not_bookable() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    set_status(&app, &admin, &carla, "deactivate")
        .await
        .expect(200);
    book(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect_problem(422, "not_bookable");
    set_status(&app, &admin, &carla, "reactivate")
        .await
        .expect(200);
    book(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect(201);
}

#[tokio::test]
async fn a_user_switched_to_clinical_is_bookable_only_after_their_next_login() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    // Clinical now (the list says so) but without a diary until she logs in.
    book(&app, &admin, &nina, &main, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect_problem(422, "not_bookable");
    diary(&app, &admin, &nina)
        .await
        .expect_problem(409, "diary_disabled");

    app.login(&email_of("Nina"), PASSWORD).await;
    let id = booked(&app, &admin, &nina, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let listed = diary(&app, &admin, &nina).await.expect(200);
    assert_eq!(ids(&items(&listed)), vec![id]);
}

#[tokio::test]
async fn a_user_switched_to_non_clinical_is_not_bookable_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let switched = set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    // Her diary has not been switched off yet, but she can no longer be booked.
    assert_eq!(switched.body["diary_enabled"], true);
    book(&app, &admin, &carla, &main, &at(2, 9, 0), &at(2, 10, 0))
        .await
        .expect_problem(422, "not_bookable");
    assert_eq!(report(&app, &admin, "").await.len(), 1);
}

#[tokio::test]
async fn overlapping_appointments_of_one_user_conflict_but_touching_ones_do_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let second = add_clinic(&app, &admin, "Harbour").await;
    let carla = id_of(&user_at(&app, &admin, "Carla", "clinical", &[&main, &second]).await);
    let cleo = user(&app, &admin, "Cleo", "clinical").await;
    booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;

    for (starts, ends) in [
        (at(1, 9, 0), at(1, 10, 0)),
        (at(1, 9, 30), at(1, 10, 30)),
        (at(1, 8, 30), at(1, 9, 30)),
        (at(1, 8, 0), at(1, 11, 0)),
        (at(1, 9, 15), at(1, 9, 45)),
        (at(1, 9, 59), at(1, 10, 0)),
    ] {
        let answer = book(&app, &admin, &carla, &main, &starts, &ends)
            .await
            .expect_problem(409, "appointment_overlaps");
        assert!(answer.body["detail"].is_string());
    }
    // At another of her clinics it is still her time.
    book(&app, &admin, &carla, &second, &at(1, 9, 30), &at(1, 9, 45))
        .await
        .expect_problem(409, "appointment_overlaps");

    // Touching (end == start) is fine on both sides.
    booked(&app, &admin, &carla, &main, &at(1, 10, 0), &at(1, 11, 0)).await;
    booked(&app, &admin, &carla, &second, &at(1, 8, 0), &at(1, 9, 0)).await;
    // Another user at the same time is fine.
    booked(&app, &admin, &cleo, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    assert_eq!(report(&app, &admin, "").await.len(), 4);
}

#[tokio::test]
async fn a_clinic_the_user_has_no_access_to_is_not_bookable() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let second = add_clinic(&app, &admin, "Harbour").await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    book(&app, &admin, &carla, &second, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect_problem(422, "not_bookable");

    // A clinic that does not exist, or is another site's, is a bad field.
    let unknown = book(
        &app,
        &admin,
        &carla,
        &uuid::Uuid::new_v4().to_string(),
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&unknown, "clinic_id");
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let foreign = book(
        &app,
        &admin,
        &carla,
        &other.clinic_id,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&foreign, "clinic_id");

    // A user with access to that clinic can be booked there.
    let cleo = id_of(&user_at(&app, &admin, "Cleo", "clinical", &[&main, &second]).await);
    booked(&app, &admin, &cleo, &second, &at(1, 9, 0), &at(1, 10, 0)).await;
}

#[tokio::test]
async fn ends_at_must_be_after_starts_at() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    for (starts, ends) in [
        (at(1, 9, 0), at(1, 9, 0)),
        (at(1, 9, 0), at(1, 8, 0)),
        (at(1, 9, 0), at(3, 9, 0)),
    ] {
        let answer = book(&app, &admin, &carla, &main, &starts, &ends)
            .await
            .expect_problem(422, "validation_failed");
        assert_names_field(&answer, "ends_at");
    }
    let answer = app
        .post(
            &admin,
            "/v1/appointments",
            json!({
                "user_id": carla, "clinic_id": main, "client_ref": "x",
                "starts_at": "tomorrow", "ends_at": at(1, 9, 0),
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "starts_at");
    let answer = app
        .post(
            &admin,
            "/v1/appointments",
            json!({
                "user_id": carla, "clinic_id": main, "client_ref": "   ",
                "starts_at": at(1, 9, 0), "ends_at": at(1, 10, 0),
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "client_ref");
    assert!(report(&app, &admin, "").await.is_empty());
}

#[tokio::test]
async fn an_unknown_user_is_a_validation_error_naming_user_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let answer = book(
        &app,
        &admin,
        &uuid::Uuid::new_v4().to_string(),
        &main,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");

    // Another site's clinical user is unknown here too.
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;
    let bertha = app
        .create_user(
            &other_admin,
            json!({
                "first_name": "Bertha", "last_name": "Benz", "email": "bertha@elsewhere.test",
                "user_type": "clinical",
            }),
        )
        .await;
    let answer = book(
        &app,
        &admin,
        &id_of(&bertha),
        &main,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");
    let answer = app
        .post(
            &admin,
            "/v1/appointments",
            json!({
                "user_id": "not-a-uuid", "clinic_id": main, "client_ref": "x",
                "starts_at": at(1, 9, 0), "ends_at": at(1, 10, 0),
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");
}
