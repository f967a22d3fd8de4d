//! What a clinic administrator may do

use super::*;

#[tokio::test]
async fn clinic_admins_administer_only_users_sharing_a_clinic_and_no_site_admins_single() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;
    let me = app.site.admin_id.to_string();

    for id in [&s.in_main, &s.in_both] {
        put_permissions(&app, &s.clara, id, json!(["view_reports"]))
            .await
            .expect(200);
    }
    put_permissions(&app, &s.clara, &s.in_north, json!(["view_reports"]))
        .await
        .expect_problem(403, "forbidden");
    put_clinics(&app, &s.clara, &s.in_north, &[&s.north, &s.main], &s.north)
        .await
        .expect_problem(403, "forbidden");
    // The site admin shares Main with Clara, but is not hers to administer.
    put_permissions(&app, &s.clara, &me, json!(["site_admin", "view_reports"]))
        .await
        .expect_problem(403, "forbidden");
    put_permissions(&app, &s.clara, &me, json!([]))
        .await
        .expect_problem(403, "forbidden");
    put_clinics(&app, &s.clara, &me, &[&s.main], &s.main)
        .await
        .expect_problem(403, "forbidden");
    assert!(permissions_of(&app, &admin, &s.in_north).await.is_empty());
    assert_eq!(
        permissions_of(&app, &admin, &me).await,
        set(&["site_admin"])
    );

    // Users of another site are not found, never forbidden.
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let foreign = other.admin_id.to_string();
    put_permissions(&app, &s.clara, &foreign, json!([]))
        .await
        .expect_problem(404, "not_found");
    put_permissions(&app, &admin, &foreign, json!([]))
        .await
        .expect_problem(404, "not_found");
    put_clinics(&app, &admin, &foreign, &[&s.main], &s.main)
        .await
        .expect_problem(404, "not_found");

    // Plain users administer nobody.
    staff(&app, &admin, "plain@example.test")
        .permissions(&["view_reports"])
        .clinics(&[&s.main])
        .create()
        .await;
    let plain = app.login("plain@example.test", PASSWORD).await;
    put_permissions(&app, &plain, &s.in_main, json!([]))
        .await
        .expect_problem(403, "forbidden");
    bulk(
        &app,
        &plain,
        json!({ "user_ids": [s.in_main], "add_permissions": ["view_reports"] }),
    )
    .await
    .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn clinic_admins_never_grant_site_admin_and_may_grant_clinic_admin_in_their_clinics() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;

    let answer = put_permissions(&app, &s.clara, &s.in_main, json!(["site_admin"])).await;
    expect_refusal(answer, "permissions", "permission_not_grantable");
    assert!(permissions_of(&app, &admin, &s.in_main).await.is_empty());

    let report = bulk(
        &app,
        &s.clara,
        json!({ "user_ids": [s.in_main, s.in_both], "add_permissions": ["site_admin"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "failed");
    assert_eq!(counts(&report, "permissions"), (0, 2, 0));
    assert_eq!(
        group(&report, "permission_not_grantable", "permission"),
        Some((2, set(&[&s.in_main, &s.in_both])))
    );
    // Removing site_admin from users who lack it is a no-op.
    let report = bulk(
        &app,
        &s.clara,
        json!({ "user_ids": [s.in_main], "remove_permissions": ["site_admin"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "success");
    assert_eq!(counts(&report, "permissions"), (0, 0, 1));

    // clinic_admin within their clinics is theirs to give.
    let granted = put_permissions(&app, &s.clara, &s.in_main, json!(["clinic_admin"]))
        .await
        .expect(200);
    assert_eq!(granted.body["permissions"], json!(["clinic_admin"]));
    assert!(
        permissions_of(&app, &admin, &s.in_main)
            .await
            .contains("clinic_admin")
    );
    // The site admin may grant site_admin.
    put_permissions(&app, &admin, &s.in_both, json!(["site_admin"]))
        .await
        .expect(200);
}

#[tokio::test]
async fn clinic_admins_bulk_only_their_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = scoped(&app, &admin).await;
    let me = app.site.admin_id.to_string();

    // Explicit ids outside their scope are refused per user.
    let report = bulk(
        &app,
        &s.clara,
        json!({
            "user_ids": [s.in_main, s.in_north, me, s.in_both],
            "add_permissions": ["view_reports"],
        }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["selected"], 4);
    assert_eq!(report["users_updated"], 2);
    assert_eq!(counts(&report, "permissions"), (2, 2, 0));
    assert_eq!(
        group(&report, "not_administered", "permission"),
        Some((2, set(&[&s.in_north, &me])))
    );
    assert_eq!(reasons(&report).len(), 1);
    assert!(permissions_of(&app, &admin, &s.in_north).await.is_empty());
    assert_eq!(
        permissions_of(&app, &admin, &me).await,
        set(&["site_admin"])
    );

    // A filter selects only their users, silently: Clara herself, in_main, in_both.
    let report = bulk(
        &app,
        &s.clara,
        json!({ "filter": {}, "select_all": true, "add_permissions": ["manage_schedule"] }),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(report["outcome"], "success", "{report:#}");
    assert_eq!(report["selected"], 3);
    assert_eq!(report["users_updated"], 3);
    assert_eq!(counts(&report, "permissions"), (3, 0, 0));
    assert_eq!(report["refusals"], json!([]));
    for id in [&s.clara_id, &s.in_main, &s.in_both] {
        assert!(
            permissions_of(&app, &admin, id)
                .await
                .contains("manage_schedule")
        );
    }
    for id in [&s.in_north, &me] {
        assert!(
            !permissions_of(&app, &admin, id)
                .await
                .contains("manage_schedule")
        );
    }
    // Filtering by a clinic that is not theirs selects only their users in it.
    let report = bulk(
        &app,
        &s.clara,
        json!({
            "filter": { "clinic_id": s.north },
            "select_all": true,
            "add_permissions": ["manage_billing"],
        }),
    )
    .await
    .expect(200)
    .body;
    // in_both is in North and shares Main with Clara.
    assert_eq!(report["selected"], 1);
    assert_eq!(counts(&report, "permissions"), (1, 0, 0));
    assert!(
        permissions_of(&app, &admin, &s.in_both)
            .await
            .contains("manage_billing")
    );
    assert!(
        !permissions_of(&app, &admin, &s.in_north)
            .await
            .contains("manage_billing")
    );
}
