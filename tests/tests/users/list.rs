//! The list

use super::*;

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
