//! 4. Wrong tokens and bad passwords

use super::*;

#[tokio::test]
async fn a_wrong_token_is_not_found_and_a_bad_password_leaves_the_token_usable() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "wanda.wrong@example.test";
    let id = invite(&app, &admin, "Wanda", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);

    // Tokens that were never issued: made up, one character off, and the stored digest.
    let last = token.chars().last().unwrap();
    let off_by_one = format!(
        "{}{}",
        &token[..token.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    let digest = invitation_rows(&app, &id)[0].token_hash.clone();
    for wrong in ["not-a-real-token", off_by_one.as_str(), digest.as_str()] {
        accept(&app, wrong, CHOSEN)
            .await
            .expect_problem(404, "not_found");
    }

    // A password that is too short: 422 naming `password`; nothing is used up.
    let short = accept(&app, &token, "short")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(error_fields(&short), vec!["password".to_owned()]);
    assert_eq!(
        short.body["errors"][0]["code"], "too_short",
        "{:#}",
        short.body
    );
    let seven = accept(&app, &token, "1234567")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(error_fields(&seven), vec!["password".to_owned()]);
    let missing = app
        .call(
            Method::POST,
            &format!("/v1/invitations/{token}/accept"),
            None,
            Some(json!({})),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(error_fields(&missing), vec!["password".to_owned()]);

    let row = &invitation_rows(&app, &id)[0];
    assert!(row.accepted_at.is_none(), "{row:#?}");
    assert_eq!(read_user(&app, &admin, &id).await["has_password"], false);
    assert!(
        events(&app, &admin, "action=user.invitation_accepted")
            .await
            .is_empty()
    );

    // The token still works, with the shortest password the `Password` schema allows (8).
    let eight = "12345678";
    accept(&app, &token, eight).await.expect(200);
    app.login(email, eight).await;
}
