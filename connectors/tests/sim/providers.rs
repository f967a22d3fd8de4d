//! Each provider's calls: exercise users and launch links, imaging users and referrals, email messages.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn exercise_users_are_created_launched_and_deleted() {
    let api = Api::new().await;

    let clinic = api.get("/exercise/v1/clinics/CLM-42").await;
    assert_eq!(clinic.status, StatusCode::OK);
    assert_eq!(clinic.body["clm_id"], "CLM-42");
    assert!(!clinic.body["name"].as_str().unwrap().is_empty());

    let created = api
        .post(
            "/exercise/v1/clinics/CLM-42/users",
            &json!({"first_name": "  Ann ", "last_name": "Lee", "external_id": "staff-1"}),
            Some("create-1"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("EXU-"), "{id}");
    assert_eq!(created.body["clm_id"], "CLM-42");
    assert_eq!(created.body["first_name"], "Ann");
    assert_eq!(created.body["last_name"], "Lee");
    assert_eq!(created.body["external_id"], "staff-1");
    assert!(created.body["created_at"].is_string());

    let state = api.state().await;
    assert_eq!(state["exercise"]["clinics"][0]["clm_id"], "CLM-42");
    assert_eq!(exercise_users(&state).len(), 1);
    assert_eq!(exercise_users(&state)[0]["id"], id.as_str());
    assert_eq!(exercise_users(&state)[0]["external_id"], "staff-1");

    let before = chrono::Utc::now();
    let launch = api
        .post(
            &format!("/exercise/v1/clinics/CLM-42/users/{id}/launch"),
            &json!({}),
            Some("launch-1"),
        )
        .await;
    assert_eq!(launch.status, StatusCode::OK);
    let url = launch.body["url"].as_str().unwrap();
    let prefix = format!("{}/exercise/launch/", api.sim.base_url());
    assert!(url.starts_with(&prefix), "{url}");
    assert!(url.len() > prefix.len() + 16, "{url}");
    let expires_at: chrono::DateTime<chrono::Utc> =
        launch.body["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires_at - before;
    assert!(
        ttl > chrono::TimeDelta::seconds(290) && ttl <= chrono::TimeDelta::seconds(301),
        "{ttl}"
    );
    // The link lands (no bearer key needed).
    let landing = read(api.client.get(url).send().await.unwrap()).await;
    assert_eq!(landing.status, StatusCode::OK);
    assert_eq!(landing.body["user_id"], id.as_str());

    // A user of another clinic is unknown here.
    let elsewhere = api
        .delete(
            &format!("/exercise/v1/clinics/CLM-7/users/{id}"),
            Some("del-0"),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert_eq!(elsewhere.code(), "unknown_user");

    let deleted = api
        .delete(
            &format!("/exercise/v1/clinics/CLM-42/users/{id}"),
            Some("del-1"),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(exercise_users(&api.state().await).is_empty());

    let again = api
        .delete(
            &format!("/exercise/v1/clinics/CLM-42/users/{id}"),
            Some("del-2"),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.code(), "unknown_user");

    let launch = api
        .post(
            &format!("/exercise/v1/clinics/CLM-42/users/{id}/launch"),
            &json!({}),
            Some("launch-2"),
        )
        .await;
    assert_eq!(launch.status, StatusCode::NOT_FOUND);
    assert_eq!(launch.code(), "unknown_user");
    let landing = read(api.client.get(url).send().await.unwrap()).await;
    assert_eq!(landing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_clinics_and_bad_names_are_refused() {
    let api = Api::new().await;

    for clm_id in ["CLM-", "CLM-12a", "XYZ-1", "clm-1"] {
        let clinic = api.get(&format!("/exercise/v1/clinics/{clm_id}")).await;
        assert_eq!(clinic.status, StatusCode::NOT_FOUND, "{clm_id}");
        assert_eq!(clinic.code(), "unknown_clinic");
        assert!(clinic.body["message"].is_string());
        let created = api.create_exercise_user(clm_id, "staff-1", None).await;
        assert_eq!(created.status, StatusCode::NOT_FOUND, "{clm_id}");
        assert_eq!(created.code(), "unknown_clinic");
    }

    for (first, last) in [("   ", "Lee"), ("Ann", ""), ("Ann", &"x".repeat(101))] {
        let created = api
            .post(
                "/exercise/v1/clinics/CLM-1/users",
                &json!({"first_name": first, "last_name": last, "external_id": "s"}),
                None,
            )
            .await;
        assert_eq!(created.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(created.code(), "invalid_name");
    }
    let longest = api
        .post(
            "/exercise/v1/clinics/CLM-1/users",
            &json!({"first_name": "é".repeat(100), "last_name": "Lee", "external_id": "s"}),
            None,
        )
        .await;
    assert_eq!(longest.status, StatusCode::CREATED);

    let state = api.state().await;
    let clinics = state["exercise"]["clinics"].as_array().unwrap();
    assert_eq!(clinics.len(), 1, "{state}");
    assert_eq!(clinics[0]["clm_id"], "CLM-1");
    assert_eq!(exercise_users(&state).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn imaging_emails_are_unique_case_insensitively() {
    let api = Api::new().await;

    let ann = api.create_imaging_user("ann@example.com").await;
    assert_eq!(ann.status, StatusCode::CREATED);
    let ann_id = ann.body["id"].as_str().unwrap().to_owned();
    assert_eq!(ann.body["email"], "ann@example.com");
    assert_eq!(ann.body["title"], "Dr");
    assert_eq!(ann.body["marketing_opt_in"], false);
    assert!(ann.body["created_at"].is_string());

    let clash = api.create_imaging_user("ANN@Example.COM").await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(clash.code(), "email_in_use");

    let found = api.get("/imaging/v1/users?email=Ann%40EXAMPLE.com").await;
    assert_eq!(found.status, StatusCode::OK);
    let items = found.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ann_id.as_str());
    let none = api
        .get("/imaging/v1/users?email=nobody%40example.com")
        .await;
    assert_eq!(none.body["items"], json!([]));

    let bob = api.create_imaging_user("bob@example.com").await;
    assert_eq!(bob.status, StatusCode::CREATED);
    let bob_id = bob.body["id"].as_str().unwrap().to_owned();

    let taken = api
        .patch(
            &format!("/imaging/v1/users/{bob_id}"),
            &json!({"email": "ANN@example.com"}),
            Some("patch-1"),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.code(), "email_in_use");

    // A user may change the case of its own email, and its opt-in.
    let own = api
        .patch(
            &format!("/imaging/v1/users/{ann_id}"),
            &json!({"email": "Ann@Example.com", "marketing_opt_in": true}),
            Some("patch-2"),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["email"], "Ann@Example.com");
    assert_eq!(own.body["marketing_opt_in"], true);

    let moved = api
        .patch(
            &format!("/imaging/v1/users/{bob_id}"),
            &json!({"email": "robert@example.com"}),
            Some("patch-3"),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    assert_eq!(moved.body["email"], "robert@example.com");
    // The old address is free again.
    assert_eq!(
        api.create_imaging_user("bob@example.com").await.status,
        StatusCode::CREATED
    );

    let state = api.state().await;
    let emails: Vec<&str> = imaging_users(&state)
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["Ann@Example.com", "robert@example.com", "bob@example.com"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn imaging_names_are_immutable_and_referrals_are_created() {
    let api = Api::new().await;
    let ann = api.create_imaging_user("ann@example.com").await;
    let ann_id = ann.body["id"].as_str().unwrap().to_owned();

    for body in [
        json!({"first_name": "Anne"}),
        json!({"email": "x@example.com", "last_name": "Leigh"}),
        json!({"title": "Prof"}),
    ] {
        let patched = api
            .patch(&format!("/imaging/v1/users/{ann_id}"), &body, None)
            .await;
        assert_eq!(patched.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(patched.code(), "immutable_field");
    }
    let user = api.get(&format!("/imaging/v1/users/{ann_id}")).await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.body["first_name"], "Ann");
    assert_eq!(user.body["email"], "ann@example.com");

    let missing = api.get("/imaging/v1/users/IMU-nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "unknown_user");
    let missing = api
        .patch(
            "/imaging/v1/users/IMU-nope",
            &json!({"marketing_opt_in": true}),
            None,
        )
        .await;
    assert_eq!(missing.code(), "unknown_user");

    let referral = json!({
        "patient_name": "Pat Smith",
        "body_part": "knee",
        "notes": "left",
        "callback_url": "http://staffroom.test/webhooks/imaging"
    });
    let created = api
        .post(
            &format!("/imaging/v1/users/{ann_id}/referrals"),
            &referral,
            Some("ref-1"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["user_id"], ann_id.as_str());
    assert_eq!(created.body["status"], "requested");
    assert_eq!(created.body["body_part"], "knee");
    assert_eq!(created.body["notes"], "left");
    let parsed: staffroom_connectors::Referral =
        serde_json::from_value(created.body.clone()).unwrap();
    assert_eq!(parsed.patient_name, "Pat Smith");

    let unknown = api
        .post(
            "/imaging/v1/users/IMU-nope/referrals",
            &referral,
            Some("ref-2"),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "unknown_user");

    let state = api.state().await;
    let referrals = state["imaging"]["referrals"].as_array().unwrap();
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0]["id"], created.body["id"]);
    assert_eq!(referrals[0]["patient_name"], "Pat Smith");
}

#[tokio::test(flavor = "multi_thread")]
async fn email_messages_are_accepted_and_held() {
    let api = Api::new().await;
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(1);

    let sent = api
        .post(
            "/email/v1/messages",
            &json!({"to": "ann@example.com", "subject": "Welcome", "body": "Hello Ann"}),
            Some("mail-1"),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let id = sent.body["id"].as_str().unwrap();
    assert!(!id.is_empty());
    let accepted_at: chrono::DateTime<chrono::Utc> =
        sent.body["accepted_at"].as_str().unwrap().parse().unwrap();
    assert!(accepted_at >= before);

    let refused = api
        .post(
            "/email/v1/messages",
            &json!({"to": "not-an-address", "subject": "s", "body": "b"}),
            Some("mail-2"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "invalid_recipient");

    let state = api.state().await;
    let messages = state["email"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["id"], id);
    assert_eq!(messages[0]["to"], "ann@example.com");
    assert_eq!(messages[0]["subject"], "Welcome");
    assert_eq!(messages[0]["body"], "Hello Ann");
    assert_eq!(messages[0]["accepted_at"], sent.body["accepted_at"]);
}
