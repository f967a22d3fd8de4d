//! Rule 3: access only to clinics the actor has access to

use super::*;

#[tokio::test]
async fn rule_3_clinic_admins_grant_and_remove_only_their_clinics_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;

    // Granting North, which Clara lacks.
    let answer = put_clinics(&app, &s.clara, &s.in_main, &[&s.main, &s.north], &s.main).await;
    expect_refusal(answer, "clinic_ids", "clinic_not_accessible");
    assert_eq!(clinics_of(&app, &admin, &s.in_main).await, set(&[&s.main]));
    // Removing North from a user they share Main with.
    let answer = put_clinics(&app, &s.clara, &s.in_both, &[&s.main], &s.main).await;
    expect_refusal(answer, "clinic_ids", "clinic_not_accessible");
    assert_eq!(
        clinics_of(&app, &admin, &s.in_both).await,
        set(&[&s.main, &s.north])
    );

    // A site admin has every clinic of the site.
    let granted = put_clinics(&app, &admin, &s.in_main, &[&s.main, &s.north], &s.main)
        .await
        .expect(200);
    assert_eq!(
        strings(&granted.body["clinic_ids"]),
        set(&[&s.main, &s.north])
    );
    put_clinics(&app, &admin, &s.in_both, &[&s.main], &s.main)
        .await
        .expect(200);

    // Within her clinics Clara may: remove Main from a user whose default is East.
    let east = add_clinic(&app, &admin, "East").await;
    let in_main_east = staff(&app, &admin, "me@example.test")
        .clinics(&[&east, &s.main])
        .create()
        .await;
    let moved = put_clinics(&app, &s.clara, &in_main_east, &[&east], &east)
        .await
        .expect(200);
    assert_eq!(strings(&moved.body["clinic_ids"]), set(&[&east]));
}

#[tokio::test]
async fn rule_3_clinic_admins_grant_and_remove_only_their_clinics_bulk() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;

    let report = bulk(
        &app,
        &s.clara,
        json!({ "user_ids": [s.in_main, s.in_both], "add_clinic_ids": [s.north] }),
    )
    .await
    .expect(200)
    .body;
    // in_both already has North: a no-op, not a refusal.
    assert_eq!(report["outcome"], "failed");
    assert_eq!(counts(&report, "clinics"), (0, 1, 1));
    assert_eq!(
        group(&report, "clinic_not_accessible", "clinic"),
        Some((1, set(&[&s.in_main])))
    );
    let report = bulk(
        &app,
        &s.clara,
        json!({ "user_ids": [s.in_main, s.in_both], "remove_clinic_ids": [s.north] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "failed");
    assert_eq!(counts(&report, "clinics"), (0, 1, 1));
    assert_eq!(
        group(&report, "clinic_not_accessible", "clinic"),
        Some((1, set(&[&s.in_both])))
    );
    assert_eq!(clinics_of(&app, &admin, &s.in_main).await, set(&[&s.main]));
    assert_eq!(
        clinics_of(&app, &admin, &s.in_both).await,
        set(&[&s.main, &s.north])
    );

    // The site admin may.
    let report = bulk(
        &app,
        &admin,
        json!({ "user_ids": [s.in_main], "add_clinic_ids": [s.north] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "success");
    assert_eq!(counts(&report, "clinics"), (1, 0, 0));
    assert_eq!(
        clinics_of(&app, &admin, &s.in_main).await,
        set(&[&s.main, &s.north])
    );
}
