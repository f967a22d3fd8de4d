//! PUT /v1/site/plan

use super::*;

#[tokio::test]
async fn only_site_admins_change_the_plan() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, clinic_admin) = user_with(
        &app,
        &admin,
        "Clinicadmin",
        "non_clinical",
        json!(["clinic_admin"]),
    )
    .await;
    let (_, plain) = user_with(&app, &admin, "Plain", "clinical", json!(["manage_billing"])).await;
    let before = app.get(&admin, "/v1/site").await.expect(200).body;
    for token in [&clinic_admin, &plain] {
        change_plan(&app, token, json!({"plan": "group", "licences": 99}))
            .await
            .expect_problem(403, "forbidden");
    }
    assert_eq!(app.get(&admin, "/v1/site").await.expect(200).body, before);
    app.call(
        Method::PUT,
        "/v1/site/plan",
        None,
        Some(json!({"plan": "group", "licences": 99})),
    )
    .await
    .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn raising_and_lowering_the_licence_count() {
    let app = spawn(LicencePlan::Group { licences: 5 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    user(&app, &admin, "Cleo", "clinical").await;
    let site = app.get(&admin, "/v1/site").await.expect(200).body;
    assert_eq!(site["plan"], json!({"plan": "group", "licences": 5}));
    let v0 = site_version(&site);

    let raised = change_plan(&app, &admin, json!({"plan": "group", "licences": 10}))
        .await
        .expect(200);
    assert_eq!(
        raised.body["plan"],
        json!({"plan": "group", "licences": 10})
    );
    assert_eq!(site_version(&raised.body), v0 + 1);
    assert_eq!(
        raised.header("etag"),
        Some(format!("\"{}\"", v0 + 1).as_str())
    );
    assert_usage(&report(&app, &admin).await, "group", [10, 2, 8, 2, 1]);

    // Lowering to exactly the usage fits.
    change_plan(&app, &admin, json!({"plan": "group", "licences": 2}))
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [2, 2, 0, 2, 1]);
    assert_can(&r, [false, true, false, true]);
    try_create(&app, &admin, "Carl", "clinical")
        .await
        .expect_problem(409, "licence_limit_reached");

    // Below the usage it does not.
    let refused = change_plan(&app, &admin, json!({"plan": "group", "licences": 1}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({
            "licences_total": 1,
            "licences_needed": 2,
            "clinical_active": 2,
            "non_clinical_active": 1,
            "licences_used": 2,
        }),
    );
    let site = app.get(&admin, "/v1/site").await.expect(200).body;
    assert_eq!(site["plan"], json!({"plan": "group", "licences": 2}));
    assert_eq!(site_version(&site), v0 + 2);
    assert_usage(&report(&app, &admin).await, "group", [2, 2, 0, 2, 1]);
}

#[tokio::test]
async fn flex_licence_count_counts_non_clinical_users_too() {
    let app = spawn(LicencePlan::Flex { licences: 5 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    user(&app, &admin, "Nina", "non_clinical").await;
    user(&app, &admin, "Nora", "non_clinical").await;
    // Four active users: 4 fits, 3 does not.
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 3}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({
            "licences_total": 3,
            "licences_needed": 4,
            "licences_used": 4,
            "clinical_active": 1,
            "non_clinical_active": 3,
        }),
    );
    change_plan(&app, &admin, json!({"plan": "flex", "licences": 4}))
        .await
        .expect(200);
    let r = report(&app, &admin).await;
    assert_usage(&r, "flex", [4, 4, 0, 1, 3]);
    assert_can(&r, [false, false, true, true]);
}

#[tokio::test]
async fn changing_the_plan_kind_when_it_fits_and_when_it_does_not() {
    let app = spawn(LicencePlan::Flex { licences: 5 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    let nora = user(&app, &admin, "Nora", "non_clinical").await;

    // flex → group 1: only the one clinical user needs a licence.
    let group = change_plan(&app, &admin, json!({"plan": "group", "licences": 1}))
        .await
        .expect(200);
    assert_eq!(group.body["plan"], json!({"plan": "group", "licences": 1}));
    let r = report(&app, &admin).await;
    assert_usage(&r, "group", [1, 1, 0, 1, 3]);
    assert_can(&r, [false, true, false, true]);

    // group → flex 3: four active users do not fit three licences.
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 3}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({"licences_total": 3, "licences_needed": 4, "clinical_active": 1, "non_clinical_active": 3}),
    );

    // group → solo: three non-clinical users do not fit the one slot.
    let refused = change_plan(&app, &admin, json!({"plan": "solo"}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({"licences_total": 1, "clinical_active": 1, "non_clinical_active": 3}),
    );
    assert_eq!(
        app.get(&admin, "/v1/site").await.expect(200).body["plan"],
        json!({"plan": "group", "licences": 1})
    );

    // Two of them leave (the admin keeps the non-clinical slot): now solo fits.
    deactivate(&app, &admin, &nina).await.expect(200);
    deactivate(&app, &admin, &nora).await.expect(200);
    let solo = change_plan(&app, &admin, json!({"plan": "solo"}))
        .await
        .expect(200);
    assert_eq!(solo.body["plan"], json!({"plan": "solo"}));
    let r = report(&app, &admin).await;
    assert_usage(&r, "solo", [1, 1, 0, 1, 1]);
    assert_can(&r, [false, false, false, false]);
    reactivate(&app, &admin, &nina)
        .await
        .expect_problem(409, "solo_slot_taken");

    // solo → flex 1 does not fit two active users; flex 2 does.
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 1}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_members(
        &refused.body,
        &json!({"licences_total": 1, "licences_needed": 2}),
    );
    change_plan(&app, &admin, json!({"plan": "flex", "licences": 2}))
        .await
        .expect(200);
    assert_usage(&report(&app, &admin).await, "flex", [2, 2, 0, 1, 1]);
}

#[tokio::test]
async fn plan_body_is_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let before = app.get(&admin, "/v1/site").await.expect(200).body;
    let fields = |answer: &Answer| -> Vec<String> {
        answer.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for body in [
        json!({"plan": "flex"}),
        json!({"plan": "group"}),
        json!({"plan": "flex", "licences": 0}),
        json!({"plan": "group", "licences": 100_001}),
        json!({"plan": "group", "licences": -3}),
        json!({"plan": "solo", "licences": 2}),
    ] {
        let answer = change_plan(&app, &admin, body.clone())
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            fields(&answer).iter().any(|f| f == "licences"),
            "{body}: {:#}",
            answer.body
        );
    }
    for body in [
        json!({"plan": "platinum", "licences": 3}),
        json!({"licences": 3}),
    ] {
        let answer = change_plan(&app, &admin, body.clone())
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            fields(&answer).iter().any(|f| f == "plan"),
            "{body}: {:#}",
            answer.body
        );
    }
    assert_eq!(app.get(&admin, "/v1/site").await.expect(200).body, before);
    // Solo with its one licence spelled out is fine.
    change_plan(&app, &admin, json!({"plan": "solo", "licences": 1}))
        .await
        .expect(200);
}

