//! 2. No invitation when the administrator sets the password

use super::*;

#[tokio::test]
async fn a_user_created_with_an_initial_password_gets_no_invitation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "paula.password@example.test";
    let created = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "Paula",
                "last_name": "Password",
                "email": email,
                "user_type": "clinical",
                "initial_password": PASSWORD,
            }),
        )
        .await
        .expect(201);
    let id = id_of(&created.body);
    assert_eq!(created.body["has_password"], true, "{:#}", created.body);

    // A user invited afterwards is mailed; by then Paula's message would have gone too.
    let control = "carl.control@example.test";
    let control_id = invite(&app, &admin, "Carl", control).await;
    mail_to(&app, control, 1).await;
    settle().await;

    assert!(app.mail(Some(email)).is_empty(), "{:#?}", app.mail(None));
    assert_eq!(email_jobs(&app, &id), 0);
    assert!(invitation_rows(&app, &id).is_empty());
    assert_eq!(email_jobs(&app, &control_id), 1);
    let invited = events(&app, &admin, "action=user.invited").await;
    assert_eq!(invited.len(), 1, "{invited:#?}");
    assert_eq!(invited[0]["target_id"], control_id.as_str());

    // She logs in with the password she was given; resending is refused.
    app.login(email, PASSWORD).await;
    resend(&app, &admin, &id)
        .await
        .expect_problem(409, "password_already_set");
}
