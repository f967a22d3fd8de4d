//! A user's own connection: the whole cycle, the provider's email rules, re-linking after
//! forgetting, and a provider outage that settles with exactly one provider user.

use std::time::Duration;

use staffroom_connectors::sim::Faults;

use super::*;

const ME: &str = "/v1/me/integrations/imaging";

/// A site with the switch on and one signed-in staff member.
async fn enabled_site() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    set_switch(&app, &admin, None, json!(true))
        .await
        .expect(200);
    let (_, staff) = signed_in_staff(&app, &admin, "Ada", "Okafor", "ada@imaging.test").await;
    (app, admin, staff)
}

async fn connect(app: &TestApp, token: &str, body: Value) -> staffroom_tests::Answer {
    app.post(token, &format!("{ME}/connect"), body).await
}

fn grace(email: &str) -> Value {
    json!({"title": "Dr", "first_name": "Grace", "last_name": "Hopper", "email": email,
           "marketing_opt_in": false})
}

/// The simulator's imaging users with `email` (case-insensitively).
fn provider_users(app: &TestApp, email: &str) -> Vec<Value> {
    app.sim_state()["imaging"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"].as_str().unwrap().eq_ignore_ascii_case(email))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_cycle_connect_update_disconnect_reconnect_forget() {
    let (app, admin, staff) = enabled_site().await;

    let before = app.get(&staff, ME).await.expect(200);
    assert_eq!(before.body["state"], "not_connected");
    assert_eq!(before.body["details"]["first_name"], "Ada");
    assert_eq!(before.body["details"]["email"], "ada@imaging.test");
    assert_eq!(before.header("etag"), Some("\"0\""));

    // Nothing but connect (or leave rules) from not_connected.
    app.post(&staff, &format!("{ME}/disconnect"), json!({}))
        .await
        .expect_problem(403, "not_connected");
    app.post(&staff, &format!("{ME}/forget"), json!({}))
        .await
        .expect_problem(409, "not_disconnected");

    let connected = connect(&app, &staff, grace("grace@imaging.test"))
        .await
        .expect(200);
    assert_eq!(connected.body["state"], "connected");
    assert_eq!(connected.body["relinked"], false);
    assert_eq!(connected.body["details"]["title"], "Dr");
    assert_eq!(provider_users(&app, "grace@imaging.test").len(), 1);
    connect(&app, &staff, grace("grace@imaging.test"))
        .await
        .expect_problem(409, "already_connected");

    // Title and names never change: each is named, and nothing changes.
    let refused = app
        .patch(
            &staff,
            ME,
            json!({"title": "Prof", "first_name": "G", "email": "x@imaging.test"}),
        )
        .await
        .expect_problem(422, "immutable_field");
    let immutable = |f: &str| (f.to_owned(), "immutable_field".to_owned());
    assert_eq!(
        refused.field_errors(),
        [immutable("title"), immutable("first_name")]
    );
    // `null` would clear a title or a name: refused the same way.
    let cleared = app
        .patch(&staff, ME, json!({"title": null, "last_name": null}))
        .await
        .expect_problem(422, "immutable_field");
    assert_eq!(
        cleared.field_errors(),
        [immutable("title"), immutable("last_name")]
    );
    let updated = app
        .patch(
            &staff,
            ME,
            json!({"email": "grace.h@imaging.test", "marketing_opt_in": true}),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["details"]["email"], "grace.h@imaging.test");
    assert_eq!(updated.body["details"]["marketing_opt_in"], true);
    assert_eq!(updated.body["details"]["first_name"], "Grace");
    assert_eq!(provider_users(&app, "grace.h@imaging.test").len(), 1);

    let refreshed = app
        .post(&staff, &format!("{ME}/reconnect"), json!({}))
        .await
        .expect(200);
    assert_eq!(refreshed.body["state"], "connected");

    let left = app
        .post(&staff, &format!("{ME}/disconnect"), json!({}))
        .await
        .expect(200);
    assert_eq!(left.body["state"], "disconnected");
    app.patch(&staff, ME, json!({"marketing_opt_in": false}))
        .await
        .expect_problem(403, "not_connected");
    let back = app
        .post(&staff, &format!("{ME}/reconnect"), json!({}))
        .await
        .expect(200);
    assert_eq!(back.body["state"], "connected");
    assert_eq!(back.body["details"]["email"], "grace.h@imaging.test");

    app.post(&staff, &format!("{ME}/disconnect"), json!({}))
        .await
        .expect(200);
    let forgotten = app
        .post(&staff, &format!("{ME}/forget"), json!({}))
        .await
        .expect(200);
    assert_eq!(forgotten.body["state"], "forgotten");
    assert_eq!(
        forgotten.body["details"]["first_name"], "Ada",
        "prefilled again"
    );

    // Every step is audited.
    for action in [
        "imaging.connect_requested",
        "imaging.connected",
        "imaging.updated",
        "imaging.reconnected",
        "imaging.disconnected",
        "imaging.forgotten",
    ] {
        assert!(
            !app.audit_events(&admin, action).await.is_empty(),
            "{action}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_site_refuses_connecting() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, staff) = signed_in_staff(&app, &admin, "Ada", "Okafor", "ada@imaging.test").await;
    connect(&app, &staff, grace("grace@imaging.test"))
        .await
        .expect_problem(409, "imaging_disabled");
    assert!(provider_users(&app, "grace@imaging.test").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_in_use_answers_409_and_makes_nothing() {
    let (app, admin, staff) = enabled_site().await;
    let (_, other) = signed_in_staff(&app, &admin, "Bo", "Lind", "bo@imaging.test").await;
    connect(&app, &other, grace("shared@imaging.test"))
        .await
        .expect(200);

    let refused = connect(&app, &staff, grace("SHARED@imaging.test"))
        .await
        .expect_problem(409, "email_in_use");
    assert_eq!(refused.body["state"], "not_connected");
    let mine = app.get(&staff, ME).await.expect(200);
    assert_eq!(mine.body["state"], "not_connected");
    assert_eq!(provider_users(&app, "shared@imaging.test").len(), 1);

    // An update to a taken email changes nothing either.
    connect(&app, &staff, grace("mine@imaging.test"))
        .await
        .expect(200);
    app.patch(&staff, ME, json!({"email": "shared@imaging.test"}))
        .await
        .expect_problem(409, "email_in_use");
    let mine = app.get(&staff, ME).await.expect(200);
    assert_eq!(mine.body["state"], "connected");
    assert_eq!(mine.body["details"]["email"], "mine@imaging.test");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_forget_the_same_email_relinks_with_the_original_names_and_a_new_one_creates() {
    let (app, _, staff) = enabled_site().await;
    connect(&app, &staff, grace("grace@imaging.test"))
        .await
        .expect(200);
    app.post(&staff, &format!("{ME}/disconnect"), json!({}))
        .await
        .expect(200);
    app.post(&staff, &format!("{ME}/forget"), json!({}))
        .await
        .expect(200);

    let relinked = connect(
        &app,
        &staff,
        json!({"first_name": "Other", "last_name": "Names", "email": "Grace@imaging.test"}),
    )
    .await
    .expect(200);
    assert_eq!(relinked.body["relinked"], true);
    assert_eq!(relinked.body["details"]["title"], "Dr");
    assert_eq!(relinked.body["details"]["first_name"], "Grace");
    assert_eq!(relinked.body["details"]["last_name"], "Hopper");
    assert_eq!(provider_users(&app, "grace@imaging.test").len(), 1);

    app.post(&staff, &format!("{ME}/disconnect"), json!({}))
        .await
        .expect(200);
    app.post(&staff, &format!("{ME}/forget"), json!({}))
        .await
        .expect(200);
    let fresh = connect(
        &app,
        &staff,
        json!({"first_name": "Ada", "last_name": "Okafor", "email": "ada.new@imaging.test"}),
    )
    .await
    .expect(200);
    assert_eq!(fresh.body["relinked"], false);
    assert_eq!(fresh.body["details"]["first_name"], "Ada");
    assert_eq!(provider_users(&app, "ada.new@imaging.test").len(), 1);
    assert_eq!(
        app.sim_state()["imaging"]["users"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_outage_during_connect_settles_with_exactly_one_provider_user() {
    let (app, _, staff) = enabled_site().await;
    // Every call does its work and then hangs past the client's timeout.
    app.set_faults(Faults {
        timeout_rate: 1.0,
        hang_ms: Some(3_000),
        ..Faults::default()
    });
    let pending = connect(&app, &staff, grace("slow@imaging.test"))
        .await
        .expect(202);
    assert_eq!(pending.body["state"], "pending");
    assert_eq!(pending.body["pending_action"], "connect");
    app.post(&staff, &format!("{ME}/disconnect"), json!({}))
        .await
        .expect_problem(409, "operation_pending");
    app.set_faults(Faults::default());

    let settled = app
        .eventually(Duration::from_secs(15), || async {
            let now = app.get(&staff, ME).await;
            (now.body["state"] == "connected").then_some(now)
        })
        .await
        .expect("the outbox settles the connect");
    assert_eq!(settled.body["details"]["email"], "slow@imaging.test");
    assert_eq!(provider_users(&app, "slow@imaging.test").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_account_has_no_connection() {
    let (app, admin, _) = enabled_site().await;
    let service = app.service_token(&admin, &["site_admin"]).await;
    app.get(&service, ME).await.expect_problem(403, "forbidden");
}
