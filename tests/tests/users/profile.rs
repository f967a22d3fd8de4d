//! Profile updates

use super::*;

#[tokio::test]
async fn patch_updates_the_profile_and_bumps_the_version() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = new_user("Jo", "March", "jo@example.test", "clinical");
    body["title"] = json!("Dr");
    let user = app.create_user(&admin, body).await;
    let id = id_of(&user);
    let path = format!("/v1/users/{id}");
    assert_eq!(user["version"], 1);

    let updated = app
        .patch(
            &admin,
            &path,
            json!({
                "title": "Prof",
                "first_name": "Josephine",
                "last_name": "Bhaer",
                "email": "josephine@example.test",
                "profession": "OT",
            }),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.header("etag"), Some("\"2\""));
    assert_eq!(updated.body["title"], "Prof");
    assert_eq!(updated.body["first_name"], "Josephine");
    assert_eq!(updated.body["last_name"], "Bhaer");
    assert_eq!(updated.body["email"], "josephine@example.test");
    assert_eq!(updated.body["profession"], "OT");
    // Fields the PATCH does not name stay as they were.
    assert_eq!(updated.body["user_type"], "clinical");
    assert_eq!(updated.body["clinic_ids"], user["clinic_ids"]);
    assert_eq!(updated.body["created_at"], user["created_at"]);

    // `null` clears the title; an absent title stays.
    let cleared = app
        .patch(&admin, &path, json!({"title": null}))
        .await
        .expect(200);
    assert!(cleared.body["title"].is_null());
    assert_eq!(cleared.body["version"], 3);
    assert_eq!(cleared.body["first_name"], "Josephine");
    let renamed = app
        .patch(&admin, &path, json!({"first_name": "Jo"}))
        .await
        .expect(200);
    assert!(renamed.body["title"].is_null());
    assert_eq!(renamed.body["version"], 4);

    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.header("etag"), Some("\"4\""));
    assert_eq!(read.body, renamed.body);

    // The new email is the login and the search key.
    app.login("josephine@example.test", PASSWORD).await;
    let found = ids(&list_all(&app, &admin, "q=bhaer").await);
    assert_eq!(found, vec![id]);
}

#[tokio::test]
async fn patch_honours_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(
            &admin,
            new_user("Meg", "March", "meg@example.test", "clinical"),
        )
        .await;
    let path = format!("/v1/users/{}", id_of(&user));

    let first = send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"1\""),
        Some(json!({"first_name": "Margaret"})),
    )
    .await
    .expect(200);
    assert_eq!(first.body["version"], 2);

    let stale = send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"1\""),
        Some(json!({"first_name": "Overwritten"})),
    )
    .await
    .expect_problem(412, "precondition_failed");
    assert!(stale.body["detail"].is_string());
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["first_name"], "Margaret");
    assert_eq!(read.body["version"], 2);

    // A tag that is not a version never matches.
    send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"nonsense\""),
        Some(json!({"first_name": "Overwritten"})),
    )
    .await
    .expect_problem(412, "precondition_failed");

    let current = read.header("etag").unwrap().to_owned();
    let second = send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some(&current),
        Some(json!({"last_name": "Brooke"})),
    )
    .await
    .expect(200);
    assert_eq!(second.body["version"], 3);
    send(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("*"),
        Some(json!({"last_name": "March"})),
    )
    .await
    .expect(200);

    // Deactivation honours If-Match too.
    let deactivate_path = format!("{path}/deactivate");
    send(
        &app,
        Method::POST,
        &deactivate_path,
        &admin,
        Some("\"1\""),
        None,
    )
    .await
    .expect_problem(412, "precondition_failed");
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["status"], "active");
    send(
        &app,
        Method::POST,
        &deactivate_path,
        &admin,
        Some(read.header("etag").unwrap()),
        None,
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn patch_without_a_change_keeps_the_version() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = new_user("Amy", "March", "amy@example.test", "clinical");
    body["profession"] = json!("SLP");
    let user = app.create_user(&admin, body).await;
    let path = format!("/v1/users/{}", id_of(&user));

    let same = app
        .patch(
            &admin,
            &path,
            json!({
                "first_name": "Amy",
                "last_name": "March",
                "email": "amy@example.test",
                "profession": "SLP",
                "title": null,
            }),
        )
        .await
        .expect(200);
    assert_eq!(same.body["version"], 1);
    assert_eq!(same.header("etag"), Some("\"1\""));
    assert_eq!(same.body["updated_at"], user["updated_at"]);
    let empty = app.patch(&admin, &path, json!({})).await.expect(200);
    assert_eq!(empty.body["version"], 1);
}

#[tokio::test]
async fn patch_validates_every_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(
            &admin,
            new_user("Beth", "March", "beth@example.test", "clinical"),
        )
        .await;
    let path = format!("/v1/users/{}", id_of(&user));
    let answer = app
        .patch(
            &admin,
            &path,
            json!({
                "first_name": "",
                "last_name": "y".repeat(101),
                "email": "no-at-sign",
                "title": "",
                "profession": "WIZARD",
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert!(!field_names(&answer).is_empty());
    let answer = app
        .patch(
            &admin,
            &path,
            json!({"first_name": "", "last_name": "y".repeat(101), "email": "no-at-sign", "title": ""}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: HashSet<String> = field_names(&answer).into_iter().collect();
    for field in ["first_name", "last_name", "email", "title"] {
        assert!(fields.contains(field), "{field} missing: {:#}", answer.body);
    }
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["version"], 1);
    assert_eq!(read.body["first_name"], "Beth");
}
