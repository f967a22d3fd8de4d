//! Signed report deliveries to a referral's callback URL.

use super::*;

const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A referral by a new imaging user, whose callback URL is `callback_url`; its id.
async fn referral_with_callback(api: &Api, callback_url: &str) -> String {
    let user = api.create_imaging_user("rita@example.com").await;
    let user_id = user.body["id"].as_str().unwrap().to_owned();
    let body =
        json!({"patient_name": "Pat Smith", "body_part": "knee", "callback_url": callback_url});
    let created = api
        .post(
            &format!("/imaging/v1/users/{user_id}/referrals"),
            &body,
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    created.body["id"].as_str().unwrap().to_owned()
}

/// Polls `GET /_sim/state` until delivery `index` is no longer `delivering`; its record.
async fn settled_delivery(api: &Api, index: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = api.state().await;
        let delivery = state["imaging"]["deliveries"][index].clone();
        if delivery["status"] != "delivering" {
            return delivery;
        }
        assert!(
            Instant::now() < deadline,
            "delivery never settled: {delivery}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_are_delivered_signed_and_retried_while_the_receiver_fails() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/webhooks/imaging"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/webhooks/imaging"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let api = Api::with(SimOptions {
        webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
        ..SimOptions::default()
    })
    .await;
    let callback = format!("{}/v1/webhooks/imaging", receiver.uri());
    let referral_id = referral_with_callback(&api, &callback).await;

    let started = api
        .post(
            &format!("/_sim/imaging/referrals/{referral_id}/report"),
            &json!({"summary": "Small meniscal tear."}),
            None,
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    assert_eq!(started.body["referral_id"], referral_id.as_str());
    let webhook_id = started.body["webhook_id"].as_str().unwrap().to_owned();

    let delivery = settled_delivery(&api, 0).await;
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"], 2, "one 503, then a 200");
    assert_eq!(delivery["webhook_id"], webhook_id.as_str());
    let state = api.state().await;
    let referral = &state["imaging"]["referrals"][0];
    assert_eq!(referral["status"], "reported");
    assert_eq!(referral["report"]["summary"], "Small meniscal tear.");

    // Both attempts carry the same webhook-id and verify with the secret (Standard Webhooks).
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let webhook = standardwebhooks::Webhook::new(WEBHOOK_SECRET).unwrap();
    for request in &received {
        let mut headers = HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let value = request.headers.get(name).expect(name);
            headers.insert(name, value.to_str().unwrap().parse().unwrap());
        }
        assert_eq!(headers["webhook-id"], webhook_id.as_str());
        webhook.verify(&request.body, &headers).unwrap();
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["type"], "referral.report_ready");
        assert_eq!(body["referral_id"], referral_id.as_str());
        assert_eq!(body["report"]["summary"], "Small meniscal tear.");
        assert_eq!(body["report"]["images"].as_array().unwrap().len(), 1);
    }

    // A redelivery under the same webhook-id, as providers do.
    let again = api
        .post(
            &format!("/_sim/imaging/referrals/{referral_id}/report"),
            &json!({"webhook_id": webhook_id}),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body["webhook_id"], webhook_id.as_str());
    assert_eq!(settled_delivery(&api, 1).await["status"], "delivered");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_delivery_is_not_retried_and_reports_need_a_secret_and_a_referral() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&receiver)
        .await;
    let api = Api::with(SimOptions {
        webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
        ..SimOptions::default()
    })
    .await;
    let referral_id = referral_with_callback(&api, &receiver.uri()).await;
    let path = format!("/_sim/imaging/referrals/{referral_id}/report");
    assert_eq!(
        api.post(&path, &json!({}), None).await.status,
        StatusCode::ACCEPTED
    );
    let delivery = settled_delivery(&api, 0).await;
    assert_eq!(delivery["status"], "rejected");
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["last_answer"], 401);
    assert_eq!(
        api.state().await["imaging"]["referrals"][0]["status"],
        "requested"
    );

    let unknown = api
        .post("/_sim/imaging/referrals/IMR-nope/report", &json!({}), None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "unknown_referral");
    let wrong = api.get(&path).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);

    let unsigned = Api::new().await;
    let referral_id = referral_with_callback(&unsigned, &receiver.uri()).await;
    let refused = unsigned
        .post(
            &format!("/_sim/imaging/referrals/{referral_id}/report"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "no_webhook_secret");
}
