//! 1. The invitation email, acceptance, login, audit

use super::*;

#[tokio::test]
async fn a_user_created_without_a_password_is_invited_and_sets_their_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "ivy.invited@example.test";
    let id = invite(&app, &admin, "Ivy", email).await;

    // Exactly one message, to them, with the link and their first name.
    let mail = mail_to(&app, email, 1).await;
    settle().await;
    let mail_now = app.mail(Some(email));
    assert_eq!(mail_now.len(), 1, "{mail_now:#?}");
    assert_eq!(email_jobs(&app, &id), 1);
    let message = &mail[0];
    assert_eq!(message["to"], email, "{message:#}");
    assert_eq!(message["subject"], "You are invited to Staffroom");
    assert!(message["sent_at"].is_string(), "{message:#}");
    let body = message["body"].as_str().unwrap();
    assert!(body.contains("Hello Ivy,"), "{body}");
    let link = body
        .lines()
        .map(str::trim)
        .find(|line| line.contains(LINK))
        .unwrap_or_else(|| panic!("no link in {body}"));
    assert!(link.starts_with("http"), "{link}");
    let token = token_in(message);
    assert!(link.ends_with(&format!("{LINK}{token}")), "{link}");

    // The stored invitation: one, live, 7 days long, and the email names its expiry.
    let rows = invitation_rows(&app, &id);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row.email, email);
    assert_eq!(row.site_id, app.site.site_id);
    assert!(row.accepted_at.is_none() && row.superseded_at.is_none());
    let lifetime = (row.expires_at - row.created_at).num_seconds();
    assert!(
        (TTL_SECONDS - 60..=TTL_SECONDS).contains(&lifetime),
        "an invitation lives {lifetime} s"
    );
    let until = row.expires_at.format("%Y-%m-%d %H:%M").to_string();
    assert!(body.contains(&until), "{body} does not name {until}");

    // Until they accept, they have no password and cannot log in.
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], false);
    login_answer(&app, email, CHOSEN)
        .await
        .expect_problem(401, "invalid_credentials");
    login_answer(&app, email, PASSWORD)
        .await
        .expect_problem(401, "invalid_credentials");

    // Accepting needs no credentials and answers the invitation.
    let accepted = accept(&app, &token, CHOSEN).await.expect(200);
    let row = &invitation_rows(&app, &id)[0];
    assert!(row.accepted_at.is_some(), "{row:#?}");
    assert_invitation_view(&accepted.body, &id, email, row);

    let user = read_user(&app, &admin, &id).await;
    assert_eq!(user["has_password"], true, "{user:#}");
    assert_eq!(user["status"], "active");
    let user_token = app.login(email, CHOSEN).await;
    let me = app.get(&user_token, &format!("/v1/users/{id}")).await;
    assert_eq!(me.status.as_u16(), 200, "{:#}", me.body);

    // One audit event for the invitation (by the admin) and one for the acceptance (by the
    // user themself).
    let invited = events(&app, &admin, "action=user.invited").await;
    assert_eq!(invited.len(), 1, "{invited:#?}");
    assert_eq!(invited[0]["target_type"], "user");
    assert_eq!(invited[0]["target_id"], id.as_str());
    assert_eq!(invited[0]["actor_kind"], "user");
    assert_eq!(invited[0]["actor_id"], app.site.admin_id.to_string());
    assert_eq!(invited[0]["after"]["email"], email);
    assert_eq!(invited[0]["after"]["invitation_id"], row.id.to_string());

    let accepted_events = events(&app, &admin, "action=user.invitation_accepted").await;
    assert_eq!(accepted_events.len(), 1, "{accepted_events:#?}");
    let event = &accepted_events[0];
    assert_eq!(event["target_type"], "user");
    assert_eq!(event["target_id"], id.as_str());
    assert_eq!(event["actor_kind"], "user");
    assert_eq!(event["actor_id"], id.as_str());
    assert_eq!(event["after"]["invitation_id"], row.id.to_string());

    // Accepting sends nothing more.
    settle().await;
    assert_eq!(app.mail(Some(email)).len(), 1);
}
