//! 5. Resend

use super::*;

#[tokio::test]
async fn resending_replaces_the_link_and_is_refused_when_it_cannot_help() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "rita.resend@example.test";
    let id = invite(&app, &admin, "Rita", email).await;
    let bystander = "bob.bystander@example.test";
    let bystander_id = invite(&app, &admin, "Bob", bystander).await;
    let first = token_in(&mail_to(&app, email, 1).await[0]);
    let bystander_token = token_in(&mail_to(&app, bystander, 1).await[0]);

    // A fresh invitation: 201, a second message with a different token.
    let resent = resend(&app, &admin, &id).await.expect(201);
    let mail = mail_to(&app, email, 2).await;
    settle().await;
    assert_eq!(app.mail(Some(email)).len(), 2);
    assert_eq!(mail[1]["subject"], "You are invited to Staffroom");
    assert!(
        mail[1]["body"].as_str().unwrap().contains("Hello Rita,"),
        "{:#}",
        mail[1]
    );
    let second = token_in(&mail[1]);
    assert_ne!(first, second);
    assert_eq!(email_jobs(&app, &id), 2);

    let rows = invitation_rows(&app, &id);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows[0].superseded_at.is_some(), "{rows:#?}");
    assert!(rows[1].superseded_at.is_none(), "{rows:#?}");
    assert_invitation_view(&resent.body, &id, email, &rows[1]);
    let invited = events(&app, &admin, &format!("action=user.invited&target_id={id}")).await;
    assert_eq!(invited.len(), 2, "{invited:#?}");

    // The earlier link stops working; the new one works.
    accept(&app, &first, CHOSEN)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], false);
    accept(&app, &second, CHOSEN).await.expect(200);
    app.login(email, CHOSEN).await;

    // Now that she has a password there is nothing to resend.
    resend(&app, &admin, &id)
        .await
        .expect_problem(409, "password_already_set");

    // Another user's invitation is untouched by all of this.
    accept(&app, &bystander_token, CHOSEN).await.expect(200);
    app.login(bystander, CHOSEN).await;
    assert_eq!(invitation_rows(&app, &bystander_id).len(), 1);

    // A deactivated user is not invited again.
    let sleeper = "sam.sleeper@example.test";
    let sleeper_id = invite(&app, &admin, "Sam", sleeper).await;
    mail_to(&app, sleeper, 1).await;
    deactivate(&app, &admin, &sleeper_id).await;
    resend(&app, &admin, &sleeper_id)
        .await
        .expect_problem(409, "user_inactive");

    // Only administrators resend, only in their site, only with credentials.
    let pending = "pat.pending@example.test";
    let pending_id = invite(&app, &admin, "Pat", pending).await;
    mail_to(&app, pending, 1).await;
    let plain_email = "nora.nonadmin@example.test";
    app.create_user(
        &admin,
        json!({
            "first_name": "Nora",
            "last_name": "Plain",
            "email": plain_email,
            "user_type": "clinical",
        }),
    )
    .await;
    let plain = app.login(plain_email, PASSWORD).await;
    resend(&app, &plain, &pending_id)
        .await
        .expect_problem(403, "forbidden");
    let anonymous = app
        .call(
            Method::POST,
            &format!("/v1/users/{pending_id}/invitation"),
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status.as_u16(), 401, "{:#}", anonymous.body);

    app.other_site("Elsewhere", "boss@elsewhere.test");
    let boss = app.login("boss@elsewhere.test", PASSWORD).await;
    let foreign = "fay.foreign@elsewhere.test";
    let foreign_id = invite(&app, &boss, "Fay", foreign).await;
    mail_to(&app, foreign, 1).await;
    resend(&app, &admin, &foreign_id)
        .await
        .expect_problem(404, "not_found");
    resend(&app, &boss, &pending_id)
        .await
        .expect_problem(404, "not_found");
    resend(&app, &admin, "00000000-0000-7000-8000-000000000000")
        .await
        .expect_problem(404, "not_found");

    // None of the refusals wrote an invitation or queued a message.
    settle().await;
    assert_eq!(email_jobs(&app, &id), 2);
    assert_eq!(email_jobs(&app, &sleeper_id), 1);
    assert_eq!(email_jobs(&app, &pending_id), 1);
    assert_eq!(email_jobs(&app, &foreign_id), 1);
    assert_eq!(invitation_rows(&app, &sleeper_id).len(), 1);
    assert_eq!(invitation_rows(&app, &pending_id).len(), 1);
    assert_eq!(invitation_rows(&app, &foreign_id).len(), 1);
    assert_eq!(app.mail(Some(sleeper)).len(), 1);
    assert_eq!(app.mail(Some(pending)).len(), 1);
    assert_eq!(app.mail(Some(foreign)).len(), 1);
}
