//! 8. Racing accepts

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn racing_accepts_of_one_token_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = "rory.race@example.test";
    let id = invite(&app, &admin, "Rory", email).await;
    let token = token_in(&mail_to(&app, email, 1).await[0]);

    let passwords: Vec<String> = (0..8).map(|i| format!("racing password {i}")).collect();
    let answers =
        futures_util::future::join_all(passwords.iter().map(|p| accept(&app, &token, p))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    let winners: Vec<usize> = (0..answers.len()).filter(|&i| statuses[i] == 200).collect();
    assert_eq!(winners.len(), 1, "statuses {statuses:?}: {answers:#?}");
    for (i, answer) in answers.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(statuses[i], 404, "{:#}", answer.body);
            assert_eq!(answer.code(), "not_found", "{:#}", answer.body);
        }
    }
    let winner = winners[0];
    assert_eq!(answers[winner].body["user_id"], id.as_str());

    // The winner's password is the one that took.
    app.login(email, &passwords[winner]).await;
    let loser = (winner + 1) % passwords.len();
    login_answer(&app, email, &passwords[loser])
        .await
        .expect_problem(401, "invalid_credentials");
    let accepted = events(&app, &admin, "action=user.invitation_accepted").await;
    assert_eq!(accepted.len(), 1, "{accepted:#?}");
}
