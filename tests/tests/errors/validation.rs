//! Validation

use super::*;

#[tokio::test]
async fn validation_lists_every_bad_string_field_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "",
                "last_name": "x".repeat(101),
                "email": "not-an-email",
                "user_type": "clinical",
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_problem_shape(&answer);
    let errors = field_errors(&answer);
    let mut fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["email", "first_name", "last_name"],
        "{:#}",
        answer.body
    );
    let email = errors.iter().find(|(f, _)| f == "email").unwrap();
    assert_eq!(email.1, "invalid_email");

    let users = app.get(&admin, "/v1/users").await.expect(200);
    assert_eq!(
        users.body["items"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
}

#[tokio::test]
async fn names_of_100_characters_are_accepted_and_101_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = valid_user("long@example.test");
    body["first_name"] = json!("é".repeat(100));
    body["last_name"] = json!("x".repeat(100));
    body["title"] = json!("T".repeat(100));
    app.post(&admin, "/v1/users", body.clone())
        .await
        .expect(201);

    body["email"] = json!("longer@example.test");
    body["title"] = json!("T".repeat(101));
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(field_errors(&answer).len(), 1, "{:#}", answer.body);
    assert_names_field(&answer, "title");
}

#[tokio::test]
async fn email_over_254_characters_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let email = format!("{}@{}.example.test", "a".repeat(60), "b".repeat(190));
    assert!(email.len() > 254);
    let answer = app
        .post(&admin, "/v1/users", valid_user(&email))
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "email");
}

#[tokio::test]
async fn patch_lists_every_bad_field_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .patch(
            &admin,
            &format!("/v1/users/{}", app.site.admin_id),
            json!({"first_name": "", "last_name": "", "email": "@"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<String> = field_errors(&answer).into_iter().map(|e| e.0).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "first_name", "last_name"]);
}

#[tokio::test]
async fn wrong_enum_value_names_its_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = valid_user("grace@example.test");
    body["user_type"] = json!("doctor");
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_type");

    let mut body = valid_user("grace@example.test");
    body["profession"] = json!("WIZARD");
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "profession");
}

#[tokio::test]
async fn wrong_enum_value_and_bad_strings_are_reported_together() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "",
                "last_name": "Hopper",
                "email": "not-an-email",
                "user_type": "doctor",
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<String> = field_errors(&answer).into_iter().map(|e| e.0).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["email", "first_name", "user_type"],
        "SPEC §9: all field errors (lengths, email syntax, enum values) at once: {:#}",
        answer.body
    );
}

#[tokio::test]
async fn missing_required_field_is_named_with_code_required() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for missing in ["first_name", "last_name", "email", "user_type"] {
        let mut body = valid_user("grace@example.test");
        body.as_object_mut().unwrap().remove(missing);
        let answer = app
            .post(&admin, "/v1/users", body)
            .await
            .expect_problem(422, "validation_failed");
        let errors = field_errors(&answer);
        assert!(
            errors.contains(&(missing.to_owned(), "required".to_owned())),
            "{missing}: {:#}",
            answer.body
        );
    }
}

#[tokio::test]
async fn every_missing_required_field_is_named() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(&admin, "/v1/users", json!({"first_name": "Grace"}))
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<String> = field_errors(&answer).into_iter().map(|e| e.0).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["email", "last_name", "user_type"],
        "SPEC §9: all field errors at once: {:#}",
        answer.body
    );
}

#[tokio::test]
async fn wrong_json_type_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (field, value) in [
        ("first_name", json!(42)),
        ("email", json!(true)),
        ("permissions", json!("site_admin")),
        ("clinic_ids", json!([7])),
    ] {
        let mut body = valid_user("grace@example.test");
        body[field] = value;
        let answer = app
            .post(&admin, "/v1/users", body)
            .await
            .expect_problem(422, "validation_failed");
        let errors = field_errors(&answer);
        assert!(
            errors.iter().any(|(f, _)| f == field
                || f.starts_with(&format!("{field}["))
                || f.starts_with(&format!("{field}."))),
            "{field}: {:#}",
            answer.body
        );
    }
    let mut body = valid_user("grace@example.test");
    body["first_name"] = json!(42);
    let answer = app.post(&admin, "/v1/users", body).await;
    assert_eq!(
        field_errors(&answer),
        vec![("first_name".to_owned(), "invalid_type".to_owned())]
    );
}

#[tokio::test]
async fn non_object_bodies_are_validation_errors() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for body in [json!([]), json!(null), json!("user"), json!(12)] {
        let answer = app.post(&admin, "/v1/users", body.clone()).await;
        assert!(
            matches!(answer.status.as_u16(), 400 | 422),
            "{body}: {:#}",
            answer.body
        );
        assert_problem_shape(&answer);
    }
}

#[tokio::test]
async fn invalid_uuid_in_the_body_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = valid_user("grace@example.test");
    body["default_clinic_id"] = json!("not-a-uuid");
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "default_clinic_id");
}
