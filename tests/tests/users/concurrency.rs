//! Concurrent requests

use super::*;

#[tokio::test]
async fn concurrent_creates_never_exceed_the_licences() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Flex { licences: 3 },
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    let requests = (0..6).map(|n| {
        app.post(
            &admin,
            "/v1/users",
            new_user(
                "Race",
                "Runner",
                &format!("race{n}@example.test"),
                "clinical",
            ),
        )
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut created = 0;
    for answer in &answers {
        match answer.status.as_u16() {
            201 => created += 1,
            409 => assert_eq!(answer.code(), "licence_limit_reached", "{:#}", answer.body),
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert_eq!(created, 2, "the admin holds one of three licences");
    assert_eq!(list_all(&app, &admin, "status=active").await.len(), 3);
}

#[tokio::test]
async fn concurrent_creates_with_one_email_make_one_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let emails = [
        "twin@example.test",
        "Twin@example.test",
        "TWIN@example.test",
        "twin@EXAMPLE.test",
        "tWin@example.TEST",
    ];
    let requests = emails.iter().map(|email| {
        app.post(
            &admin,
            "/v1/users",
            new_user("Twin", "Twin", email, "clinical"),
        )
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut created = 0;
    for answer in &answers {
        match answer.status.as_u16() {
            201 => created += 1,
            409 => assert_eq!(answer.code(), "email_taken", "{:#}", answer.body),
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(list_all(&app, &admin, "q=twin").await.len(), 1);
}

#[tokio::test]
async fn a_deployment_can_require_if_match() {
    let app = TestApp::spawn_with(Options {
        require_if_match: true,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(
            &admin,
            new_user("Ifm", "Atch", "ifmatch@example.test", "clinical"),
        )
        .await;
    let path = format!("/v1/users/{}", id_of(&user));
    app.patch(&admin, &path, json!({"first_name": "Unconditional"}))
        .await
        .expect_problem(428, "precondition_required");
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["first_name"], "Ifm");
    send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"1\""),
        Some(json!({"first_name": "Conditional"})),
    )
    .await
    .expect(200);
}
