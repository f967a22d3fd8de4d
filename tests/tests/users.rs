//! `/v1/users`: creation, the staff list (filters, search, sorting, pagination), profile
//! updates, deactivation and reactivation, licences, and who may administer whom.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_domain::LicencePlan;
use staffroom_tests::{Answer, Options, PASSWORD, TestApp, add_clinic, enc, id_of, send};

fn new_user(first: &str, last: &str, email: &str, user_type: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": last,
        "email": email,
        "user_type": user_type,
    })
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

fn items(answer: &Answer) -> Vec<Value> {
    answer.body["items"].as_array().unwrap().clone()
}

fn field_names(answer: &Answer) -> Vec<String> {
    answer.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn etag_of(version: &Value) -> String {
    format!("\"{}\"", version.as_i64().unwrap())
}

async fn deactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    send(
        app,
        Method::POST,
        &format!("/v1/users/{id}/deactivate"),
        token,
        None,
        None,
    )
    .await
}

async fn reactivate(app: &TestApp, token: &str, id: &str) -> Answer {
    send(
        app,
        Method::POST,
        &format!("/v1/users/{id}/reactivate"),
        token,
        None,
        None,
    )
    .await
}

/// Every user of a list query, in order, in one page.
async fn list_all(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let sep = if query.is_empty() { "" } else { "&" };
    let answer = app
        .get(token, &format!("/v1/users?{query}{sep}limit=200"))
        .await
        .expect(200);
    assert!(answer.body["next_cursor"].is_null());
    items(&answer)
}

/// Walks every page of a list query with `limit`, checking the page sizes and that only
/// the last page has no `next_cursor`.
async fn walk(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = format!("/v1/users?limit={limit}");
        if !query.is_empty() {
            path.push('&');
            path.push_str(query);
        }
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", enc(c)));
        }
        let page = app.get(token, &path).await.expect(200);
        let page_items = items(&page);
        assert!(page_items.len() <= limit, "page larger than limit: {path}");
        all.extend(page_items.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(page_items.len(), limit, "a short page with a next_cursor");
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(page.body["next_cursor"].is_null());
                return all;
            }
        }
    }
    panic!("pagination of {query} does not end");
}

// ---------------------------------------------------------------------------------------
// Create and read
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_filters_by_type_status_profession_and_clinic() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;

    let mut body = new_user("Pat", "Physio", "pat@example.test", "clinical");
    body["profession"] = json!("PT");
    body["clinic_ids"] = json!([north]);
    let physio = id_of(&app.create_user(&admin, body).await);
    let mut body = new_user("Olly", "Occupational", "olly@example.test", "clinical");
    body["profession"] = json!("OT");
    let occupational = id_of(&app.create_user(&admin, body).await);
    let mut body = new_user("Cleo", "Clerk", "cleo@example.test", "non_clinical");
    body["profession"] = json!("CLERICAL");
    let clerk = id_of(&app.create_user(&admin, body).await);
    let gone = id_of(
        &app.create_user(
            &admin,
            new_user("Gwen", "Gone", "gwen@example.test", "non_clinical"),
        )
        .await,
    );
    deactivate(&app, &admin, &gone).await.expect(200);

    let set = |users: Vec<Value>| ids(&users).into_iter().collect::<HashSet<_>>();
    let of = |v: &[&String]| v.iter().map(|s| (*s).clone()).collect::<HashSet<_>>();

    assert_eq!(
        set(list_all(&app, &admin, "user_type=clinical").await),
        of(&[&physio, &occupational])
    );
    assert_eq!(
        set(list_all(&app, &admin, "user_type=non_clinical").await),
        of(&[&admin_id, &clerk, &gone])
    );
    assert_eq!(
        set(list_all(&app, &admin, "status=inactive").await),
        of(&[&gone])
    );
    assert_eq!(
        set(list_all(&app, &admin, "status=active&user_type=non_clinical").await),
        of(&[&admin_id, &clerk])
    );
    assert_eq!(
        set(list_all(&app, &admin, "profession=PT").await),
        of(&[&physio])
    );
    assert_eq!(
        set(list_all(&app, &admin, "profession=CLERICAL").await),
        of(&[&clerk])
    );
    assert_eq!(
        set(list_all(&app, &admin, &format!("clinic_id={north}")).await),
        of(&[&physio])
    );
    assert_eq!(
        set(list_all(&app, &admin, &format!("clinic_id={main}")).await),
        of(&[&admin_id, &occupational, &clerk, &gone])
    );
    assert_eq!(list_all(&app, &admin, "").await.len(), 5);

    // Bad filter values name the parameter.
    let long_q = format!("q={}", "a".repeat(201));
    for (query, field) in [
        ("user_type=robot", "user_type"),
        ("status=asleep", "status"),
        ("profession=WIZARD", "profession"),
        ("clinic_id=not-a-uuid", "clinic_id"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=garbage!", "cursor"),
        (long_q.as_str(), "q"),
    ] {
        let answer = app
            .get(&admin, &format!("/v1/users?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            field_names(&answer).contains(&field.to_owned()),
            "{query}: {:#}",
            answer.body
        );
    }
}

#[tokio::test]
async fn search_is_case_insensitive_on_name_and_email() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let zoe = id_of(
        &app.create_user(
            &admin,
            new_user("Zoë", "Quill", "zq@example.test", "clinical"),
        )
        .await,
    );
    let mary = id_of(
        &app.create_user(
            &admin,
            new_user("Mary", "O'Brien", "mob@clinic.test", "non_clinical"),
        )
        .await,
    );

    let search = |q: &str| {
        let app = &app;
        let admin = &admin;
        let q = q.to_owned();
        async move { ids(&list_all(app, admin, &format!("q={}", enc(&q))).await) }
    };
    assert_eq!(search("QUILL").await, vec![zoe.clone()]);
    assert_eq!(search("zoë").await, vec![zoe.clone()]);
    assert_eq!(search("ZOË").await, vec![zoe.clone()]);
    assert_eq!(search("ZQ@EXAMPLE").await, vec![zoe.clone()]);
    assert_eq!(search("o'brien").await, vec![mary.clone()]);
    assert_eq!(search("Clinic.TEST").await, vec![mary.clone()]);
    assert_eq!(search("  mary  ").await, vec![mary.clone()]);
    assert!(search("nobody-has-this").await.is_empty());
    // Search combines with the tabs.
    assert_eq!(
        ids(&list_all(&app, &admin, "q=example&user_type=clinical").await),
        vec![zoe.clone()]
    );
}

