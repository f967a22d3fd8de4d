#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SPEC §1: requests competing for the last licence never both succeed. Each test fills a
//! site up to one free licence, then sends 20 requests for it at once, 50 rounds in a row
//! on the same site: exactly one wins, the 19 others answer `409 licence_limit_reached`,
//! and the usage report never shows more licences used than the plan has.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use staffroom_domain::LicencePlan;
use staffroom_tests::{Answer, Options, TestApp};

const CONTENDERS: usize = 20;
const ROUNDS: usize = 50;

async fn spawn(plan: LicencePlan) -> (TestApp, String) {
    let app = TestApp::spawn_with(Options {
        plan,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    (app, admin)
}

fn user_body(email: &str, user_type: &str) -> Value {
    json!({
        "first_name": "Race",
        "last_name": "Contender",
        "email": email,
        "user_type": user_type,
    })
}

/// Creates a user without a password (no hashing: set-up stays quick) and returns its id.
async fn create(app: &TestApp, admin: &str, email: &str, user_type: &str) -> String {
    let answer = app
        .post(admin, "/v1/users", user_body(email, user_type))
        .await
        .expect(201);
    answer.body["id"].as_str().unwrap().to_owned()
}

async fn deactivate(app: &TestApp, admin: &str, id: &str) {
    let answer = app
        .call(
            Method::POST,
            &format!("/v1/users/{id}/deactivate"),
            Some(admin),
            None,
        )
        .await
        .expect(200);
    assert_eq!(answer.body["status"], "inactive");
}

async fn set_type(app: &TestApp, admin: &str, id: &str, user_type: &str) -> Answer {
    let request = app
        .client
        .request(Method::PUT, app.url(&format!("/v1/users/{id}/type")))
        .bearer_auth(admin)
        .json(&json!({"user_type": user_type}));
    TestApp::answer(request.send().await.unwrap()).await
}

/// Checks the licence report: never more used than the plan has; `full` when no licence
/// should be left.
async fn check_usage(app: &TestApp, admin: &str, full: bool, round: usize) {
    let report = app.get(admin, "/v1/site/licences").await.expect(200).body;
    let total = report["licences_total"].as_u64().unwrap();
    let used = report["licences_used"].as_u64().unwrap();
    let available = report["licences_available"].as_u64().unwrap();
    assert!(used <= total, "round {round}: over the plan: {report:#}");
    assert_eq!(used + available, total, "round {round}: {report:#}");
    if full {
        assert_eq!(
            available, 0,
            "round {round}: a licence left over: {report:#}"
        );
    } else {
        assert_eq!(
            available, 1,
            "round {round}: not one free licence: {report:#}"
        );
    }
}

/// Sends all requests at once; returns the index of the one winner after checking that
/// every other one was refused for want of a licence.
async fn race(
    requests: Vec<reqwest::RequestBuilder>,
    success: u16,
    round: usize,
) -> (usize, Answer) {
    let sent = requests.into_iter().map(|r| async move {
        let response = r.send().await.expect("request sent");
        TestApp::answer(response).await
    });
    let answers = join_all(sent).await;
    let summary: Vec<String> = answers
        .iter()
        .map(|a| format!("{} {}", a.status.as_u16(), a.code()))
        .collect();
    let mut winners = Vec::new();
    for (i, answer) in answers.into_iter().enumerate() {
        if answer.status.as_u16() == success {
            winners.push((i, answer));
        } else {
            assert_eq!(
                (answer.status.as_u16(), answer.code()),
                (409, "licence_limit_reached"),
                "round {round}: a loser must be refused for want of a licence: {:#}\nall: {summary:?}",
                answer.body
            );
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "round {round}: exactly one request wins the last licence; answers: {summary:?}"
    );
    winners.pop().unwrap()
}

#[tokio::test]
async fn concurrent_creates_take_the_last_licence_once() {
    // The admin and two users hold three of four licences.
    let (app, admin) = spawn(LicencePlan::Flex { licences: 4 }).await;
    create(&app, &admin, "held-1@example.test", "clinical").await;
    create(&app, &admin, "held-2@example.test", "non_clinical").await;
    check_usage(&app, &admin, false, 0).await;

    for round in 1..=ROUNDS {
        let requests = (0..CONTENDERS)
            .map(|i| {
                let user_type = if i % 2 == 0 {
                    "clinical"
                } else {
                    "non_clinical"
                };
                let email = format!("r{round}-c{i}@example.test");
                app.client
                    .post(app.url("/v1/users"))
                    .bearer_auth(&admin)
                    .json(&user_body(&email, user_type))
            })
            .collect();
        let (_, winner) = race(requests, 201, round).await;
        check_usage(&app, &admin, true, round).await;
        deactivate(&app, &admin, winner.body["id"].as_str().unwrap()).await;
    }
    check_usage(&app, &admin, false, ROUNDS).await;
    let created = app
        .get(&admin, "/v1/users?status=inactive&limit=200")
        .await
        .expect(200);
    assert_eq!(
        created.body["items"].as_array().unwrap().len(),
        ROUNDS,
        "one user created per round, no more: {backend}",
        backend = app.backend()
    );
}

#[tokio::test]
async fn concurrent_reactivations_take_the_last_licence_once() {
    let (app, admin) = spawn(LicencePlan::Flex { licences: 3 }).await;
    create(&app, &admin, "held@example.test", "clinical").await;
    // Twenty inactive users, each created into the free licence and deactivated again.
    let mut inactive = Vec::new();
    for i in 0..CONTENDERS {
        let id = create(
            &app,
            &admin,
            &format!("dormant-{i}@example.test"),
            "clinical",
        )
        .await;
        deactivate(&app, &admin, &id).await;
        inactive.push(id);
    }
    check_usage(&app, &admin, false, 0).await;

    for round in 1..=ROUNDS {
        let requests = inactive
            .iter()
            .map(|id| {
                app.client
                    .post(app.url(&format!("/v1/users/{id}/reactivate")))
                    .bearer_auth(&admin)
            })
            .collect();
        let (index, winner) = race(requests, 200, round).await;
        assert_eq!(winner.body["status"], "active");
        assert_eq!(winner.body["id"].as_str(), Some(inactive[index].as_str()));
        check_usage(&app, &admin, true, round).await;
        deactivate(&app, &admin, &inactive[index]).await;
    }
    check_usage(&app, &admin, false, ROUNDS).await;
}

#[tokio::test]
async fn concurrent_type_switches_take_the_last_clinical_licence_once() {
    // Group plan: two clinical users hold two of three licences; non-clinical is free.
    let (app, admin) = spawn(LicencePlan::Group { licences: 3 }).await;
    create(&app, &admin, "clinician-1@example.test", "clinical").await;
    create(&app, &admin, "clinician-2@example.test", "clinical").await;
    let mut receptionists = Vec::new();
    for i in 0..CONTENDERS {
        let email = format!("reception-{i}@example.test");
        receptionists.push(create(&app, &admin, &email, "non_clinical").await);
    }
    check_usage(&app, &admin, false, 0).await;

    for round in 1..=ROUNDS {
        let requests = receptionists
            .iter()
            .map(|id| {
                app.client
                    .put(app.url(&format!("/v1/users/{id}/type")))
                    .bearer_auth(&admin)
                    .json(&json!({"user_type": "clinical"}))
            })
            .collect();
        let (index, winner) = race(requests, 200, round).await;
        assert_eq!(winner.body["user_type"], "clinical");
        check_usage(&app, &admin, true, round).await;
        // Clinical → non-clinical is always allowed and frees the licence again.
        let back = set_type(&app, &admin, &receptionists[index], "non_clinical").await;
        assert_eq!(back.expect(200).body["user_type"], "non_clinical");
    }
    check_usage(&app, &admin, false, ROUNDS).await;
    let report = app.get(&admin, "/v1/site/licences").await.expect(200).body;
    assert_eq!(report["clinical_active"], 2, "{report:#}");
    assert_eq!(report["non_clinical_active"], 21, "{report:#}");
}
