//! Create and read

use super::*;

#[tokio::test]
async fn create_answers_201_with_location_etag_and_the_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "title": "Dr",
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "Grace.Hopper@Example.test",
                "user_type": "clinical",
                "profession": "PT",
                "permissions": ["start_soap_notes", "manage_schedule"],
                "initial_password": PASSWORD,
            }),
        )
        .await
        .expect(201);
    let user = created.body.clone();
    let id = id_of(&user);
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/users/{id}").as_str())
    );
    assert_eq!(
        created.header("etag"),
        Some(etag_of(&user["version"]).as_str())
    );
    assert_eq!(user["title"], "Dr");
    assert_eq!(user["first_name"], "Grace");
    assert_eq!(user["last_name"], "Hopper");
    assert_eq!(user["email"], "Grace.Hopper@Example.test");
    assert_eq!(user["user_type"], "clinical");
    assert_eq!(user["profession"], "PT");
    assert_eq!(user["status"], "active");
    let permissions: HashSet<&str> = user["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        permissions,
        HashSet::from(["start_soap_notes", "manage_schedule"])
    );
    assert_eq!(user["default_clinic_id"], app.site.clinic_id.as_str());
    assert_eq!(user["clinic_ids"], json!([app.site.clinic_id]));
    assert_eq!(user["diary_enabled"], true);
    assert_eq!(user["has_password"], true);
    assert!(user["last_login_at"].is_null());
    assert!(user["created_at"].is_string());
    assert!(user["updated_at"].is_string());
    assert!(user.get("initial_password").is_none());
    assert!(user.get("password_hash").is_none());

    let read = app
        .get(&admin, &format!("/v1/users/{id}"))
        .await
        .expect(200);
    assert_eq!(
        read.header("etag"),
        Some(etag_of(&user["version"]).as_str())
    );
    assert_eq!(read.body, user);

    // The new user can log in with the initial password.
    app.login("grace.hopper@example.test", PASSWORD).await;
}

#[tokio::test]
async fn non_clinical_users_have_no_diary_and_take_the_defaults() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .post(
            &admin,
            "/v1/users",
            new_user("Frank", "Desk", "frank@example.test", "non_clinical"),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(user["user_type"], "non_clinical");
    assert_eq!(user["diary_enabled"], false);
    assert_eq!(user["profession"], "OTHER");
    assert_eq!(user["permissions"], json!([]));
    assert!(user["title"].is_null());
    assert_eq!(user["has_password"], false, "no initial_password given");
    assert_eq!(user["default_clinic_id"], app.site.clinic_id.as_str());
    assert_eq!(user["clinic_ids"], json!([app.site.clinic_id]));
    assert_eq!(user["version"], 1);
}

#[tokio::test]
async fn default_clinic_is_the_sites_first_clinic_or_one_of_the_given() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;

    let plain = app
        .create_user(
            &admin,
            new_user("No", "Clinics", "none@example.test", "clinical"),
        )
        .await;
    assert_eq!(plain["default_clinic_id"], main.as_str());
    assert_eq!(plain["clinic_ids"], json!([main]));

    let mut body = new_user("Only", "North", "north@example.test", "clinical");
    body["clinic_ids"] = json!([north]);
    let only_north = app.create_user(&admin, body).await;
    assert_eq!(only_north["default_clinic_id"], north.as_str());
    assert_eq!(only_north["clinic_ids"], json!([north]));

    let mut body = new_user("Both", "Clinics", "both@example.test", "clinical");
    body["clinic_ids"] = json!([main, north]);
    body["default_clinic_id"] = json!(north);
    let both = app.create_user(&admin, body).await;
    assert_eq!(both["default_clinic_id"], north.as_str());
    let clinics: HashSet<&str> = both["clinic_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(clinics, HashSet::from([main.as_str(), north.as_str()]));

    let mut body = new_user("Default", "Only", "default@example.test", "clinical");
    body["default_clinic_id"] = json!(north);
    let default_only = app.create_user(&admin, body).await;
    assert_eq!(default_only["default_clinic_id"], north.as_str());
    assert!(
        default_only["clinic_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(north)),
        "clinic_ids must contain the default: {default_only:#}"
    );
}

#[tokio::test]
async fn default_clinic_outside_clinic_ids_and_unknown_clinics_are_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;

    let mut body = new_user("Bad", "Default", "bad@example.test", "clinical");
    body["clinic_ids"] = json!([main]);
    body["default_clinic_id"] = json!(north);
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert!(
        field_names(&answer).contains(&"default_clinic_id".to_owned()),
        "{:#}",
        answer.body
    );

    let mut body = new_user("Unknown", "Clinic", "unknown@example.test", "clinical");
    body["clinic_ids"] = json!([uuid::Uuid::new_v4().to_string()]);
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert!(
        field_names(&answer).contains(&"clinic_ids".to_owned()),
        "{:#}",
        answer.body
    );

    // A clinic of another site is unknown here too.
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let mut body = new_user("Foreign", "Clinic", "foreign@example.test", "clinical");
    body["clinic_ids"] = json!([other.clinic_id]);
    let answer = app
        .post(&admin, "/v1/users", body)
        .await
        .expect_problem(422, "validation_failed");
    assert!(field_names(&answer).contains(&"clinic_ids".to_owned()));

    // Nothing was created.
    assert_eq!(list_all(&app, &admin, "").await.len(), 1);
}