#[tokio::test]
async fn search_treats_percent_and_underscore_literally() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let underscore = id_of(
        &app.create_user(
            &admin,
            new_user("Hal", "Half_Way", "half_way@example.test", "clinical"),
        )
        .await,
    );
    let _lookalike = app
        .create_user(
            &admin,
            new_user("Hal", "Halfxway", "halfxway@example.test", "clinical"),
        )
        .await;
    let percent = id_of(
        &app.create_user(
            &admin,
            new_user("Fifi", "Fifty%Off", "fifi@example.test", "clinical"),
        )
        .await,
    );
    let _plain = app
        .create_user(
            &admin,
            new_user("Fifi", "FiftyOff", "fifioff@example.test", "clinical"),
        )
        .await;

    let search = |q: &str| {
        let app = &app;
        let admin = &admin;
        let q = q.to_owned();
        async move { ids(&list_all(app, admin, &format!("q={}", enc(&q))).await) }
    };
    assert_eq!(search("half_w").await, vec![underscore.clone()]);
    assert_eq!(search("_").await, vec![underscore.clone()]);
    assert_eq!(search("fifty%off").await, vec![percent.clone()]);
    assert_eq!(search("%").await, vec![percent.clone()]);
    assert!(search("\\").await.is_empty());
}

/// The sort key of a user under `sort` (without the `-`).
fn sort_key(user: &Value, sort: &str) -> String {
    match sort {
        "last_name" => user["last_name"].as_str().unwrap().to_owned(),
        "first_name" => user["first_name"].as_str().unwrap().to_owned(),
        "email" => user["email"].as_str().unwrap().to_lowercase(),
        other => panic!("no key for {other}"),
    }
}

/// Creates the admin plus seven users with repeated last and first names; returns the ids
/// in creation order.
async fn seven_users(app: &TestApp, admin: &str) -> Vec<String> {
    let mut created = vec![app.site.admin_id.to_string()];
    for (first, last, email, user_type) in [
        ("Sam", "Smith", "sam.smith@example.test", "clinical"),
        ("Bea", "Brown", "bea@example.test", "non_clinical"),
        ("Sam", "Jones", "sam.jones@example.test", "clinical"),
        ("Cal", "Smith", "cal@example.test", "clinical"),
        ("Dee", "Jones", "dee@example.test", "non_clinical"),
        ("Eve", "Smith", "eve@example.test", "clinical"),
        ("Abe", "Young", "abe@example.test", "clinical"),
    ] {
        let user = app
            .create_user(admin, new_user(first, last, email, user_type))
            .await;
        created.push(id_of(&user));
    }
    created
}

