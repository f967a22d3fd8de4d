#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bookings, diaries and the appointment report (SPEC §2): only clinical users with a diary
//! can be booked, the diary follows the type at the next login, and past appointments stay
//! in the report whatever happens to the diary or the user.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::{Answer, PASSWORD, TestApp, add_clinic, enc, id_of};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// An instant in March 2030 (UTC), as the API writes it.
fn at(day: u32, hour: u32, minute: u32) -> String {
    format!("2030-03-{day:02}T{hour:02}:{minute:02}:00Z")
}

fn email_of(first: &str) -> String {
    format!("{}@example.test", first.to_lowercase())
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

#[track_caller]
fn assert_names_field(answer: &Answer, field: &str) {
    assert!(
        field_names(answer).iter().any(|f| f == field),
        "expected an error naming `{field}`: {:#}",
        answer.body
    );
}

/// Creates a user (with the harness password) at these clinics; returns the user.
async fn user_at(
    app: &TestApp,
    admin: &str,
    first: &str,
    user_type: &str,
    clinic_ids: &[&str],
) -> Value {
    app.create_user(
        admin,
        json!({
            "first_name": first,
            "last_name": "Booked",
            "email": email_of(first),
            "user_type": user_type,
            "clinic_ids": clinic_ids,
            "default_clinic_id": clinic_ids[0],
        }),
    )
    .await
}

/// Creates a user at the main clinic and returns the id.
async fn user(app: &TestApp, admin: &str, first: &str, user_type: &str) -> String {
    id_of(&user_at(app, admin, first, user_type, &[&app.site.clinic_id]).await)
}

async fn book(
    app: &TestApp,
    token: &str,
    user_id: &str,
    clinic_id: &str,
    starts_at: &str,
    ends_at: &str,
) -> Answer {
    app.post(
        token,
        "/v1/appointments",
        json!({
            "user_id": user_id,
            "clinic_id": clinic_id,
            "client_ref": "client-42",
            "starts_at": starts_at,
            "ends_at": ends_at,
        }),
    )
    .await
}

/// Books and returns the appointment's id; panics unless `201`.
async fn booked(
    app: &TestApp,
    token: &str,
    user_id: &str,
    clinic_id: &str,
    starts_at: &str,
    ends_at: &str,
) -> String {
    id_of(
        &book(app, token, user_id, clinic_id, starts_at, ends_at)
            .await
            .expect(201)
            .body,
    )
}

async fn set_type(app: &TestApp, token: &str, id: &str, user_type: &str) -> Answer {
    app.call(
        Method::PUT,
        &format!("/v1/users/{id}/type"),
        Some(token),
        Some(json!({"user_type": user_type})),
    )
    .await
}

async fn set_status(app: &TestApp, token: &str, id: &str, action: &str) -> Answer {
    app.call(
        Method::POST,
        &format!("/v1/users/{id}/{action}"),
        Some(token),
        None,
    )
    .await
}

async fn diary(app: &TestApp, token: &str, id: &str) -> Answer {
    app.get(token, &format!("/v1/users/{id}/diary?limit=200"))
        .await
}

/// Ids of one report query, in one page.
async fn report(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let sep = if query.is_empty() { "" } else { "&" };
    let page = app
        .get(
            token,
            &format!("/v1/reports/appointments?{query}{sep}limit=200"),
        )
        .await
        .expect(200);
    assert!(page.body["next_cursor"].is_null(), "{:#}", page.body);
    ids(&items(&page))
}

/// Walks every page of `path` (which has a `?`) with `limit`, checking page sizes and that
/// only the last page lacks a `next_cursor`.
async fn walk(app: &TestApp, token: &str, path: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut url = format!("{path}&limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", enc(c)));
        }
        let page = app.get(token, &url).await.expect(200);
        let page_items = items(&page);
        assert!(page_items.len() <= limit, "page larger than limit: {url}");
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
    panic!("pagination of {path} does not end");
}

