//! Referrals: only a connected user refers; every user of the site reads them (filtered by
//! status and user, in pages), after a forget too; another site sees `404`.

use super::*;

const ME: &str = "/v1/me/integrations/imaging";

pub(super) async fn connected(
    app: &TestApp,
    admin: &str,
    first: &str,
    email: &str,
) -> (String, String) {
    let (id, token) = signed_in_staff(app, admin, first, "Referrer", email).await;
    app.post(
        &token,
        &format!("{ME}/connect"),
        json!({"first_name": first, "last_name": "Referrer", "email": email}),
    )
    .await
    .expect(200);
    (id, token)
}

pub(super) fn referral(patient: &str) -> Value {
    json!({"patient_name": patient, "body_part": "Left knee", "notes": "Twisted it skiing"})
}

#[tokio::test(flavor = "multi_thread")]
async fn connected_users_refer_and_every_user_of_the_site_reads_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    set_switch(&app, &admin, None, json!(true))
        .await
        .expect(200);
    let (ada_id, ada) = connected(&app, &admin, "Ada", "ada@ref.test").await;
    let (bo_id, bo) = connected(&app, &admin, "Bo", "bo@ref.test").await;
    let (_, reader) = signed_in_staff(&app, &admin, "Cy", "Reader", "cy@ref.test").await;

    app.post(&reader, "/v1/referrals", referral("Nobody"))
        .await
        .expect_problem(403, "not_connected");
    app.post(
        &ada,
        "/v1/referrals",
        json!({"patient_name": "", "body_part": "Knee"}),
    )
    .await
    .expect_problem(422, "validation_failed");

    let first = app
        .post(&ada, "/v1/referrals", referral("Pat One"))
        .await
        .expect(201);
    assert_eq!(first.body["status"], "sent");
    assert_eq!(first.body["user_id"], ada_id.as_str());
    let location = first.header("location").unwrap().to_owned();
    app.post(&ada, "/v1/referrals", referral("Pat Two"))
        .await
        .expect(201);
    app.post(&bo, "/v1/referrals", referral("Pat Three"))
        .await
        .expect(201);

    // The provider holds them, with Staffroom's webhook as their callback.
    let held = app.sim_state()["imaging"]["referrals"].clone();
    assert_eq!(held.as_array().unwrap().len(), 3, "{held:#}");
    assert!(
        held[0]["callback_url"]
            .as_str()
            .unwrap()
            .ends_with("/v1/webhooks/imaging")
    );

    let all = app.get(&reader, "/v1/referrals").await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
    let bos = app
        .get(&reader, &format!("/v1/referrals?user_id={bo_id}"))
        .await
        .expect(200);
    assert_eq!(bos.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(bos.body["items"][0]["patient_name"], "Pat Three");
    let sent = app
        .get(&reader, "/v1/referrals?status=sent&limit=2")
        .await
        .expect(200);
    assert_eq!(sent.body["items"].as_array().unwrap().len(), 2);
    let cursor = sent.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &reader,
            &format!("/v1/referrals?status=sent&limit=2&cursor={cursor}"),
        )
        .await
        .expect(200);
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    let none = app
        .get(&reader, "/v1/referrals?status=reported")
        .await
        .expect(200);
    assert!(none.body["items"].as_array().unwrap().is_empty());

    // Still readable after the referring user forgot the connection.
    app.post(&ada, &format!("{ME}/disconnect"), json!({}))
        .await
        .expect(200);
    app.post(&ada, &format!("{ME}/forget"), json!({}))
        .await
        .expect(200);
    let read = app.get(&reader, &location).await.expect(200);
    assert_eq!(read.body["patient_name"], "Pat One");
    app.post(&ada, "/v1/referrals", referral("Too late"))
        .await
        .expect_problem(403, "not_connected");
    assert_eq!(app.audit_events(&admin, "referral.created").await.len(), 3);

    // Another site sees none of them.
    let other = app.other_site("Other Clinic", "boss@other-ref.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;
    app.get(&other_admin, &location)
        .await
        .expect_problem(404, "not_found");
    let theirs = app.get(&other_admin, "/v1/referrals").await.expect(200);
    assert!(theirs.body["items"].as_array().unwrap().is_empty());
}