#[tokio::test]
async fn every_sort_orders_the_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = seven_users(&app, &admin).await;
    let everyone = list_all(&app, &admin, "").await;
    assert_eq!(everyone.len(), 8);

    for sort in ["last_name", "first_name", "email"] {
        let mut expected = everyone.clone();
        expected.sort_by_key(|u| (sort_key(u, sort), id_of(u)));
        let ascending = ids(&list_all(&app, &admin, &format!("sort={sort}")).await);
        assert_eq!(ascending, ids(&expected), "sort={sort}");
        let descending = ids(&list_all(&app, &admin, &format!("sort=-{sort}")).await);
        let mut reversed = ids(&expected);
        reversed.reverse();
        assert_eq!(descending, reversed, "sort=-{sort}");
    }
    // The default order is by last name.
    let mut by_last = everyone.clone();
    by_last.sort_by_key(|u| (sort_key(u, "last_name"), id_of(u)));
    assert_eq!(ids(&everyone), ids(&by_last));

    let oldest_first = ids(&list_all(&app, &admin, "sort=created_at").await);
    assert_eq!(oldest_first, created);
    let newest_first = ids(&list_all(&app, &admin, "sort=-created_at").await);
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(newest_first, reversed);

    let answer = app
        .get(&admin, "/v1/users?sort=shoe_size")
        .await
        .expect_problem(422, "validation_failed");
    assert!(field_names(&answer).contains(&"sort".to_owned()));
}

#[tokio::test]
async fn cursor_pagination_walks_every_user_once_in_every_sort() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    seven_users(&app, &admin).await;

    for sort in [
        "last_name",
        "-last_name",
        "first_name",
        "-first_name",
        "email",
        "-email",
        "created_at",
        "-created_at",
    ] {
        let query = format!("sort={sort}");
        let whole = ids(&list_all(&app, &admin, &query).await);
        let walked = ids(&walk(&app, &admin, &query, 2).await);
        assert_eq!(walked.len(), 8, "sort={sort}: {walked:?}");
        assert_eq!(
            walked.iter().collect::<HashSet<_>>().len(),
            8,
            "sort={sort}: a user repeated"
        );
        assert_eq!(walked, whole, "sort={sort}: pages differ from the list");
        // Other page sizes give the same sequence.
        assert_eq!(ids(&walk(&app, &admin, &query, 3).await), whole);
        assert_eq!(ids(&walk(&app, &admin, &query, 1).await), whole);
    }

    // With a filter too.
    let clinical = ids(&list_all(&app, &admin, "user_type=clinical").await);
    assert_eq!(clinical.len(), 5);
    assert_eq!(
        ids(&walk(&app, &admin, "user_type=clinical&sort=-last_name", 2).await),
        ids(&list_all(&app, &admin, "user_type=clinical&sort=-last_name").await)
    );
    assert_eq!(
        ids(&walk(&app, &admin, "user_type=clinical", 2).await),
        clinical
    );

    // The last page has a null next_cursor.
    let last = app.get(&admin, "/v1/users?limit=8").await.expect(200);
    assert_eq!(items(&last).len(), 8);
    assert!(last.body["next_cursor"].is_null());
}

// ---------------------------------------------------------------------------------------
// Profile updates
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Deactivation and reactivation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn deactivate_and_reactivate_change_status_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(
            &admin,
            new_user("Laurie", "Laurence", "laurie@example.test", "clinical"),
        )
        .await;
    let id = id_of(&user);
    let path = format!("/v1/users/{id}");
    let user_token = app.login("laurie@example.test", PASSWORD).await;
    app.get(&user_token, "/v1/users").await.expect(200);

    let off = deactivate(&app, &admin, &id).await.expect(200);
    assert_eq!(off.body["status"], "inactive");
    assert_eq!(off.body["version"], 2);
    assert_eq!(off.header("etag"), Some("\"2\""));
    // Repeating changes nothing.
    let again = deactivate(&app, &admin, &id).await.expect(200);
    assert_eq!(again.body["status"], "inactive");
    assert_eq!(again.body["version"], 2);

    // The record stays readable and listed.
    let read = app.get(&admin, &path).await.expect(200);
    assert_eq!(read.body["status"], "inactive");
    assert_eq!(read.body["email"], "laurie@example.test");
    assert_eq!(
        ids(&list_all(&app, &admin, "status=inactive").await),
        vec![id.clone()]
    );
    assert!(
        !ids(&list_all(&app, &admin, "status=active").await).contains(&id),
        "an inactive user is not in the active list"
    );
    // The user's token stops working.
    app.get(&user_token, "/v1/users")
        .await
        .expect_problem(401, "invalid_token");

    let on = reactivate(&app, &admin, &id).await.expect(200);
    assert_eq!(on.body["status"], "active");
    assert_eq!(on.body["version"], 3);
    let again = reactivate(&app, &admin, &id).await.expect(200);
    assert_eq!(again.body["version"], 3);
    assert!(list_all(&app, &admin, "status=inactive").await.is_empty());
    app.login("laurie@example.test", PASSWORD).await;
}

