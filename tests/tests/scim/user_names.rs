//! A `userName` that is not an email address: kept as the login name beside the email that
//! `emails` gives (login stays by email), unique with the emails whatever the case, found by
//! `userName eq`, and cleared by a replace with the email; SCIM creation invites a user
//! who has no password, as REST creation does.

use super::*;

/// A User body whose userName is the login name `name` and whose email is `email`.
fn named(name: &str, email: &str) -> Value {
    let mut body = user(email, "Lin", "Name");
    body["userName"] = json!(name);
    body
}

#[tokio::test]
async fn a_login_name_is_kept_beside_the_email_and_unique_with_the_emails() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    let created = create_user(&app, &token, named("Lin.Name", "lin@example.test")).await;
    assert_eq!(created["userName"], "Lin.Name");
    assert_eq!(created["emails"][0]["value"], "lin@example.test");
    let id = created["id"].as_str().unwrap().to_owned();
    let rest = staffroom_tests::read_user(&app, &admin, &id).await;
    assert_eq!(rest["email"], "lin@example.test");

    let found = get(
        &app,
        &token,
        "/scim/v2/Users?filter=userName%20eq%20%22lin.NAME%22",
    )
    .await;
    assert_eq!(total(&found.expect(200)), 1);
    let by_email = "/scim/v2/Users?filter=userName%20eq%20%22lin%40example.test%22";
    assert_eq!(total(&get(&app, &token, by_email).await.expect(200)), 0);
    let part = get(
        &app,
        &token,
        "/scim/v2/Users?filter=userName%20co%20%22n.na%22",
    )
    .await;
    assert_eq!(total(&part.expect(200)), 1);

    // The same userName in another case, or the userName as another user's email.
    let taken = post(
        &app,
        &token,
        "/scim/v2/Users",
        named("LIN.name", "other@example.test"),
    )
    .await;
    expect_error(&taken, 409, Some("uniqueness"));
    let admin_email = "admin@example.test";
    let as_email = post(
        &app,
        &token,
        "/scim/v2/Users",
        named(admin_email, "x@example.test"),
    )
    .await;
    expect_error(&as_email, 409, Some("uniqueness"));
    let email_as_name = post(
        &app,
        &token,
        "/scim/v2/Users",
        user("lin.name@example.test", "A", "B"),
    )
    .await;
    assert_eq!(
        email_as_name.status.as_u16(),
        201,
        "{:#}",
        email_as_name.body
    );

    // A login name needs the email from `emails`.
    let mut no_email = named("nobody", "n@example.test");
    no_email.as_object_mut().unwrap().remove("emails");
    let refused = post(&app, &token, "/scim/v2/Users", no_email).await;
    expect_error(&refused, 400, Some("invalidValue"));
    assert!(refused.body["detail"].as_str().unwrap().contains("emails"));

    // Replacing the userName with the email makes the email the userName again.
    let path = format!("/scim/v2/Users/{id}");
    let back = scim(
        &app,
        Method::PUT,
        &path,
        &token,
        Some(user("lin@example.test", "Lin", "Name")),
    )
    .await;
    assert_eq!(back.expect(200).body["userName"], "lin@example.test");
    let again = post(
        &app,
        &token,
        "/scim/v2/Users",
        named("Lin.Name", "z@example.test"),
    )
    .await;
    assert_eq!(again.status.as_u16(), 201, "{:#}", again.body);
}

#[tokio::test]
async fn a_scim_user_without_a_password_is_invited_and_one_with_a_password_is_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let token = scim_token(&app, &admin).await;
    create_user(&app, &token, named("invited", "invited@example.test")).await;
    let mut with_password = user("set@example.test", "Set", "Password");
    with_password["password"] = json!("a long passphrase 1");
    create_user(&app, &token, with_password).await;

    let mail = app.mail_to("invited@example.test", 1).await;
    let invitation = staffroom_tests::invitation_token(&mail[0]);
    app.accept_invitation(&invitation, "another passphrase 2")
        .await
        .expect(200);
    app.login("invited@example.test", "another passphrase 2")
        .await;
    assert!(app.mail(Some("set@example.test")).is_empty());
    app.login("set@example.test", "a long passphrase 1").await;
}
