//! Revocation is immediate: revoking, deleting, or the clinician's deactivation ends the
//! assistant's tokens (`401`) and kills a pending link (`410`).

use super::*;

#[tokio::test]
async fn revoking_kills_a_live_token_at_once_and_a_pending_link() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (doc_id, doc) = clinician(&app, &admin, "doc@example.test").await;
    let (id, token) = onboard(&app, &doc, "ada@example.test", 1).await;
    message(&app, &token, &doc_id).await.expect(202);
    action(&app, &doc, &id, "revoke").await.expect(200);
    for path in ["/v1/me", "/v1/me/clinicians"] {
        app.get(&token, path)
            .await
            .expect_problem(401, "invalid_token");
    }
    message(&app, &token, &doc_id)
        .await
        .expect_problem(401, "invalid_token");
    login_answer(&app, "ada@example.test", CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");
    assert_eq!(my_assistants(&app, &doc).await[0]["status"], "revoked");

    let pending = invited(&app, &doc, "Pen Ding", "pen@example.test").await;
    let pen = link(&app, "pen@example.test", 1).await;
    action(&app, &doc, &pending, "revoke").await.expect(200);
    accept(&app, &pen, CHOSEN)
        .await
        .expect_problem(410, "invitation_withdrawn");
}

#[tokio::test]
async fn deleting_kills_a_live_token_and_a_pending_link() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, doc) = clinician(&app, &admin, "doc@example.test").await;
    let (id, token) = onboard(&app, &doc, "ada@example.test", 1).await;
    app.get(&token, "/v1/me").await.expect(200);
    app.delete(&doc, &format!("/v1/me/assistants/{id}"))
        .await
        .expect(204);
    app.get(&token, "/v1/me")
        .await
        .expect_problem(401, "invalid_token");

    let pending = invited(&app, &doc, "Pen Ding", "pen@example.test").await;
    let pen = link(&app, "pen@example.test", 1).await;
    app.delete(&doc, &format!("/v1/me/assistants/{pending}"))
        .await
        .expect(204);
    accept(&app, &pen, CHOSEN)
        .await
        .expect_problem(410, "invitation_withdrawn");
}

#[tokio::test]
async fn the_clinicians_deactivation_ends_the_assistants_access() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (doc_id, doc) = clinician(&app, &admin, "doc@example.test").await;
    let (_, token) = onboard(&app, &doc, "ada@example.test", 1).await;
    invited(&app, &doc, "Pen Ding", "pen@example.test").await;
    let pen = link(&app, "pen@example.test", 1).await;
    app.get(&token, "/v1/me/clinicians").await.expect(200);

    app.post(&admin, &format!("/v1/users/{doc_id}/deactivate"), json!({}))
        .await
        .expect(200);
    app.get(&token, "/v1/me")
        .await
        .expect_problem(401, "invalid_token");
    login_answer(&app, "ada@example.test", CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");
    accept(&app, &pen, CHOSEN)
        .await
        .expect_problem(410, "invitation_withdrawn");
}