#[tokio::test]
async fn the_last_active_site_admin_cannot_be_deactivated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.site.admin_id.to_string();

    let refused = deactivate(&app, &admin, &admin_id)
        .await
        .expect_problem(409, "last_admin");
    assert!(refused.body["detail"].is_string());
    let read = app
        .get(&admin, &format!("/v1/users/{admin_id}"))
        .await
        .expect(200);
    assert_eq!(read.body["status"], "active");
    assert_eq!(read.body["version"], 1);

    // An inactive second admin does not count.
    let mut body = new_user("Second", "Admin", "second@example.test", "non_clinical");
    body["permissions"] = json!(["site_admin"]);
    let second = id_of(&app.create_user(&admin, body).await);
    deactivate(&app, &admin, &second).await.expect(200);
    deactivate(&app, &admin, &admin_id)
        .await
        .expect_problem(409, "last_admin");

    // With another active site admin, the first can go.
    reactivate(&app, &admin, &second).await.expect(200);
    let off = deactivate(&app, &admin, &admin_id).await.expect(200);
    assert_eq!(off.body["status"], "inactive");

    // Now the second is the last one.
    let second_token = app.login("second@example.test", PASSWORD).await;
    deactivate(&app, &second_token, &second)
        .await
        .expect_problem(409, "last_admin");
}

// ---------------------------------------------------------------------------------------
// Licences
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn flex_plan_counts_every_active_user() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Flex { licences: 2 },
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    // The admin holds one licence; one more user fits.
    let first = id_of(
        &app.create_user(
            &admin,
            new_user("Uno", "One", "one@example.test", "non_clinical"),
        )
        .await,
    );
    for user_type in ["clinical", "non_clinical"] {
        let refused = app
            .post(
                &admin,
                "/v1/users",
                new_user("Dos", "Two", "two@example.test", user_type),
            )
            .await
            .expect_problem(409, "licence_limit_reached");
        assert_eq!(refused.body["licences_total"], 2, "{:#}", refused.body);
        assert_eq!(refused.body["licences_used"], 2, "{:#}", refused.body);
    }
    assert_eq!(list_all(&app, &admin, "").await.len(), 2);

    // Deactivating frees a licence.
    deactivate(&app, &admin, &first).await.expect(200);
    let second = id_of(
        &app.create_user(
            &admin,
            new_user("Dos", "Two", "two@example.test", "clinical"),
        )
        .await,
    );
    let refused = reactivate(&app, &admin, &first)
        .await
        .expect_problem(409, "licence_limit_reached");
    assert_eq!(refused.body["licences_total"], 2);
    assert_eq!(refused.body["licences_used"], 2);
    let read = app
        .get(&admin, &format!("/v1/users/{first}"))
        .await
        .expect(200);
    assert_eq!(read.body["status"], "inactive");

    deactivate(&app, &admin, &second).await.expect(200);
    reactivate(&app, &admin, &first).await.expect(200);
}

#[tokio::test]
async fn solo_plan_allows_one_clinical_and_one_non_clinical_user() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Solo,
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    // The non-clinical admin holds the non-clinical slot.
    app.post(
        &admin,
        "/v1/users",
        new_user("Nina", "Desk", "nina@example.test", "non_clinical"),
    )
    .await
    .expect_problem(409, "solo_slot_taken");
    let clinician = id_of(
        &app.create_user(
            &admin,
            new_user("Carl", "Clinician", "carl@example.test", "clinical"),
        )
        .await,
    );
    app.post(
        &admin,
        "/v1/users",
        new_user("Cora", "Clinician", "cora@example.test", "clinical"),
    )
    .await
    .expect_problem(409, "solo_slot_taken");

    deactivate(&app, &admin, &clinician).await.expect(200);
    let cora = id_of(
        &app.create_user(
            &admin,
            new_user("Cora", "Clinician", "cora@example.test", "clinical"),
        )
        .await,
    );
    reactivate(&app, &admin, &clinician)
        .await
        .expect_problem(409, "solo_slot_taken");
    deactivate(&app, &admin, &cora).await.expect(200);
    reactivate(&app, &admin, &clinician).await.expect(200);
}

