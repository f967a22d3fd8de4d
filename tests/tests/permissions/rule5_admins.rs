//! Rule 5: admin permissions; the last site admin and the last clinic admin of a clinic

use super::*;

#[tokio::test]
async fn rule_5_bulk_never_removes_admin_permissions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site_admin_2 = staff(&app, &admin, "sa2@example.test")
        .profession("OTHER")
        .permissions(&["site_admin"])
        .create()
        .await;
    let clinic_admin = staff(&app, &admin, "ca@example.test")
        .profession("OTHER")
        .permissions(&["clinic_admin", "view_reports"])
        .create()
        .await;
    let plain = staff(&app, &admin, "plain@example.test")
        .permissions(&["view_reports"])
        .create()
        .await;

    let report = bulk(
        &app,
        &admin,
        json!({
            "user_ids": [site_admin_2, clinic_admin, plain],
            "remove_permissions": ["site_admin", "clinic_admin"],
        }),
    )
    .await
    .expect(200)
    .body;
    // Each holder refuses its own; removing what a user lacks is a no-op.
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["users_updated"], 0);
    assert_eq!(counts(&report, "permissions"), (0, 2, 4));
    assert_eq!(
        group(&report, "admin_permission_protected", "permission"),
        Some((2, set(&[&site_admin_2, &clinic_admin])))
    );
    assert_eq!(
        permissions_of(&app, &admin, &site_admin_2).await,
        set(&["site_admin"])
    );
    assert_eq!(
        permissions_of(&app, &admin, &clinic_admin).await,
        set(&["clinic_admin", "view_reports"])
    );

    // Together with an allowed change: partial, and the allowed one is applied.
    let report = bulk(
        &app,
        &admin,
        json!({
            "user_ids": [clinic_admin, plain],
            "remove_permissions": ["clinic_admin", "view_reports"],
        }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(counts(&report, "permissions"), (2, 1, 1));
    assert_eq!(
        permissions_of(&app, &admin, &clinic_admin).await,
        set(&["clinic_admin"])
    );
    assert!(permissions_of(&app, &admin, &plain).await.is_empty());

    // One by one site_admin can be removed (another site admin exists).
    put_permissions(&app, &admin, &site_admin_2, json!([]))
        .await
        .expect(200);
}

#[tokio::test]
async fn rule_5_the_last_site_admin_keeps_site_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = app.site.admin_id.to_string();

    put_permissions(&app, &admin, &me, json!([]))
        .await
        .expect_problem(409, "last_admin");
    put_permissions(&app, &admin, &me, json!(["clinic_admin", "view_reports"]))
        .await
        .expect_problem(409, "last_admin");
    let now = read_user(&app, &admin, &me).await;
    assert_eq!(strings(&now["permissions"]), set(&["site_admin"]));
    assert_eq!(now["version"], 1);

    // An inactive site admin does not count.
    let sleeper = staff(&app, &admin, "sleeper@example.test")
        .profession("OTHER")
        .permissions(&["site_admin"])
        .create()
        .await;
    app.call(
        Method::POST,
        &format!("/v1/users/{sleeper}/deactivate"),
        Some(&admin),
        None,
    )
    .await
    .expect(200);
    put_permissions(&app, &admin, &me, json!([]))
        .await
        .expect_problem(409, "last_admin");

    // Once another active site admin exists, it works — and then that one is the last.
    let other = staff(&app, &admin, "other@example.test")
        .profession("OTHER")
        .permissions(&["site_admin"])
        .create()
        .await;
    let other_token = app.login("other@example.test", PASSWORD).await;
    let demoted = put_permissions(&app, &admin, &me, json!(["view_reports"]))
        .await
        .expect(200);
    assert_eq!(demoted.body["permissions"], json!(["view_reports"]));
    put_permissions(&app, &other_token, &other, json!([]))
        .await
        .expect_problem(409, "last_admin");
    assert_eq!(
        permissions_of(&app, &other_token, &other).await,
        set(&["site_admin"])
    );
}