#[tokio::test]
async fn plan_change_honours_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site = app.get(&admin, "/v1/site").await.expect(200);
    let etag = site.header("etag").unwrap().to_owned();
    let v0 = site_version(&site.body);
    assert_eq!(etag, format!("\"{v0}\""));

    let body = json!({"plan": "group", "licences": 20});
    send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some("\"999\""),
        Some(body.clone()),
    )
    .await
    .expect_problem(412, "precondition_failed");
    assert_eq!(
        app.get(&admin, "/v1/site").await.expect(200).body["plan"],
        json!({"plan": "group", "licences": 50})
    );

    let changed = send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some(&etag),
        Some(body),
    )
    .await
    .expect(200);
    assert_eq!(site_version(&changed.body), v0 + 1);
    let new_etag = changed.header("etag").unwrap().to_owned();
    assert_eq!(new_etag, format!("\"{}\"", v0 + 1));

    // The old tag is stale now.
    send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some(&etag),
        Some(json!({"plan": "group", "licences": 30})),
    )
    .await
    .expect_problem(412, "precondition_failed");
    send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some("*"),
        Some(json!({"plan": "group", "licences": 30})),
    )
    .await
    .expect(200);
    let site = app.get(&admin, "/v1/site").await.expect(200);
    assert_eq!(site.body["plan"], json!({"plan": "group", "licences": 30}));
    assert_eq!(
        site.header("etag"),
        Some(format!("\"{}\"", v0 + 2).as_str())
    );
}