/// Asserts `items` are in start order (ties by id) and returns their ids.
#[track_caller]
fn in_start_order(items: &[Value]) -> Vec<String> {
    let keys: Vec<(String, String)> = items
        .iter()
        .map(|a| (a["starts_at"].as_str().unwrap().to_owned(), id_of(a)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "not in start order");
    ids(items)
}

// ---------------------------------------------------------------------------------------
// Booking
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn booking_a_clinical_user_at_one_of_their_clinics_answers_201() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let answer = app
        .post(
            &admin,
            "/v1/appointments",
            json!({
                "user_id": carla,
                "clinic_id": main,
                "client_ref": "  client-7  ",
                "starts_at": "2030-03-01T09:00:00Z",
                "ends_at": "2030-03-01T09:45:00+00:00",
            }),
        )
        .await
        .expect(201);
    let a = &answer.body;
    assert!(
        uuid::Uuid::parse_str(a["id"].as_str().unwrap()).is_ok(),
        "{a:#}"
    );
    assert_eq!(a["user_id"], carla.as_str());
    assert_eq!(a["clinic_id"], main.as_str());
    assert_eq!(a["client_ref"], "client-7");
    assert_eq!(a["starts_at"], "2030-03-01T09:00:00Z");
    assert_eq!(a["ends_at"], "2030-03-01T09:45:00Z");
    assert!(a["created_at"].is_string());

    // Offsets are instants: 11:00+02:00 is 09:00Z.
    let other = book(
        &app,
        &admin,
        &carla,
        &main,
        "2030-03-02T11:00:00+02:00",
        "2030-03-02T12:00:00+02:00",
    )
    .await
    .expect(201);
    assert_eq!(other.body["starts_at"], "2030-03-02T09:00:00Z");

    // Any user may book, not only administrators.
    let (plain_id, plain) = {
        let created = app
            .create_user(
                &admin,
                json!({
                    "first_name": "Frank", "last_name": "Desk", "email": "frank@example.test",
                    "user_type": "non_clinical", "permissions": ["manage_schedule"],
                }),
            )
            .await;
        (
            id_of(&created),
            app.login("frank@example.test", PASSWORD).await,
        )
    };
    assert_ne!(plain_id, carla);
    book(&app, &plain, &carla, &main, &at(3, 9, 0), &at(3, 10, 0))
        .await
        .expect(201);
    assert_eq!(report(&app, &admin, "").await.len(), 3);

    app.call(
        Method::POST,
        "/v1/appointments",
        None,
        Some(json!({
            "user_id": carla, "clinic_id": main, "client_ref": "x",
            "starts_at": at(4, 9, 0), "ends_at": at(4, 10, 0),
        })),
    )
    .await
    .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn a_user_created_as_clinical_is_bookable_before_their_first_login() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let fresh = app
        .post(
            &admin,
            "/v1/users",
            json!({
                "first_name": "Carla", "last_name": "Fresh", "email": "carla@example.test",
                "user_type": "clinical",
            }),
        )
        .await
        .expect(201)
        .body;
    assert!(fresh["last_login_at"].is_null());
    book(
        &app,
        &admin,
        &id_of(&fresh),
        &app.site.clinic_id,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn non_clinical_users_are_not_bookable() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    book(&app, &admin, &nina, &main, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect_problem(422, "not_bookable");
    // The (non-clinical) administrator neither.
    book(
        &app,
        &admin,
        &app.site.admin_id.to_string(),
        &main,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "not_bookable");
    assert!(report(&app, &admin, "").await.is_empty());
}

#[tokio::test]
async fn deactivated_users_are_not_bookable() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    set_status(&app, &admin, &carla, "deactivate")
        .await
        .expect(200);
    book(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect_problem(422, "not_bookable");
    set_status(&app, &admin, &carla, "reactivate")
        .await
        .expect(200);
    book(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect(201);
}

#[tokio::test]
async fn a_user_switched_to_clinical_is_bookable_only_after_their_next_login() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    set_type(&app, &admin, &nina, "clinical").await.expect(200);
    // Clinical now (the list says so) but without a diary until she logs in.
    book(&app, &admin, &nina, &main, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect_problem(422, "not_bookable");
    diary(&app, &admin, &nina)
        .await
        .expect_problem(409, "diary_disabled");

    app.login(&email_of("Nina"), PASSWORD).await;
    let id = booked(&app, &admin, &nina, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let listed = diary(&app, &admin, &nina).await.expect(200);
    assert_eq!(ids(&items(&listed)), vec![id]);
}

#[tokio::test]
async fn a_user_switched_to_non_clinical_is_not_bookable_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let switched = set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    // Her diary has not been switched off yet, but she can no longer be booked.
    assert_eq!(switched.body["diary_enabled"], true);
    book(&app, &admin, &carla, &main, &at(2, 9, 0), &at(2, 10, 0))
        .await
        .expect_problem(422, "not_bookable");
    assert_eq!(report(&app, &admin, "").await.len(), 1);
}

#[tokio::test]
async fn overlapping_appointments_of_one_user_conflict_but_touching_ones_do_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let second = add_clinic(&app, &admin, "Harbour").await;
    let carla = id_of(&user_at(&app, &admin, "Carla", "clinical", &[&main, &second]).await);
    let cleo = user(&app, &admin, "Cleo", "clinical").await;
    booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;

    for (starts, ends) in [
        (at(1, 9, 0), at(1, 10, 0)),
        (at(1, 9, 30), at(1, 10, 30)),
        (at(1, 8, 30), at(1, 9, 30)),
        (at(1, 8, 0), at(1, 11, 0)),
        (at(1, 9, 15), at(1, 9, 45)),
        (at(1, 9, 59), at(1, 10, 0)),
    ] {
        let answer = book(&app, &admin, &carla, &main, &starts, &ends)
            .await
            .expect_problem(409, "appointment_overlaps");
        assert!(answer.body["detail"].is_string());
    }
    // At another of her clinics it is still her time.
    book(&app, &admin, &carla, &second, &at(1, 9, 30), &at(1, 9, 45))
        .await
        .expect_problem(409, "appointment_overlaps");

    // Touching (end == start) is fine on both sides.
    booked(&app, &admin, &carla, &main, &at(1, 10, 0), &at(1, 11, 0)).await;
    booked(&app, &admin, &carla, &second, &at(1, 8, 0), &at(1, 9, 0)).await;
    // Another user at the same time is fine.
    booked(&app, &admin, &cleo, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    assert_eq!(report(&app, &admin, "").await.len(), 4);
}

#[tokio::test]
async fn a_clinic_the_user_has_no_access_to_is_not_bookable() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let second = add_clinic(&app, &admin, "Harbour").await;
    let carla = user(&app, &admin, "Carla", "clinical").await;
    book(&app, &admin, &carla, &second, &at(1, 9, 0), &at(1, 10, 0))
        .await
        .expect_problem(422, "not_bookable");

    // A clinic that does not exist, or is another site's, is a bad field.
    let unknown = book(
        &app,
        &admin,
        &carla,
        &uuid::Uuid::new_v4().to_string(),
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&unknown, "clinic_id");
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let foreign = book(
        &app,
        &admin,
        &carla,
        &other.clinic_id,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&foreign, "clinic_id");

    // A user with access to that clinic can be booked there.
    let cleo = id_of(&user_at(&app, &admin, "Cleo", "clinical", &[&main, &second]).await);
    booked(&app, &admin, &cleo, &second, &at(1, 9, 0), &at(1, 10, 0)).await;
}

#[tokio::test]
async fn ends_at_must_be_after_starts_at() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    for (starts, ends) in [
        (at(1, 9, 0), at(1, 9, 0)),
        (at(1, 9, 0), at(1, 8, 0)),
        (at(1, 9, 0), at(3, 9, 0)),
    ] {
        let answer = book(&app, &admin, &carla, &main, &starts, &ends)
            .await
            .expect_problem(422, "validation_failed");
        assert_names_field(&answer, "ends_at");
    }
    let answer = app
        .post(
            &admin,
            "/v1/appointments",
            json!({
                "user_id": carla, "clinic_id": main, "client_ref": "x",
                "starts_at": "tomorrow", "ends_at": at(1, 9, 0),
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "starts_at");
    let answer = app
        .post(
            &admin,
            "/v1/appointments",
            json!({
                "user_id": carla, "clinic_id": main, "client_ref": "   ",
                "starts_at": at(1, 9, 0), "ends_at": at(1, 10, 0),
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "client_ref");
    assert!(report(&app, &admin, "").await.is_empty());
}

#[tokio::test]
async fn an_unknown_user_is_a_validation_error_naming_user_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let answer = book(
        &app,
        &admin,
        &uuid::Uuid::new_v4().to_string(),
        &main,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");

    // Another site's clinical user is unknown here too.
    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;
    let bertha = app
        .create_user(
            &other_admin,
            json!({
                "first_name": "Bertha", "last_name": "Benz", "email": "bertha@elsewhere.test",
                "user_type": "clinical",
            }),
        )
        .await;
    let answer = book(
        &app,
        &admin,
        &id_of(&bertha),
        &main,
        &at(1, 9, 0),
        &at(1, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");
    let answer = app
        .post(
            &admin,
            "/v1/appointments",
            json!({
                "user_id": "not-a-uuid", "clinic_id": main, "client_ref": "x",
                "starts_at": at(1, 9, 0), "ends_at": at(1, 10, 0),
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");
}

// ---------------------------------------------------------------------------------------
// Diary
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_diary_lists_the_users_own_appointments_in_start_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let cleo = user(&app, &admin, "Cleo", "clinical").await;
    let late = booked(&app, &admin, &carla, &main, &at(3, 9, 0), &at(3, 10, 0)).await;
    let early = booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let middle = booked(&app, &admin, &carla, &main, &at(2, 9, 0), &at(2, 10, 0)).await;
    let cleos = booked(&app, &admin, &cleo, &main, &at(2, 9, 0), &at(2, 10, 0)).await;

    let listed = diary(&app, &admin, &carla).await.expect(200);
    assert!(listed.body["next_cursor"].is_null());
    let all = items(&listed);
    assert_eq!(
        in_start_order(&all),
        vec![early.clone(), middle.clone(), late.clone()]
    );
    assert!(all.iter().all(|a| a["user_id"] == carla.as_str()));
    assert_eq!(
        ids(&items(&diary(&app, &admin, &cleo).await.expect(200))),
        vec![cleos]
    );

    // Any user of the site may read it, page by page.
    let (_, plain) = {
        let created = app
            .create_user(
                &admin,
                json!({
                    "first_name": "Frank", "last_name": "Desk", "email": "frank@example.test",
                    "user_type": "non_clinical",
                }),
            )
            .await;
        (
            id_of(&created),
            app.login("frank@example.test", PASSWORD).await,
        )
    };
    let walked = walk(&app, &plain, &format!("/v1/users/{carla}/diary?"), 1).await;
    assert_eq!(
        ids(&walked),
        vec![early.clone(), middle.clone(), late.clone()]
    );

    // from / until select by time.
    let window = app
        .get(
            &admin,
            &format!(
                "/v1/users/{carla}/diary?from={}&until={}",
                enc(&at(1, 10, 0)),
                enc(&at(3, 9, 0))
            ),
        )
        .await
        .expect(200);
    assert_eq!(ids(&items(&window)), vec![middle]);

    // A user who never had a diary answers 409; an unknown one 404.
    let nina = user(&app, &admin, "Nina", "non_clinical").await;
    diary(&app, &admin, &nina)
        .await
        .expect_problem(409, "diary_disabled");
    diary(&app, &admin, &uuid::Uuid::new_v4().to_string())
        .await
        .expect_problem(404, "not_found");
    app.call(Method::GET, &format!("/v1/users/{carla}/diary"), None, None)
        .await
        .expect_problem(401, "invalid_token");
}

#[tokio::test]
async fn after_a_switch_to_non_clinical_and_a_login_the_diary_closes_but_the_report_keeps_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let first = booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let second = booked(&app, &admin, &carla, &main, &at(2, 9, 0), &at(2, 10, 0)).await;
    let both = vec![first.clone(), second.clone()];

    set_type(&app, &admin, &carla, "non_clinical")
        .await
        .expect(200);
    // Until she logs in, her diary is still there.
    assert_eq!(
        ids(&items(&diary(&app, &admin, &carla).await.expect(200))),
        both
    );

    app.login(&email_of("Carla"), PASSWORD).await;
    let refused = diary(&app, &admin, &carla)
        .await
        .expect_problem(409, "diary_disabled");
    assert!(refused.body["detail"].is_string());

    // The appointments stay in the report, for her and in general.
    assert_eq!(
        report(&app, &admin, &format!("user_id={carla}")).await,
        both
    );
    assert_eq!(report(&app, &admin, "").await, both);

    // Made clinical again, the diary (with the old appointments) returns at her next login.
    set_type(&app, &admin, &carla, "clinical").await.expect(200);
    diary(&app, &admin, &carla)
        .await
        .expect_problem(409, "diary_disabled");
    app.login(&email_of("Carla"), PASSWORD).await;
    assert_eq!(
        ids(&items(&diary(&app, &admin, &carla).await.expect(200))),
        both
    );
}

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

/// Two users at two clinics, seven appointments created out of order, two pairs sharing a
/// start time. Returns (carla, cleo, second clinic, appointment ids a1..a7).
async fn populate(app: &TestApp, admin: &str) -> (String, String, String, Vec<String>) {
    let main = app.site.clinic_id.clone();
    let second = add_clinic(app, admin, "Harbour").await;
    let carla = id_of(&user_at(app, admin, "Carla", "clinical", &[&main, &second]).await);
    let cleo = user(app, admin, "Cleo", "clinical").await;
    let a1 = booked(app, admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let a2 = booked(app, admin, &cleo, &main, &at(1, 9, 0), &at(1, 9, 30)).await;
    let a3 = booked(app, admin, &carla, &second, &at(1, 10, 0), &at(1, 11, 0)).await;
    let a4 = booked(app, admin, &cleo, &main, &at(2, 8, 0), &at(2, 9, 0)).await;
    let a5 = booked(app, admin, &carla, &second, &at(2, 8, 0), &at(2, 8, 45)).await;
    let a6 = booked(app, admin, &carla, &main, &at(3, 12, 0), &at(3, 13, 0)).await;
    let a7 = app
        .post(
            admin,
            "/v1/appointments",
            json!({
                "user_id": cleo, "clinic_id": main, "client_ref": "client-1",
                "starts_at": "2030-02-28T15:00:00Z", "ends_at": "2030-02-28T16:00:00Z",
            }),
        )
        .await
        .expect(201);
    let a7 = id_of(&a7.body);
    (carla, cleo, second, vec![a1, a2, a3, a4, a5, a6, a7])
}

#[tokio::test]
async fn the_report_lists_every_appointment_in_start_order_with_filters() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let (carla, cleo, second, a) = populate(&app, &admin).await;
    let pick =
        |which: &[usize]| -> Vec<String> { which.iter().map(|i| a[i - 1].clone()).collect() };

    let page = app
        .get(&admin, "/v1/reports/appointments?limit=200")
        .await
        .expect(200);
    let all = items(&page);
    let order = in_start_order(&all);
    assert_eq!(order.len(), 7);
    assert_eq!(order[0], a[6], "a7 starts first");
    assert_eq!(order[3], a[2], "a3 after the 1 March 09:00 pair");
    assert_eq!(order[6], a[5], "a6 starts last");
    let nine: HashSet<String> = order[1..3].iter().cloned().collect();
    let pair: HashSet<String> = pick(&[1, 2]).into_iter().collect();
    assert_eq!(
        nine, pair,
        "the two 1 March 09:00 appointments come second and third"
    );

    // Filters keep the start order.
    let by_carla = report(&app, &admin, &format!("user_id={carla}")).await;
    assert_eq!(by_carla.len(), 4);
    assert_eq!(by_carla[0], a[0]);
    assert_eq!(by_carla[3], a[5]);
    let ordered = |wanted: Vec<String>| -> Vec<String> {
        order
            .iter()
            .filter(|id| wanted.contains(id))
            .cloned()
            .collect()
    };
    assert_eq!(by_carla, ordered(pick(&[1, 3, 5, 6])));
    assert_eq!(
        report(&app, &admin, &format!("user_id={cleo}")).await,
        ordered(pick(&[7, 2, 4]))
    );
    assert_eq!(
        report(&app, &admin, &format!("clinic_id={second}")).await,
        pick(&[3, 5])
    );
    assert_eq!(
        report(&app, &admin, &format!("user_id={carla}&clinic_id={main}")).await,
        pick(&[1, 6])
    );
    // `from`: appointments ending after it (one ending exactly then is out).
    assert_eq!(
        report(&app, &admin, &format!("from={}", enc(&at(1, 10, 0)))).await,
        ordered(pick(&[3, 4, 5, 6]))
    );
    // `until`: appointments starting before it (one starting exactly then is out).
    assert_eq!(
        report(&app, &admin, &format!("until={}", enc(&at(2, 8, 0)))).await,
        ordered(pick(&[7, 1, 2, 3]))
    );
    assert_eq!(
        report(
            &app,
            &admin,
            &format!("from={}&until={}", enc(&at(1, 9, 45)), enc(&at(2, 8, 30)))
        )
        .await,
        ordered(pick(&[1, 3, 4, 5]))
    );
    assert_eq!(
        report(
            &app,
            &admin,
            &format!("clinic_id={second}&from={}", enc(&at(2, 0, 0)))
        )
        .await,
        pick(&[5])
    );
    let unknown = uuid::Uuid::new_v4();
    assert!(
        report(&app, &admin, &format!("user_id={unknown}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_report_pages_walk_every_appointment_once_in_start_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (carla, _, _, _) = populate(&app, &admin).await;
    let full = report(&app, &admin, "").await;
    for limit in [1, 2, 3, 7] {
        let walked = walk(&app, &admin, "/v1/reports/appointments?", limit).await;
        assert_eq!(in_start_order(&walked), full, "limit {limit}");
    }
    let carla_pages = walk(
        &app,
        &admin,
        &format!("/v1/reports/appointments?user_id={carla}"),
        3,
    )
    .await;
    assert_eq!(
        ids(&carla_pages),
        report(&app, &admin, &format!("user_id={carla}")).await
    );
    let first_page = app
        .get(&admin, "/v1/reports/appointments?limit=2")
        .await
        .expect(200);
    assert_eq!(items(&first_page).len(), 2);
    assert!(first_page.body["next_cursor"].is_string());

    for query in ["limit=0", "limit=201", "limit=-1"] {
        let answer = app
            .get(&admin, &format!("/v1/reports/appointments?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        assert_names_field(&answer, "limit");
    }
    app.get(&admin, "/v1/reports/appointments?cursor=not-a-cursor")
        .await
        .expect_problem(422, "validation_failed");
    let answer = app
        .get(&admin, "/v1/reports/appointments?from=yesterday")
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "from");
    let answer = app
        .get(&admin, "/v1/reports/appointments?user_id=nobody")
        .await
        .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");
}

#[tokio::test]
async fn deactivated_users_appointments_stay_in_the_report() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let cleo = user(&app, &admin, "Cleo", "clinical").await;
    let hers = booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let others = booked(&app, &admin, &cleo, &main, &at(1, 11, 0), &at(1, 12, 0)).await;
    set_status(&app, &admin, &carla, "deactivate")
        .await
        .expect(200);
    assert_eq!(report(&app, &admin, "").await, vec![hers.clone(), others]);
    assert_eq!(
        report(&app, &admin, &format!("user_id={carla}")).await,
        vec![hers]
    );
}

#[tokio::test]
async fn any_user_reads_the_report_and_only_their_own_sites() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let carla = user(&app, &admin, "Carla", "clinical").await;
    let id = booked(&app, &admin, &carla, &main, &at(1, 9, 0), &at(1, 10, 0)).await;
    let carla_token = app.login(&email_of("Carla"), PASSWORD).await;
    assert_eq!(report(&app, &carla_token, "").await, vec![id]);

    let other = app.other_site("Elsewhere", "boss@elsewhere.test");
    let other_admin = app.login(&other.admin_email, PASSWORD).await;
    assert!(report(&app, &other_admin, "").await.is_empty());
    assert!(
        report(&app, &other_admin, &format!("user_id={carla}"))
            .await
            .is_empty()
    );
    diary(&app, &other_admin, &carla)
        .await
        .expect_problem(404, "not_found");
    // Nor can another site book this site's users at this site's clinics.
    let answer = book(
        &app,
        &other_admin,
        &carla,
        &main,
        &at(2, 9, 0),
        &at(2, 10, 0),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_names_field(&answer, "user_id");
    app.call(Method::GET, "/v1/reports/appointments", None, None)
        .await
        .expect_problem(401, "invalid_token");
}

// ---------------------------------------------------------------------------------------
// Clinics with appointments
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_clinic_with_appointments_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let harbour = add_clinic(&app, &admin, "Harbour").await;
    let empty = add_clinic(&app, &admin, "Empty").await;
    let carla = id_of(
        &user_at(
            &app,
            &admin,
            "Carla",
            "clinical",
            &[&main, &harbour, &empty],
        )
        .await,
    );
    let id = booked(&app, &admin, &carla, &harbour, &at(1, 9, 0), &at(1, 10, 0)).await;

    let refused = app
        .delete(&admin, &format!("/v1/clinics/{harbour}"))
        .await
        .expect_problem(409, "clinic_has_appointments");
    assert!(refused.body["detail"].is_string());
    app.get(&admin, &format!("/v1/clinics/{harbour}"))
        .await
        .expect(200);

    // Still so once the user has gone.
    set_status(&app, &admin, &carla, "deactivate")
        .await
        .expect(200);
    app.delete(&admin, &format!("/v1/clinics/{harbour}"))
        .await
        .expect_problem(409, "clinic_has_appointments");
    assert_eq!(
        report(&app, &admin, &format!("clinic_id={harbour}")).await,
        vec![id]
    );

    // A clinic without appointments is deleted as before.
    app.delete(&admin, &format!("/v1/clinics/{empty}"))
        .await
        .expect(204);
    app.get(&admin, &format!("/v1/clinics/{empty}"))
        .await
        .expect_problem(404, "not_found");
}
