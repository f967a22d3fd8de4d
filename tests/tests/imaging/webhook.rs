//! The reports webhook (`POST /v1/webhooks/imaging`, SPEC §6.2): a report the simulator
//! delivers, signed with the deployment's secret, shows on the referral as `reported` and
//! is audited; a redelivery of the same `webhook-id` answers `200` and changes nothing; a
//! forged, unsigned or stale delivery answers `401 invalid_signature` and changes nothing;
//! a correctly signed delivery for a referral nobody made answers `404`.

use std::time::Duration;

use staffroom_tests::{
    Answer, WEBHOOK_SECRET, conformance, unix_now as now, webhook_headers as signed,
};

use super::referrals::{connected, referral};
use super::*;

const WEBHOOK: &str = "/v1/webhooks/imaging";

/// A site with the switch on and a connected user's referral the provider took: the
/// administrator's token and the referral as answered.
async fn sent_referral(app: &TestApp) -> (String, Value) {
    let admin = app.admin_token().await;
    set_switch(app, &admin, None, json!(true)).await.expect(200);
    let (_, ada) = connected(app, &admin, "Ada", "ada@webhook.test").await;
    let made = app
        .post(&ada, "/v1/referrals", referral("Pat Report"))
        .await
        .expect(201);
    assert_eq!(made.body["status"], "sent");
    (admin, made.body)
}

/// Asks the simulator to deliver a report for the provider's referral `provider_id`
/// (`POST /_sim/imaging/referrals/{id}/report`); its answer.
async fn ask_for_report(app: &TestApp, provider_id: &str, body: Value) -> Value {
    let url = format!(
        "{}/_sim/imaging/referrals/{provider_id}/report",
        app.sim.base_url()
    );
    let response = app.client.post(url).json(&body).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 202);
    response.json().await.unwrap()
}

