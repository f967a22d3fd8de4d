//! Filters, paging and sorting of `/scim/v2/Users` (and `POST /.search`).

use super::*;

/// Creates Ava (Dr, clinical, ext-a), Alan and Grace (inactive); the admin exists already.
async fn people(app: &TestApp, token: &str) {
    let mut ada = user("ada@example.test", "Ava", "Lovelace");
    ada["title"] = json!("Dr");
    ada["userType"] = json!("Clinical");
    ada["externalId"] = json!("ext-a");
    create_user(app, token, ada).await;
    create_user(app, token, user("alan@example.test", "Alan", "Turing")).await;
    let mut grace = user("grace@navy.test", "Grace", "Hopper");
    grace["active"] = json!(false);
    create_user(app, token, grace).await;
}

async fn names(app: &TestApp, token: &str, filter: &str) -> Vec<String> {
    let path = format!("/scim/v2/Users?filter={}", staffroom_tests::enc(filter));
    let answer = get(app, token, &path).await.expect(200);
    let mut found: Vec<String> = resources(&answer)
        .iter()
        .map(|u| u["name"]["givenName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(total(&answer), i64::try_from(found.len()).unwrap());
    found.sort();
    found
}

#[tokio::test]
async fn every_operator_and_combination_filters() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    people(&app, &token).await;
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "ADA@example.test""#, &["Ava"]),
        (
            r#"userName ne "ada@example.test" and userName ew "example.test""#,
            &["Ada", "Alan"],
        ),
        (r#"userName co "navy""#, &["Grace"]),
        (r#"name.givenName sw "Al""#, &["Alan"]),
        (r#"name.familyName ew "ace""#, &["Ava"]),
        ("title pr", &["Ava"]),
        (r#"externalId eq "ext-a""#, &["Ava"]),
        (
            r#"emails[type eq "work"].value eq "alan@example.test""#,
            &["Alan"],
        ),
        ("active eq false", &["Grace"]),
        (r#"userType eq "Clinical""#, &["Ava"]),
        (
            r#"name.familyName gt "L" and name.familyName lt "U""#,
            &["Ava", "Alan"],
        ),
        (
            r#"name.familyName ge "Turing" or name.familyName le "Hopper""#,
            &["Ada", "Alan", "Grace"],
        ),
        (
            r#"not (userName co "example") and active eq false"#,
            &["Grace"],
        ),
        (
            r#"(userName sw "ada" or userName sw "alan") and not (title pr)"#,
            &["Alan"],
        ),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            &["Ava", "Ada", "Alan", "Grace"],
        ),
    ];
    for (filter, expected) in cases {
        let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        expected.sort();
        // "Ada" is the harness's site admin, Ada Admin.
        assert_eq!(names(&app, &token, filter).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn bad_filters_are_400_invalid_filter() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    for filter in [
        r#"userName eq"#,
        r#"nope eq "x""#,
        r#"userName xx "y""#,
        "((active eq true)",
    ] {
        let path = format!("/scim/v2/Users?filter={}", staffroom_tests::enc(filter));
        expect_error(&get(&app, &token, &path).await, 400, Some("invalidFilter"));
    }
}

#[tokio::test]
async fn start_index_count_and_sorting_page_in_the_database() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    people(&app, &token).await;
    let first = get(
        &app,
        &token,
        "/scim/v2/Users?startIndex=1&count=2&sortBy=userName",
    )
    .await
    .expect(200);
    assert_eq!(total(&first), 4);
    assert_eq!(first.body["startIndex"], 1);
    assert_eq!(first.body["itemsPerPage"], 2);
    let second = get(
        &app,
        &token,
        "/scim/v2/Users?startIndex=3&count=2&sortBy=userName",
    )
    .await
    .expect(200);
    let all: Vec<String> = resources(&first)
        .iter()
        .chain(resources(&second).iter())
        .map(|u| u["userName"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert_eq!(all.len(), 4);

    let down = get(
        &app,
        &token,
        "/scim/v2/Users?sortBy=name.familyName&sortOrder=descending&count=1",
    )
    .await
    .expect(200);
    assert_eq!(resources(&down)[0]["name"]["familyName"], "Turing");
    let none = get(&app, &token, "/scim/v2/Users?count=0")
        .await
        .expect(200);
    assert_eq!(total(&none), 4);
    assert!(resources(&none).is_empty());
    expect_error(
        &get(&app, &token, "/scim/v2/Users?sortBy=shoeSize").await,
        400,
        Some("invalidValue"),
    );
}

#[tokio::test]
async fn search_by_post_takes_the_same_request() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    people(&app, &token).await;
    let found = post(
        &app,
        &token,
        "/scim/v2/Users/.search",
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName sw \"a\"",
            "attributes": ["userName"],
            "sortBy": "userName",
            "startIndex": 1,
            "count": 10,
        }),
    )
    .await
    .expect(200);
    assert_eq!(total(&found), 3);
    let first = &resources(&found)[0];
    assert_eq!(first["userName"], "ada@example.test");
    assert!(first.get("name").is_none());
}

#[tokio::test]
async fn search_at_the_root_finds_users_then_groups() {
    let app = TestApp::spawn().await;
    let token = scim_token(&app, &app.admin_token().await).await;
    people(&app, &token).await;
    let search = |body: Value| {
        let (app, token) = (&app, &token);
        async move { post(app, token, "/scim/v2/.search", body).await }
    };
    let users = total(&get(&app, &token, "/scim/v2/Users").await.expect(200));
    let groups = total(&get(&app, &token, "/scim/v2/Groups").await.expect(200));
    assert!(groups > 0);

    let all = search(json!({"startIndex": 1, "count": 200}))
        .await
        .expect(200);
    assert_eq!(total(&all), users + groups);
    let kinds: Vec<bool> = resources(&all)
        .iter()
        .map(|r| r.get("userName").is_some())
        .collect();
    let first_group = kinds.iter().position(|is_user| !is_user).unwrap();
    assert_eq!(i64::try_from(first_group).unwrap(), users);
    assert!(kinds[first_group..].iter().all(|is_user| !is_user));

    // Paged past the users, the page holds only Groups.
    let start = users + 1;
    let later = search(json!({"startIndex": start, "count": 10}))
        .await
        .expect(200);
    assert_eq!(total(&later), users + groups);
    assert!(
        resources(&later)
            .iter()
            .all(|r| r.get("userName").is_none())
    );
    assert_eq!(
        i64::try_from(resources(&later).len()).unwrap(),
        groups.min(10)
    );

    // A filter on an attribute only Users have finds only Users.
    let found = search(json!({"filter": "userName sw \"a\"", "attributes": ["userName"]}))
        .await
        .expect(200);
    assert_eq!(total(&found), 3);
    assert!(
        resources(&found)
            .iter()
            .all(|r| r.get("userName").is_some())
    );

    expect_error(
        &search(json!({"sortBy": "userName"})).await,
        400,
        Some("invalidValue"),
    );
}
