//! Rule 4: the default clinic cannot be removed

use super::*;

#[tokio::test]
async fn rule_4_the_default_clinic_cannot_be_removed_single() {
    let (app, admin, main, north) = two_clinics().await;
    // Default North.
    let id = staff(&app, &admin, "u@example.test")
        .clinics(&[&north, &main])
        .create()
        .await;

    // Removing North while it stays the default.
    let answer = put_clinics(&app, &admin, &id, &[&main], &north).await;
    let answer = answer.expect_problem(422, "validation_failed");
    let codes: Vec<String> = answer.field_errors().into_iter().map(|(_, c)| c).collect();
    assert!(
        codes.iter().any(|c| c == "default_clinic_protected"),
        "removing the default clinic should be refused as default_clinic_protected: {:#}",
        answer.body
    );
    let now = read_user(&app, &admin, &id).await;
    assert_eq!(strings(&now["clinic_ids"]), set(&[&main, &north]));
    assert_eq!(now["default_clinic_id"], north.as_str());
    assert_eq!(now["version"], 1);
}

#[tokio::test]
async fn moving_the_default_and_removing_the_old_one_in_one_put_works() {
    let (app, admin, main, north) = two_clinics().await;
    let id = staff(&app, &admin, "u@example.test")
        .clinics(&[&north, &main])
        .create()
        .await;

    let moved = put_clinics(&app, &admin, &id, &[&main], &main)
        .await
        .expect(200);
    assert_eq!(moved.body["clinic_ids"], json!([main]));
    assert_eq!(moved.body["default_clinic_id"], main.as_str());
    assert_eq!(moved.body["version"], 2);
    assert_eq!(moved.header("etag"), Some(etag(2).as_str()));

    // Only moving the default (same clinics) is a change too.
    put_clinics(&app, &admin, &id, &[&main, &north], &main)
        .await
        .expect(200);
    let moved = put_clinics(&app, &admin, &id, &[&main, &north], &north)
        .await
        .expect(200);
    assert_eq!(moved.body["default_clinic_id"], north.as_str());
    assert_eq!(moved.body["version"], 4);
}

#[tokio::test]
async fn rule_4_the_default_clinic_cannot_be_removed_bulk() {
    let (app, admin, main, north) = two_clinics().await;
    let default_north = staff(&app, &admin, "dn@example.test")
        .clinics(&[&north, &main])
        .create()
        .await;
    let default_north_2 = staff(&app, &admin, "dn2@example.test")
        .clinics(&[&north])
        .create()
        .await;
    let default_main = staff(&app, &admin, "dm@example.test")
        .clinics(&[&main, &north])
        .create()
        .await;
    let only_main = staff(&app, &admin, "om@example.test")
        .clinics(&[&main])
        .create()
        .await;

    let report = bulk(
        &app,
        &admin,
        json!({
            "user_ids": [default_north, default_north_2, default_main, only_main],
            "remove_clinic_ids": [north],
        }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(counts(&report, "clinics"), (1, 2, 1));
    assert_eq!(report["users_updated"], 1);
    assert_eq!(
        group(&report, "default_clinic_protected", "clinic"),
        Some((2, set(&[&default_north, &default_north_2])))
    );
    assert_eq!(clinics_of(&app, &admin, &default_main).await, set(&[&main]));
    assert_eq!(
        clinics_of(&app, &admin, &default_north).await,
        set(&[&main, &north])
    );
    assert_eq!(
        clinics_of(&app, &admin, &default_north_2).await,
        set(&[&north])
    );
}
