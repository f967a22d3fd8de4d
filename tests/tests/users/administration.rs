//! Who may administer whom

use super::*;

struct ClinicAdminSetup {
    main: String,
    north: String,
    clinic_admin: String,
    in_main: String,
    in_north: String,
    in_both: String,
}

async fn clinic_admin_setup(app: &TestApp, admin: &str) -> ClinicAdminSetup {
    let main = app.site.clinic_id.clone();
    let north = add_clinic(app, admin, "North").await;
    let mut body = new_user("Clara", "Admin", "clara@example.test", "non_clinical");
    body["permissions"] = json!(["clinic_admin"]);
    body["clinic_ids"] = json!([main]);
    app.create_user(admin, body).await;
    let clinic_admin = app.login("clara@example.test", PASSWORD).await;

    let mut body = new_user("Mo", "Main", "mo@example.test", "clinical");
    body["clinic_ids"] = json!([main]);
    let in_main = id_of(&app.create_user(admin, body).await);
    let mut body = new_user("Ned", "North", "ned@example.test", "clinical");
    body["clinic_ids"] = json!([north]);
    let in_north = id_of(&app.create_user(admin, body).await);
    let mut body = new_user("Bo", "Both", "bo@example.test", "clinical");
    body["clinic_ids"] = json!([main, north]);
    body["default_clinic_id"] = json!(north);
    let in_both = id_of(&app.create_user(admin, body).await);
    ClinicAdminSetup {
        main,
        north,
        clinic_admin,
        in_main,
        in_north,
        in_both,
    }
}

/// Asserts a `422 validation_failed` listing exactly these (field, code) pairs.
#[track_caller]
fn expect_fields(answer: Answer, expected: &[(&str, &str)]) {
    let answer = answer.expect_problem(422, "validation_failed");
    let fields: Vec<(&str, &str)> = answer.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, expected, "{:#}", answer.body);
}

#[tokio::test]
async fn clinic_admins_create_users_only_in_their_clinics() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = clinic_admin_setup(&app, &admin).await;

    let mut body = new_user("New", "Main", "newmain@example.test", "clinical");
    body["clinic_ids"] = json!([s.main]);
    let created = app.create_user(&s.clinic_admin, body).await;
    assert_eq!(created["clinic_ids"], json!([s.main]));

    // Without clinics the user lands in a clinic the clinic admin has.
    let created = app
        .create_user(
            &s.clinic_admin,
            new_user("No", "Clinic", "noclinic@example.test", "clinical"),
        )
        .await;
    assert_eq!(created["clinic_ids"], json!([s.main]));
    assert_eq!(created["default_clinic_id"], s.main.as_str());

    // Refusals of the access rules are 422 with the rule's code on the field, as on
    // every single-user path (they were 403 forbidden before).
    let mut body = new_user("New", "North", "newnorth@example.test", "clinical");
    body["clinic_ids"] = json!([s.north]);
    let answer = app.post(&s.clinic_admin, "/v1/users", body).await;
    expect_fields(answer, &[("clinic_ids[0]", "clinic_not_accessible")]);
    let mut body = new_user("New", "Mixed", "newmixed@example.test", "clinical");
    body["clinic_ids"] = json!([s.main, s.north]);
    let answer = app.post(&s.clinic_admin, "/v1/users", body).await;
    expect_fields(answer, &[("clinic_ids[1]", "clinic_not_accessible")]);
    let mut body = new_user("New", "Default", "newdefault@example.test", "clinical");
    body["default_clinic_id"] = json!(s.north);
    let answer = app.post(&s.clinic_admin, "/v1/users", body).await;
    expect_fields(answer, &[("default_clinic_id", "clinic_not_accessible")]);

    // A clinic admin cannot grant site_admin; every refusal is listed at once.
    let mut body = new_user("Would", "Be", "wouldbe@example.test", "non_clinical");
    body["clinic_ids"] = json!([s.main, s.north]);
    body["profession"] = json!("CLERICAL");
    body["permissions"] = json!(["site_admin", "start_soap_notes"]);
    let answer = app.post(&s.clinic_admin, "/v1/users", body).await;
    expect_fields(
        answer,
        &[
            ("permissions[0]", "permission_not_grantable"),
            ("permissions[1]", "soap_not_allowed_for_profession"),
            ("clinic_ids[1]", "clinic_not_accessible"),
        ],
    );

    let emails: HashSet<String> = list_all(&app, &admin, "")
        .await
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    for refused in [
        "newnorth@example.test",
        "newmixed@example.test",
        "newdefault@example.test",
        "wouldbe@example.test",
    ] {
        assert!(!emails.contains(refused), "{refused} was created");
    }
}