#[tokio::test]
async fn create_reports_every_invalid_field_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answer = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "title": "",
                "first_name": "   ",
                "last_name": "x".repeat(101),
                "email": "not-an-email",
                "user_type": "clinical",
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: HashSet<String> = field_names(&answer).into_iter().collect();
    for field in ["title", "first_name", "last_name", "email"] {
        assert!(fields.contains(field), "{field} missing: {:#}", answer.body);
    }

    let answer = app
        .post(
            &admin,
            "/v1/users",
            new_user("Kind", "Less", "kind@example.test", "robot"),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert!(field_names(&answer).contains(&"user_type".to_owned()));
}

#[tokio::test]
async fn emails_are_unique_case_insensitively_on_create_and_patch() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let first = app
        .create_user(
            &admin,
            new_user("Sam", "First", "sam@example.test", "clinical"),
        )
        .await;

    app.post(
        &admin,
        "/v1/users",
        new_user("Sam", "Second", "SAM@Example.TEST", "non_clinical"),
    )
    .await
    .expect_problem(409, "email_taken");
    // The bootstrapped admin's address, in another case.
    app.post(
        &admin,
        "/v1/users",
        new_user("Ada", "Again", "Admin@Example.Test", "non_clinical"),
    )
    .await
    .expect_problem(409, "email_taken");

    let second = app
        .create_user(
            &admin,
            new_user("Kim", "Second", "kim@example.test", "clinical"),
        )
        .await;
    let second_id = id_of(&second);
    app.patch(
        &admin,
        &format!("/v1/users/{second_id}"),
        json!({"email": "Sam@EXAMPLE.test"}),
    )
    .await
    .expect_problem(409, "email_taken");
    let unchanged = app
        .get(&admin, &format!("/v1/users/{second_id}"))
        .await
        .expect(200);
    assert_eq!(unchanged.body["email"], "kim@example.test");
    assert_eq!(unchanged.body["version"], second["version"]);

    // A user may change the case of their own address.
    let first_id = id_of(&first);
    let recased = app
        .patch(
            &admin,
            &format!("/v1/users/{first_id}"),
            json!({"email": "Sam@Example.test"}),
        )
        .await
        .expect(200);
    assert_eq!(recased.body["email"], "Sam@Example.test");
}

#[tokio::test]
async fn reading_unknown_and_foreign_users_is_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.get(&admin, &format!("/v1/users/{}", uuid::Uuid::new_v4()))
        .await
        .expect_problem(404, "not_found");

    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let foreign = format!("/v1/users/{}", other.admin_id);
    app.get(&admin, &foreign)
        .await
        .expect_problem(404, "not_found");
    app.patch(&admin, &foreign, json!({"first_name": "Hacked"}))
        .await
        .expect_problem(404, "not_found");
    deactivate(&app, &admin, &other.admin_id.to_string())
        .await
        .expect_problem(404, "not_found");
    // The foreign user never shows in this site's list.
    let listed = ids(&list_all(&app, &admin, "").await);
    assert!(!listed.contains(&other.admin_id.to_string()));
}