#[tokio::test]
async fn group_plan_counts_only_clinical_users() {
    let app = TestApp::spawn_with(Options {
        plan: LicencePlan::Group { licences: 1 },
        ..Options::default()
    })
    .await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        new_user("Cat", "Clinician", "cat@example.test", "clinical"),
    )
    .await;
    let refused = app
        .post(
            &admin,
            "/v1/users",
            new_user("Cid", "Clinician", "cid@example.test", "clinical"),
        )
        .await
        .expect_problem(409, "licence_limit_reached");
    assert_eq!(refused.body["licences_total"], 1);
    assert_eq!(refused.body["licences_used"], 1);
    // Non-clinical users are unlimited.
    for n in 0..4 {
        app.create_user(
            &admin,
            new_user(
                "Desk",
                "Person",
                &format!("desk{n}@example.test"),
                "non_clinical",
            ),
        )
        .await;
    }
    assert_eq!(
        list_all(&app, &admin, "user_type=non_clinical").await.len(),
        5
    );
}

#[tokio::test]
async fn the_default_group_plan_takes_many_non_clinical_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for n in 0..3 {
        let user = app
            .create_user(
                &admin,
                new_user(
                    "Desk",
                    "Person",
                    &format!("desk{n}@example.test"),
                    "non_clinical",
                ),
            )
            .await;
        assert_eq!(user["status"], "active");
    }
}

// ---------------------------------------------------------------------------------------
// Who may administer whom
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Profession rules (SPEC §4 rules 1, 2 and 6) on create and on profile updates
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_refuses_soap_permissions_a_profession_may_not_hold() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (n, (profession, permission)) in [
        ("CLERICAL", "start_soap_notes"),
        ("BILLING", "forward_soap_notes"),
        ("CLERICAL", "finish_soap_notes"),
        ("PTA", "finish_soap_notes"),
        ("SPT", "finish_soap_notes"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = new_user(
            "Rule",
            "Breaker",
            &format!("rule{n}@example.test"),
            "clinical",
        );
        body["profession"] = json!(profession);
        body["permissions"] = json!([permission]);
        let answer = app.post(&admin, "/v1/users", body).await;
        assert_eq!(
            answer.status.as_u16(),
            422,
            "{profession} with {permission}: {:#}",
            answer.body
        );
        assert_eq!(answer.code(), "validation_failed");
    }
    assert_eq!(
        list_all(&app, &admin, "").await.len(),
        1,
        "nobody was created"
    );

    // What the rules allow.
    let mut body = new_user("Allowed", "Assistant", "pta@example.test", "clinical");
    body["profession"] = json!("PTA");
    body["permissions"] = json!(["start_soap_notes", "forward_soap_notes"]);
    app.create_user(&admin, body).await;
    let mut body = new_user("Allowed", "Clerk", "clerk@example.test", "non_clinical");
    body["profession"] = json!("CLERICAL");
    body["permissions"] = json!(["manage_billing", "manage_schedule"]);
    app.create_user(&admin, body).await;
}

#[tokio::test]
async fn a_profession_change_rechecks_the_soap_permissions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = new_user("Fin", "Isher", "fin@example.test", "clinical");
    body["profession"] = json!("PT");
    body["permissions"] = json!(["finish_soap_notes"]);
    let finisher = id_of(&app.create_user(&admin, body).await);
    let mut body = new_user("Sta", "Rter", "sta@example.test", "clinical");
    body["profession"] = json!("OT");
    body["permissions"] = json!(["start_soap_notes"]);
    let starter = id_of(&app.create_user(&admin, body).await);

    for (id, profession) in [
        (&finisher, "PTA"),
        (&starter, "CLERICAL"),
        (&starter, "BILLING"),
    ] {
        let path = format!("/v1/users/{id}");
        let answer = app
            .patch(&admin, &path, json!({"profession": profession}))
            .await;
        assert!(
            matches!(answer.status.as_u16(), 409 | 422),
            "{profession}: {} {:#}",
            answer.status,
            answer.body
        );
        let read = app.get(&admin, &path).await.expect(200);
        assert_eq!(read.body["version"], 1, "{profession}: the user changed");
    }
    // A profession that keeps the permissions legal is fine.
    let moved = app
        .patch(
            &admin,
            &format!("/v1/users/{starter}"),
            json!({"profession": "SOT"}),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["profession"], "SOT");
}

// ---------------------------------------------------------------------------------------
// Concurrent requests
// ---------------------------------------------------------------------------------------

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
