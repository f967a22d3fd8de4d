//! The assistant principal: who they are, whom they assist, never a site user; one person
//! assisting two clinicians.

use super::*;

#[tokio::test]
async fn an_assistant_is_no_site_user_and_holds_no_licence() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (doc_id, doc) = clinician(&app, &admin, "doc@example.test").await;
    let before = app.get(&admin, "/v1/site/licences").await.expect(200).body;
    let users_before = app.get(&admin, "/v1/users").await.expect(200).body;
    let (_, token) = onboard(&app, &doc, "ada@example.test", 1).await;

    let me = app.get(&token, "/v1/me").await.expect(200).body;
    assert_eq!(me["kind"], "assistant");
    assert_eq!(me["site_id"], app.site.site_id.to_string());
    assert!(
        me["user"].is_null() && me["service_account_id"].is_null(),
        "{me:#}"
    );
    assert_eq!(me["permissions"], json!([]));
    assert_eq!(me["assistant"]["full_name"], "Ada Assistant");
    let clinicians = app.get(&token, "/v1/me/clinicians").await.expect(200).body;
    assert_eq!(clinicians["items"][0]["id"], doc_id.as_str());
    assert_eq!(clinicians["items"][0]["email"], "doc@example.test");

    assert_eq!(
        app.get(&admin, "/v1/site/licences").await.expect(200).body,
        before
    );
    let users_after = app.get(&admin, "/v1/users").await.expect(200).body;
    assert_eq!(users_after["items"], users_before["items"]);
    let search = app
        .get(&admin, "/v1/users?q=assistant")
        .await
        .expect(200)
        .body;
    assert_eq!(search["items"], json!([]));
    // A user's own list is a clinician's; an assistant's token is not a user's.
    app.get(&token, "/v1/me/assistants")
        .await
        .expect_problem(403, "forbidden");
    app.get(&doc, "/v1/me/clinicians")
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn one_person_assists_two_clinicians_and_a_revocation_by_one_leaves_the_other() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (a_id, a) = clinician(&app, &admin, "a@example.test").await;
    let (b_id, b) = clinician(&app, &admin, "b@example.test").await;
    let email = "pat@example.test";
    let (at_a, _) = onboard(&app, &a, email, 1).await;
    let (_, token) = onboard(&app, &b, email, 2).await;
    let mut both = vec![a_id.clone(), b_id.clone()];
    both.sort();
    let mut listed = my_clinicians(&app, &token).await;
    listed.sort();
    assert_eq!(listed, both);
    message(&app, &token, &a_id).await.expect(202);
    message(&app, &token, &b_id).await.expect(202);
    // Each clinician sees only their own record of the same person.
    assert_eq!(my_assistants(&app, &a).await.len(), 1);
    assert_eq!(my_assistants(&app, &b).await.len(), 1);

    action(&app, &a, &at_a, "revoke").await.expect(200);
    // Revocation retires the tokens at once; a new login works for the other clinician.
    app.get(&token, "/v1/me")
        .await
        .expect_problem(401, "invalid_token");
    let token = app.login(email, CHOSEN).await;
    assert_eq!(my_clinicians(&app, &token).await, [b_id.as_str()]);
    message(&app, &token, &b_id).await.expect(202);
    message(&app, &token, &a_id)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(my_assistants(&app, &b).await[0]["status"], "accepted");
}

#[tokio::test]
async fn an_email_of_both_a_user_and_an_assistant_logs_in_as_the_kind_asked() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, doc) = clinician(&app, &admin, "doc@example.test").await;
    let (_, other) = clinician(&app, &admin, "both@example.test").await;
    assert!(!other.is_empty());
    let id = invited(&app, &doc, "Both Kinds", "both@example.test").await;
    accept(&app, &link(&app, "both@example.test", 1).await, PASSWORD)
        .await
        .expect(200);
    let login = |kind: Option<&str>| {
        let mut body = json!({ "email": "both@example.test", "password": PASSWORD });
        if let Some(kind) = kind {
            body["kind"] = json!(kind);
        }
        app.call(Method::POST, "/v1/auth/login", None, Some(body))
    };
    for (kind, expected) in [
        (None, "user"),
        (Some("user"), "user"),
        (Some("assistant"), "assistant"),
    ] {
        let answer = login(kind).await.expect(200);
        let token = answer.body["access_token"].as_str().unwrap().to_owned();
        let me = app.get(&token, "/v1/me").await.expect(200);
        assert_eq!(me.body["kind"], expected, "{kind:?}");
    }
    login(Some("scim")).await.expect(422);
    action(&app, &doc, &id, "revoke").await.expect(200);
    login(Some("assistant"))
        .await
        .expect_problem(401, "invalid_credentials");
}