#[tokio::test]
async fn plan_change_is_required_to_send_if_match_when_the_deployment_says_so() {
    let app = TestApp::spawn_with(Options {
        require_if_match: true,
        ..Default::default()
    })
    .await;
    let admin = app.admin_token().await;
    change_plan(&app, &admin, json!({"plan": "group", "licences": 20}))
        .await
        .expect_problem(428, "precondition_required");
    let etag = app
        .get(&admin, "/v1/site")
        .await
        .expect(200)
        .header("etag")
        .unwrap()
        .to_owned();
    send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        Some(&etag),
        Some(json!({"plan": "group", "licences": 20})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn plan_change_is_audited_and_refusals_and_no_ops_are_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let site_id = app.site.site_id.to_string();
    let admin_id = app.site.admin_id.to_string();
    assert!(plan_events(&app, &admin).await.is_empty());

    let changed = send(
        &app,
        Method::PUT,
        "/v1/site/plan",
        &admin,
        None,
        Some(json!({"plan": "flex", "licences": 7})),
    )
    .await
    .expect(200);
    let version = site_version(&changed.body);
    let list = plan_events(&app, &admin).await;
    assert_eq!(list.len(), 1, "{list:#?}");
    let event = &list[0];
    assert_eq!(event["action"], "site.plan_changed");
    assert_eq!(event["target_type"], "site");
    assert_eq!(event["target_id"], site_id.as_str());
    assert_eq!(event["actor_kind"], "user");
    assert_eq!(event["actor_id"], admin_id.as_str());
    assert_eq!(event["before"], json!({"plan": "group", "licences": 50}));
    assert_eq!(event["after"], json!({"plan": "flex", "licences": 7}));

    // Same plan again: nothing changes, no event, same version.
    let same = change_plan(&app, &admin, json!({"plan": "flex", "licences": 7}))
        .await
        .expect(200);
    assert_eq!(site_version(&same.body), version);
    // Refused: no event either.
    change_plan(&app, &admin, json!({"plan": "flex", "licences": 0}))
        .await
        .expect(422);
    user(&app, &admin, "Carla", "clinical").await;
    change_plan(&app, &admin, json!({"plan": "flex", "licences": 1}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_eq!(plan_events(&app, &admin).await.len(), 1);
    assert_eq!(
        site_version(&app.get(&admin, "/v1/site").await.expect(200).body),
        version
    );
}

/// The numbers of one `409` body describe one situation: `licences_available` is what is
/// left of `licences_total` after `licences_used`.
#[tokio::test]
async fn plan_does_not_fit_body_numbers_agree_with_each_other() {
    let app = spawn(LicencePlan::Flex { licences: 5 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    user(&app, &admin, "Nina", "non_clinical").await;
    user(&app, &admin, "Nora", "non_clinical").await;

    // flex 5 → flex 3 with four active users: 3 licences, 4 needed — none available.
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 3}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_eq!(refused.body["licences_total"], 3, "{:#}", refused.body);
    assert_eq!(refused.body["licences_needed"], 4, "{:#}", refused.body);
    let mut contradictions = Vec::new();
    let mut check = |body: &Value| {
        let total = body["licences_total"].as_u64().unwrap();
        let used = body["licences_used"].as_u64().unwrap();
        let available = body["licences_available"].as_u64().unwrap();
        if available != total.saturating_sub(used) {
            contradictions.push(body.clone());
        }
    };
    check(&refused.body);

    // group 5 (one clinical licence used) → flex 3: four active users need 4.
    change_plan(&app, &admin, json!({"plan": "group", "licences": 5}))
        .await
        .expect(200);
    let refused = change_plan(&app, &admin, json!({"plan": "flex", "licences": 3}))
        .await
        .expect_problem(409, "plan_does_not_fit");
    assert_eq!(refused.body["licences_total"], 3, "{:#}", refused.body);
    assert_eq!(refused.body["licences_needed"], 4, "{:#}", refused.body);
    check(&refused.body);
    assert!(
        contradictions.is_empty(),
        "licences_available contradicts licences_total and licences_used: {contradictions:#?}"
    );
}

#[tokio::test]
async fn every_licence_refusal_body_numbers_agree_with_each_other() {
    let app = spawn(LicencePlan::Group { licences: 1 }).await;
    let admin = app.admin_token().await;
    user(&app, &admin, "Carla", "clinical").await;
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    for answer in [
        try_create(&app, &admin, "Carl", "clinical").await,
        set_type(&app, &admin, &nina, "clinical").await,
    ] {
        let answer = answer.expect_problem(409, "licence_limit_reached");
        let body = &answer.body;
        let total = body["licences_total"].as_u64().unwrap();
        let used = body["licences_used"].as_u64().unwrap();
        assert_eq!(
            body["licences_available"].as_u64().unwrap(),
            total.saturating_sub(used),
            "{body:#}"
        );
        assert_eq!(used, body["clinical_active"].as_u64().unwrap(), "{body:#}");
    }
}
