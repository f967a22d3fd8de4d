//! 3. Single use

use super::*;

#[tokio::test]
async fn a_token_works_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "otto.once@example.test";
    let id = invite(&app, &admin, "Otto", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);

    accept(&app, &token, CHOSEN).await.expect(200);
    let again = "a different password";
    accept(&app, &token, again)
        .await
        .expect_problem(404, "not_found");
    accept(&app, &token, CHOSEN)
        .await
        .expect_problem(404, "not_found");

    // The first password stands.
    app.login(email, CHOSEN).await;
    login_answer(&app, email, again)
        .await
        .expect_problem(401, "invalid_credentials");
    let accepted = events(&app, &admin, "action=user.invitation_accepted").await;
    assert_eq!(accepted.len(), 1, "{accepted:#?}");
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], true);
}
