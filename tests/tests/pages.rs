//! The pages a person opens in a browser: `/docs` as the README and `serve` print it, and
//! `/accept-invitation`, where the link of an invitation email lands.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use std::time::Duration;

use reqwest::Method;
use reqwest::redirect::Policy;
use serde_json::json;
use staffroom_tests::TestApp;

#[tokio::test]
async fn docs_without_the_trailing_slash_lead_to_the_docs() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let redirect = client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let page = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(content_type(&page).starts_with("text/html"));
}

fn content_type(response: &reqwest::Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The path and query of the invitation link mailed to `email`.
async fn invitation_link(app: &TestApp, email: &str) -> String {
    let mail = app
        .eventually(Duration::from_secs(10), || async {
            app.mail(Some(email)).pop()
        })
        .await
        .unwrap_or_else(|| panic!("no invitation sent to {email}"));
    let body = mail["body"].as_str().unwrap();
    let at = body
        .find("/accept-invitation?token=")
        .unwrap_or_else(|| panic!("no link in {body:?}"));
    body[at..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn the_invitation_link_opens_a_self_contained_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "page.reader@example.test";
    app.post(
        &admin,
        "/v1/users",
        json!({"first_name": "Page", "last_name": "Reader", "email": email, "user_type": "clinical"}),
    )
    .await
    .expect(201);
    let link = invitation_link(&app, email).await;

    let page = app.client.get(app.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(content_type(&page), "text/html; charset=utf-8");
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    // It posts the password to the API of the origin it came from ...
    assert!(html.contains("v1/invitations/"), "{html}");
    assert!(html.contains("type=\"password\""), "{html}");
    assert!(html.contains("<noscript>"), "a message without JavaScript");
    // ... and loads nothing from anywhere: no URL, no external script, style or image.
    for external in ["http://", "https://", "src=", "<link", "@import", "url("] {
        assert!(!html.contains(external), "the page references {external:?}");
    }

    let other_method = app
        .call(Method::POST, "/accept-invitation", None, Some(json!({})))
        .await;
    other_method.expect_problem(404, "not_found");
}
