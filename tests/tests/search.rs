#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The user list's `q` through its index (the suffix table `user_search_suffixes` on both
//! backends): it follows every change of a user's names and email, pages and sorts like an
//! unfiltered list, and a query too short for the index still finds its rows.

use serde_json::{Value, json};
use staffroom_tests::{TestApp, enc, id_of};

fn new_user(first: &str, last: &str, email: &str) -> Value {
    json!({
        "first_name": first,
        "last_name": last,
        "email": email,
        "user_type": "non_clinical",
        "initial_password": "correct horse battery staple",
    })
}

/// The ids of every user matching `q`, walking pages of `limit` in `sort` order.
async fn search(app: &TestApp, token: &str, q: &str, sort: &str, limit: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let mut path = format!("/v1/users?q={}&sort={sort}&limit={limit}", enc(q));
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", enc(c)));
        }
        let page = app.get(token, &path).await.expect(200);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        found.extend(items.iter().map(id_of));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return found,
        }
    }
    panic!("the pages of q={q} do not end");
}

#[tokio::test]
async fn search_follows_renames_and_email_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, new_user("Ada", "Okonkwo", "ada@north.test"))
        .await;
    let id = id_of(&user);
    assert_eq!(
        search(&app, &admin, "okonkwo", "last_name", 10).await,
        vec![id.clone()]
    );

    app.patch(
        &admin,
        &format!("/v1/users/{id}"),
        json!({"last_name": "Lovelace", "email": "ada@south.test"}),
    )
    .await
    .expect(200);
    assert!(
        search(&app, &admin, "okonkwo", "last_name", 10)
            .await
            .is_empty()
    );
    assert!(
        search(&app, &admin, "north.test", "last_name", 10)
            .await
            .is_empty()
    );
    assert_eq!(
        search(&app, &admin, "lovelace", "last_name", 10).await,
        vec![id.clone()]
    );
    assert_eq!(
        search(&app, &admin, "@south.", "last_name", 10).await,
        vec![id.clone()]
    );
    // Fewer than three characters: not served by the index, the same rows.
    assert_eq!(search(&app, &admin, "lo", "last_name", 10).await, vec![id]);
}

#[tokio::test]
async fn a_search_pages_and_sorts_like_an_unfiltered_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut expected = Vec::new();
    for (n, last) in ["Kerr", "Abbott", "Moss", "Barr", "Zhou", "Ito", "Quinn"]
        .iter()
        .enumerate()
    {
        let email = format!("member{n}@guild.test");
        let user = app.create_user(&admin, new_user("Pat", last, &email)).await;
        expected.push((last.to_lowercase(), email, id_of(&user)));
    }
    app.create_user(&admin, new_user("Pat", "Outsider", "pat@elsewhere.test"))
        .await;

    expected.sort();
    let by_last: Vec<String> = expected.iter().map(|(_, _, id)| id.clone()).collect();
    assert_eq!(
        search(&app, &admin, "@guild", "last_name", 2).await,
        by_last
    );
    let mut descending = by_last.clone();
    descending.reverse();
    assert_eq!(
        search(&app, &admin, "@guild", "-last_name", 3).await,
        descending
    );
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    let by_email: Vec<String> = expected.iter().map(|(_, _, id)| id.clone()).collect();
    assert_eq!(
        search(&app, &admin, "GUILD.TEST", "email", 4).await,
        by_email
    );
}