#[tokio::test]
async fn rule_5_the_last_clinic_admin_of_a_clinic_keeps_the_permission() {
    let (app, admin, main, north) = two_clinics().await;
    // Clara administers Main and North; Nora only North.
    let clara = staff(&app, &admin, "clara@example.test")
        .profession("OTHER")
        .permissions(&["clinic_admin"])
        .clinics(&[&main, &north])
        .create()
        .await;
    let nora = staff(&app, &admin, "nora@example.test")
        .profession("OTHER")
        .permissions(&["clinic_admin"])
        .clinics(&[&north])
        .create()
        .await;

    // Clara is the last clinic admin of Main.
    put_permissions(&app, &admin, &clara, json!([]))
        .await
        .expect_problem(409, "last_admin");
    assert_eq!(
        permissions_of(&app, &admin, &clara).await,
        set(&["clinic_admin"])
    );
    // Nora is not the last of North (Clara has it too).
    put_permissions(&app, &admin, &nora, json!([]))
        .await
        .expect(200);
    // Now Clara is the last of North as well; with another admin of Main she still is.
    let max = staff(&app, &admin, "max@example.test")
        .profession("OTHER")
        .permissions(&["clinic_admin"])
        .clinics(&[&main])
        .create()
        .await;
    put_permissions(&app, &admin, &clara, json!([]))
        .await
        .expect_problem(409, "last_admin");
    // Another admin of North: now Clara's permission can go.
    put_permissions(&app, &admin, &nora, json!(["clinic_admin"]))
        .await
        .expect(200);
    let demoted = put_permissions(&app, &admin, &clara, json!(["view_reports"]))
        .await
        .expect(200);
    assert_eq!(demoted.body["permissions"], json!(["view_reports"]));
    assert_eq!(demoted.body["version"], 2);
    // And Max is the last of Main.
    put_permissions(&app, &admin, &max, json!([]))
        .await
        .expect_problem(409, "last_admin");
}

#[tokio::test]
async fn rule_5_the_last_clinic_admin_of_a_clinic_keeps_that_clinic() {
    let (app, admin, main, north) = two_clinics().await;
    // Clara: clinic admin of Main (default) and North, the only one of North.
    let clara = staff(&app, &admin, "clara@example.test")
        .profession("OTHER")
        .permissions(&["clinic_admin"])
        .clinics(&[&main, &north])
        .create()
        .await;

    put_clinics(&app, &admin, &clara, &[&main], &main)
        .await
        .expect_problem(409, "last_admin");
    assert_eq!(
        clinics_of(&app, &admin, &clara).await,
        set(&[&main, &north])
    );

    // A non-admin of North does not help; a clinic admin of North does.
    staff(&app, &admin, "plain@example.test")
        .permissions(&["view_reports"])
        .clinics(&[&north])
        .create()
        .await;
    put_clinics(&app, &admin, &clara, &[&main], &main)
        .await
        .expect_problem(409, "last_admin");
    staff(&app, &admin, "nora@example.test")
        .profession("OTHER")
        .permissions(&["clinic_admin"])
        .clinics(&[&north])
        .create()
        .await;
    let moved = put_clinics(&app, &admin, &clara, &[&main], &main)
        .await
        .expect(200);
    assert_eq!(moved.body["clinic_ids"], json!([main]));
}

#[tokio::test]
async fn rule_5_bulk_clinic_removal_never_leaves_a_clinic_without_its_clinic_admin() {
    let (app, admin, main, north) = two_clinics().await;
    // Clara is the only clinic admin of North (her default is Main).
    let clara = staff(&app, &admin, "clara@example.test")
        .profession("OTHER")
        .permissions(&["clinic_admin"])
        .clinics(&[&main, &north])
        .create()
        .await;
    let plain = staff(&app, &admin, "plain@example.test")
        .clinics(&[&main, &north])
        .create()
        .await;

    let answer = bulk(
        &app,
        &admin,
        json!({ "user_ids": [clara, plain], "remove_clinic_ids": [north] }),
    )
    .await;
    // Either the whole request is refused (409 last_admin) or Clara's pair is refused;
    // what must not happen is North losing its last clinic admin.
    if answer.status.as_u16() == 200 {
        let report = answer.body;
        assert_eq!(counts(&report, "clinics").1, 1, "{report:#}");
        let refused_users: BTreeSet<String> = report["refusals"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| strings(&g["user_ids"]))
            .collect();
        assert_eq!(refused_users, set(&[&clara]), "{report:#}");
    } else {
        answer.expect_problem(409, "last_admin");
    }
    assert_eq!(
        clinics_of(&app, &admin, &clara).await,
        set(&[&main, &north]),
        "the last clinic admin of North lost North in a bulk update"
    );
}
