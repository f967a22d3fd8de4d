//! 6. Expiry

use super::*;

#[tokio::test]
async fn an_expired_link_is_gone_and_a_resend_gives_a_working_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "ezra.expired@example.test";
    let id = invite(&app, &admin, "Ezra", email).await;
    let old = token_in(&mail_to(&app, email, 1).await[0]);

    age_invitations(&app, &id);
    accept(&app, &old, CHOSEN)
        .await
        .expect_problem(410, "invitation_expired");
    // Still expired, not used up, and no password was set.
    accept(&app, &old, CHOSEN)
        .await
        .expect_problem(410, "invitation_expired");
    assert!(invitation_rows(&app, &id)[0].accepted_at.is_none());
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], false);
    login_answer(&app, email, CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");
    assert!(
        events(&app, &admin, "action=user.invitation_accepted")
            .await
            .is_empty()
    );

    // A resend gives a fresh, full-length link; the expired one is now superseded.
    let resent = resend(&app, &admin, &id).await.expect(201);
    let rows = invitation_rows(&app, &id);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_invitation_view(&resent.body, &id, email, &rows[1]);
    let lifetime = (rows[1].expires_at - rows[1].created_at).num_seconds();
    assert!(
        (TTL_SECONDS - 60..=TTL_SECONDS).contains(&lifetime),
        "a resent invitation lives {lifetime} s"
    );
    let new = token_in(&mail_to(&app, email, 2).await[1]);
    assert_ne!(old, new);
    accept(&app, &old, CHOSEN)
        .await
        .expect_problem(404, "not_found");
    accept(&app, &new, CHOSEN).await.expect(200);
    app.login(email, CHOSEN).await;
}
