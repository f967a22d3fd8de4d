//! Clinics with appointments

use super::*;

#[tokio::test]
async fn a_clinic_with_appointments_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let harbour = add_clinic(&app, &admin, "Harbour").await;
    let empty = add_clinic(&app, &admin, "Empty").await;
    let carla = id_of(
        &user_at(
            &app,
            &admin,
            "Carla",
            "clinical",
            &[&main, &harbour, &empty],
        )
        .await,
    );
    let id = booked(&app, &admin, &carla, &harbour, &at(1, 9, 0), &at(1, 10, 0)).await;

    let refused = app
        .delete(&admin, &format!("/v1/clinics/{harbour}"))
        .await
        .expect_problem(409, "clinic_has_appointments");
    assert!(refused.body["detail"].is_string());
    app.get(&admin, &format!("/v1/clinics/{harbour}"))
        .await
        .expect(200);

    // Still so once the user has gone.
    set_status(&app, &admin, &carla, "deactivate")
        .await
        .expect(200);
    app.delete(&admin, &format!("/v1/clinics/{harbour}"))
        .await
        .expect_problem(409, "clinic_has_appointments");
    assert_eq!(
        report(&app, &admin, &format!("clinic_id={harbour}")).await,
        vec![id]
    );

    // A clinic without appointments is deleted as before.
    app.delete(&admin, &format!("/v1/clinics/{empty}"))
        .await
        .expect(204);
    app.get(&admin, &format!("/v1/clinics/{empty}"))
        .await
        .expect_problem(404, "not_found");
}
