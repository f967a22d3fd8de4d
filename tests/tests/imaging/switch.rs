//! The site's switch.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_switch_is_off_until_a_site_admin_turns_it_on_and_every_user_reads_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, staff) = signed_in_staff(&app, &admin, "Ada", "Okafor", "ada@imaging.test").await;

    let off = app.get(&staff, SWITCH).await.expect(200);
    assert_eq!(off.body, json!({"enabled": false}));
    assert_eq!(off.header("etag"), Some("\"0\""));

    // Only a site administrator changes it.
    set_switch(&app, &staff, None, json!(true))
        .await
        .expect_problem(403, "forbidden");
    let clinic_admin = app
        .create_user(
            &admin,
            json!({"first_name": "Cli", "last_name": "Nic", "email": "ca@imaging.test",
                   "user_type": "non_clinical", "permissions": ["clinic_admin"]}),
        )
        .await;
    let clinic_admin = app
        .login(clinic_admin["email"].as_str().unwrap(), PASSWORD)
        .await;
    set_switch(&app, &clinic_admin, None, json!(true))
        .await
        .expect_problem(403, "forbidden");

    let on = set_switch(&app, &admin, Some("\"0\""), json!(true))
        .await
        .expect(200);
    assert_eq!(on.body, json!({"enabled": true}));
    assert_eq!(on.header("etag"), Some("\"1\""));
    let read = app.get(&staff, SWITCH).await.expect(200);
    assert_eq!(read.body["enabled"], true);
    assert_eq!(read.header("etag"), Some("\"1\""));

    // Setting what it is changes nothing and records nothing.
    let same = set_switch(&app, &admin, None, json!(true))
        .await
        .expect(200);
    assert_eq!(same.header("etag"), Some("\"1\""));
    let enabled = app.audit_events(&admin, "imaging.enabled").await;
    assert_eq!(enabled.len(), 1, "{enabled:#?}");
    assert_eq!(enabled[0]["before"]["enabled"], false);
    assert_eq!(enabled[0]["after"]["enabled"], true);
    assert_eq!(enabled[0]["actor_id"], app.site.admin_id.to_string());

    // A stale ETag changes nothing.
    set_switch(&app, &admin, Some("\"0\""), json!(false))
        .await
        .expect_problem(412, "precondition_failed");
    assert_eq!(app.get(&admin, SWITCH).await.body["enabled"], true);

    let off = set_switch(&app, &admin, Some("\"1\""), json!(false))
        .await
        .expect(200);
    assert_eq!(off.body["enabled"], false);
    assert_eq!(off.header("etag"), Some("\"2\""));
    assert_eq!(app.audit_events(&admin, "imaging.disabled").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_name_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for body in [
        json!({"enabled": "yes"}),
        json!({}),
        json!({"enabled": true, "extra": 1}),
    ] {
        let refused = send(&app, Method::PUT, SWITCH, &admin, None, Some(body.clone())).await;
        assert_eq!(refused.status.as_u16(), 422, "{body}: {:#}", refused.body);
    }
    assert_eq!(app.get(&admin, SWITCH).await.body["enabled"], false);
    assert!(app.audit_events(&admin, "imaging.enabled").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_sites_switch_is_its_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let other = app.other_site("Other Clinic", "boss@other-imaging.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;

    set_switch(&app, &admin, None, json!(true))
        .await
        .expect(200);
    assert_eq!(app.get(&other_admin, SWITCH).await.body["enabled"], false);
    assert!(
        app.audit_events(&other_admin, "imaging.enabled")
            .await
            .is_empty()
    );
}