#[tokio::test]
async fn a_clinic_admin_of_another_clinic_creates_users_there() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let north = add_clinic(&app, &admin, "North").await;
    let mut body = new_user("Nora", "Admin", "nora@example.test", "non_clinical");
    body["permissions"] = json!(["clinic_admin"]);
    body["clinic_ids"] = json!([north]);
    app.create_user(&admin, body).await;
    let nora = app.login("nora@example.test", PASSWORD).await;

    let created = app
        .create_user(
            &nora,
            new_user("Nat", "North", "nat@example.test", "clinical"),
        )
        .await;
    assert_eq!(created["clinic_ids"], json!([north]));
    assert_eq!(created["default_clinic_id"], north.as_str());
}

#[tokio::test]
async fn clinic_admins_administer_only_users_sharing_a_clinic() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = clinic_admin_setup(&app, &admin).await;

    for id in [&s.in_main, &s.in_both] {
        let path = format!("/v1/users/{id}");
        let updated = app
            .patch(&s.clinic_admin, &path, json!({"title": "Mx"}))
            .await
            .expect(200);
        assert_eq!(updated.body["title"], "Mx");
        deactivate(&app, &s.clinic_admin, id).await.expect(200);
        reactivate(&app, &s.clinic_admin, id).await.expect(200);
    }

    let path = format!("/v1/users/{}", s.in_north);
    app.patch(&s.clinic_admin, &path, json!({"title": "Mx"}))
        .await
        .expect_problem(403, "forbidden");
    deactivate(&app, &s.clinic_admin, &s.in_north)
        .await
        .expect_problem(403, "forbidden");
    // Reading is allowed.
    let read = app.get(&s.clinic_admin, &path).await.expect(200);
    assert!(read.body["title"].is_null());
    assert_eq!(read.body["status"], "active");
    assert_eq!(read.body["version"], 1);

    deactivate(&app, &admin, &s.in_north).await.expect(200);
    reactivate(&app, &s.clinic_admin, &s.in_north)
        .await
        .expect_problem(403, "forbidden");
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["status"], "inactive");
}

#[tokio::test]
async fn plain_users_read_but_do_not_administer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = new_user("Polly", "Plain", "polly@example.test", "clinical");
    body["permissions"] = json!(["start_soap_notes", "manage_schedule", "view_reports"]);
    let polly = id_of(&app.create_user(&admin, body).await);
    let other = id_of(
        &app.create_user(
            &admin,
            new_user("Otto", "Other", "otto@example.test", "clinical"),
        )
        .await,
    );
    let token = app.login("polly@example.test", PASSWORD).await;

    app.post(
        &token,
        "/v1/users",
        new_user("No", "Way", "noway@example.test", "clinical"),
    )
    .await
    .expect_problem(403, "forbidden");
    for id in [&other, &polly] {
        app.patch(
            &token,
            &format!("/v1/users/{id}"),
            json!({"first_name": "Changed"}),
        )
        .await
        .expect_problem(403, "forbidden");
    }
    deactivate(&app, &token, &other)
        .await
        .expect_problem(403, "forbidden");
    reactivate(&app, &token, &other)
        .await
        .expect_problem(403, "forbidden");

    let listed = list_all(&app, &token, "").await;
    assert_eq!(listed.len(), 3);
    let read = app
        .get(&token, &format!("/v1/users/{other}"))
        .await
        .expect(200);
    assert_eq!(read.body["first_name"], "Otto");
    assert_eq!(read.body["status"], "active");
    assert_eq!(read.body["version"], 1);

    // Without a token nothing is readable.
    app.call(Method::GET, "/v1/users", None, None)
        .await
        .expect_problem(401, "invalid_token");
}