/// The simulator's record of delivery `webhook_id` once it is no longer `delivering`.
async fn settled(app: &TestApp, webhook_id: &str) -> Value {
    app.eventually(Duration::from_secs(20), || async {
        let state = app.sim_state();
        state["imaging"]["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|d| d["webhook_id"] == webhook_id && d["status"] != "delivering")
            .cloned()
    })
    .await
    .unwrap_or_else(|| panic!("delivery {webhook_id} never settled"))
}

/// Posts `body` to the webhook with `headers`, as a provider would.
async fn deliver(app: &TestApp, headers: &[(&str, String)], body: &[u8]) -> Answer {
    let mut request = app
        .client
        .post(app.url(WEBHOOK))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let answer = TestApp::answer(request.send().await.unwrap()).await;
    conformance::check_documented("POST", WEBHOOK, &answer);
    answer
}

fn report_body(provider_id: &str, summary: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "referral.report_ready",
        "referral_id": provider_id,
        "report": {"summary": summary, "images": ["https://images.example/1.png"]},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivered_report_shows_on_the_referral_once_and_redeliveries_change_nothing() {
    let app = TestApp::spawn().await;
    let (admin, made) = sent_referral(&app).await;
    let (id, provider_id) = (
        made["id"].as_str().unwrap(),
        made["provider_referral_id"].as_str().unwrap(),
    );
    let path = format!("/v1/referrals/{id}");

    let asked = ask_for_report(
        &app,
        provider_id,
        json!({
            "summary": "No fracture; mild effusion.",
            "images": ["https://images.example/a.png", "https://images.example/b.png"],
        }),
    )
    .await;
    let webhook_id = asked["webhook_id"].as_str().unwrap();
    let delivery = settled(&app, webhook_id).await;
    assert_eq!(delivery["status"], "delivered", "{delivery:#}");
    assert_eq!(delivery["last_answer"], 200, "{delivery:#}");
    assert_eq!(delivery["attempts"], 1, "{delivery:#}");

    let reported = app.get(&admin, &path).await.expect(200);
    assert_eq!(reported.body["status"], "reported");
    let report = &reported.body["report"];
    assert_eq!(report["summary"], "No fracture; mild effusion.");
    assert_eq!(
        report["images"],
        json!([
            "https://images.example/a.png",
            "https://images.example/b.png"
        ])
    );
    assert!(report["reported_at"].is_string(), "{report:#}");
    let etag = reported.header("etag").unwrap().to_owned();
    assert_ne!(reported.body["updated_at"], made["updated_at"]);

    let events = app.audit_events(&admin, "referral.reported").await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["target_id"], id);
    assert_eq!(events[0]["actor_kind"], "provider");
    assert_eq!(events[0]["after"]["status"], "reported");
    assert_eq!(events[0]["after"]["webhook_id"], webhook_id);
    assert_eq!(events[0]["before"]["status"], "sent");

    // The provider redelivers (same webhook-id, here with other words): 200, nothing changes.
    let again = ask_for_report(
        &app,
        provider_id,
        json!({"summary": "Something else", "webhook_id": webhook_id}),
    )
    .await;
    assert_eq!(again["webhook_id"], webhook_id);
    let delivery = settled(&app, webhook_id).await;
    assert_eq!(delivery["last_answer"], 200, "{delivery:#}");
    // The simulator may list the redelivery after the first; wait for it to settle too.
    app.eventually(Duration::from_secs(20), || async {
        let state = app.sim_state();
        let deliveries = state["imaging"]["deliveries"].as_array().unwrap().clone();
        (deliveries.len() == 2 && deliveries.iter().all(|d| d["status"] == "delivered"))
            .then_some(())
    })
    .await
    .expect("the redelivery is answered 2xx");
    let unchanged = app.get(&admin, &path).await.expect(200);
    assert_eq!(unchanged.body, reported.body);
    assert_eq!(unchanged.header("etag"), Some(etag.as_str()));
    assert_eq!(app.audit_events(&admin, "referral.reported").await.len(), 1);

    // Signed by hand with the same id: the receipt says so.
    let body = report_body(provider_id, "Yet another");
    let answer = deliver(
        &app,
        &signed(WEBHOOK_SECRET, webhook_id, now(), &body),
        &body,
    )
    .await
    .expect(200);
    assert_eq!(answer.body["outcome"], "already_processed");
    assert_eq!(answer.body["webhook_id"], webhook_id);

    // A new delivery (another webhook-id) replaces the report: the provider corrected it.
    let body = report_body(provider_id, "Corrected: small fracture.");
    let answer = deliver(
        &app,
        &signed(WEBHOOK_SECRET, "msg_correction", now(), &body),
        &body,
    )
    .await
    .expect(200);
    assert_eq!(answer.body["outcome"], "attached");
    let corrected = app.get(&admin, &path).await.expect(200);
    assert_eq!(
        corrected.body["report"]["summary"],
        "Corrected: small fracture."
    );
    assert_eq!(app.audit_events(&admin, "referral.reported").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_unsigned_and_stale_deliveries_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (admin, made) = sent_referral(&app).await;
    let (id, provider_id) = (
        made["id"].as_str().unwrap(),
        made["provider_referral_id"].as_str().unwrap(),
    );
    let body = report_body(provider_id, "Forged");
    let other_secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    let forged = signed(other_secret, "msg_forged", now(), &body);
    deliver(&app, &forged, &body)
        .await
        .expect_problem(401, "invalid_signature");

    // Signed for another body.
    let genuine = signed(WEBHOOK_SECRET, "msg_tampered", now(), &body);
    let tampered = report_body(provider_id, "Tampered");
    deliver(&app, &genuine, &tampered)
        .await
        .expect_problem(401, "invalid_signature");

    // Ten minutes old, or ten minutes ahead, correctly signed.
    for timestamp in [now() - 600, now() + 600] {
        let stale = signed(WEBHOOK_SECRET, "msg_stale", timestamp, &body);
        let answer = deliver(&app, &stale, &body)
            .await
            .expect_problem(401, "invalid_signature");
        assert!(
            answer.body["detail"]
                .as_str()
                .unwrap()
                .contains("webhook-timestamp"),
            "{:#}",
            answer.body
        );
    }

    // Each header missing, then none at all (and a bearer token does not stand in).
    let complete = signed(WEBHOOK_SECRET, "msg_partial", now(), &body);
    for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let partial: Vec<(&str, String)> = complete
            .iter()
            .filter(|(name, _)| *name != missing)
            .cloned()
            .collect();
        let answer = deliver(&app, &partial, &body)
            .await
            .expect_problem(401, "invalid_signature");
        assert!(
            answer.body["detail"].as_str().unwrap().contains(missing),
            "{:#}",
            answer.body
        );
    }
    deliver(&app, &[], &body)
        .await
        .expect_problem(401, "invalid_signature");
    deliver(&app, &[("authorization", format!("Bearer {admin}"))], &body)
        .await
        .expect_problem(401, "invalid_signature");

    let untouched = app
        .get(&admin, &format!("/v1/referrals/{id}"))
        .await
        .expect(200);
    assert_eq!(untouched.body["status"], "sent");
    assert!(untouched.body["report"].is_null(), "{:#}", untouched.body);
    assert!(
        app.audit_events(&admin, "referral.reported")
            .await
            .is_empty()
    );

    // None of those ids was recorded: the genuine delivery under one of them is attached.
    let answer = deliver(&app, &complete, &body).await.expect(200);
    assert_eq!(answer.body["outcome"], "attached");
    let reported = app
        .get(&admin, &format!("/v1/referrals/{id}"))
        .await
        .expect(200);
    assert_eq!(reported.body["status"], "reported");
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_deliveries_for_unknown_referrals_or_with_bad_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let (admin, made) = sent_referral(&app).await;
    let provider_id = made["provider_referral_id"].as_str().unwrap();

    let unknown = report_body("ref_nobody_made_this", "Lost");
    let headers = signed(WEBHOOK_SECRET, "msg_unknown", now(), &unknown);
    deliver(&app, &headers, &unknown)
        .await
        .expect_problem(404, "not_found");
    // Not recorded: the same id stays unknown.
    deliver(&app, &headers, &unknown)
        .await
        .expect_problem(404, "not_found");

    // Well signed, but not the documented body: the fields are named.
    let cases = [
        (
            json!({"type": "referral.report_ready", "report": {}}),
            "referral_id",
        ),
        (
            json!({"type": "referral.cancelled", "referral_id": provider_id, "report": {}}),
            "type",
        ),
        (
            json!({"type": "referral.report_ready", "referral_id": provider_id,
                   "report": {"images": ["ftp://images.example/1.png"]}}),
            "report.images[0]",
        ),
    ];
    for (bad, field) in cases {
        let bytes = serde_json::to_vec(&bad).unwrap();
        let headers = signed(WEBHOOK_SECRET, "msg_bad_body", now(), &bytes);
        let answer = deliver(&app, &headers, &bytes)
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<String> = answer.field_errors().into_iter().map(|(f, _)| f).collect();
        assert!(fields.iter().any(|f| f == field), "{field}: {fields:?}");
    }
    let not_json = b"{not json";
    let headers = signed(WEBHOOK_SECRET, "msg_not_json", now(), not_json);
    deliver(&app, &headers, not_json)
        .await
        .expect_problem(400, "malformed_body");

    let referral = app
        .get(
            &admin,
            &format!("/v1/referrals/{}", made["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(referral.body["status"], "sent");
    assert!(
        app.audit_events(&admin, "referral.reported")
            .await
            .is_empty()
    );
}
