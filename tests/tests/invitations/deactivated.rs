//! Deactivated invitees

use super::*;

#[tokio::test]
async fn a_deactivated_user_cannot_accept_their_invitation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "dina.deactivated@example.test";
    let id = invite(&app, &admin, "Dina", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);
    deactivate(&app, &admin, &id).await;

    accept(&app, &token, CHOSEN)
        .await
        .expect_problem(409, "user_inactive");
    let user = read_user(&app, &admin, &id).await;
    assert_eq!(user["has_password"], false, "{user:#}");
    assert!(invitation_rows(&app, &id)[0].accepted_at.is_none());
    login_answer(&app, email, CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");
    assert!(
        events(&app, &admin, "action=user.invitation_accepted")
            .await
            .is_empty()
    );
}
