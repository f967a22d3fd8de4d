//! The user list's `q` through the suffix table: the same users as a substring test over
//! the stored text, kept in step when a name changes, and served by a range scan of the
//! table's primary key (the plan), not a scan of the site's users.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use staffroom_domain::{PersonName, SiteId, UserId};
use staffroom_persistence::DbConnection;
use staffroom_persistence::search::{SUFFIX_MATCH_POSTGRES, SUFFIX_MATCH_SQLITE, suffix_range};
use staffroom_persistence::users::{self, User, UserPatch, UserQuery, UserSort};
use support::{Db, create_site, create_user, flex, new_user, user_ctx};

/// The site's users matching `q` (all of them without one), in creation order.
fn listed(conn: &mut DbConnection, site: SiteId, q: Option<&str>) -> Vec<User> {
    let query = UserQuery {
        q: q.map(str::to_owned),
        sort: UserSort::CreatedAt,
        limit: 200,
        ..UserQuery::default()
    };
    users::list(conn, site, &query).unwrap().items
}

fn matching(conn: &mut DbConnection, site: SiteId, q: &str) -> Vec<UserId> {
    listed(conn, site, Some(q))
        .into_iter()
        .map(|u| u.id)
        .collect()
}

/// Every user of the site whose title, names or email contain `q`, ignoring case.
fn expected(conn: &mut DbConnection, site: SiteId, q: &str) -> Vec<UserId> {
    let q = q.to_lowercase();
    listed(conn, site, None)
        .into_iter()
        .filter(|u| {
            [
                u.title.as_deref().unwrap_or(""),
                &u.first_name,
                &u.last_name,
                &u.email,
            ]
            .join(" ")
            .to_lowercase()
            .contains(&q)
        })
        .map(|u| u.id)
        .collect()
}

#[test]
fn finds_the_users_containing_q_and_follows_renames() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "search", flex(20)).site_id;
    let other = create_site(&mut conn, "other", flex(20)).site_id;
    let people = [
        (other, "Ada", "Okafor", "ada@okafor.test"),
        (site, "Ada", "Okafor", "ada.okafor@example.com"),
        (site, "Zoë", "Ängström", "zoe@example.com"),
        (site, "Bo", "Okafor-Lind", "bo@clinic.example.org"),
        (site, "Cy", "Clerk", "okafor@x.test"),
    ];
    let ids: Vec<UserId> = people
        .iter()
        .map(|(s, first, last, email)| create_user(&mut conn, *s, new_user(first, last, email)).id)
        .collect();
    let zoe = ids[2];

    let queries = [
        "okafor",
        "OKAFOR",
        "afor",
        "ada okafor",
        "ada.okafor@example.com",
        "okafor@example.co",
        "@clinic.example.org",
        "ängs",
        "zoë ängström",
        "ström zoe",
        "nobody",
        "r-l",
        "ok",
        "a",
    ];
    for q in queries {
        assert_eq!(
            matching(&mut conn, site, q),
            expected(&mut conn, site, q),
            "{q}"
        );
    }
    assert!(!matching(&mut conn, site, "okafor").is_empty());
    assert_eq!(matching(&mut conn, site, "@clinic.example.org").len(), 1);

    let ctx = user_ctx(site);
    let patch = UserPatch {
        last_name: Some(PersonName::parse("Nakamura").unwrap()),
        ..UserPatch::default()
    };
    users::update(&mut conn, &ctx, zoe, None, patch).unwrap();
    assert!(matching(&mut conn, site, "ängström").is_empty());
    assert_eq!(matching(&mut conn, site, "nakamura"), vec![zoe]);
    assert_eq!(matching(&mut conn, site, "zoë nakamura zoe@"), vec![zoe]);
}

/// The search condition with the backend's placeholders (site, site, low, high).
fn search_condition(conn: &DbConnection) -> String {
    match conn {
        DbConnection::Sqlite(_) => SUFFIX_MATCH_SQLITE.join("?"),
        DbConnection::Pg(_) => {
            let mut sql = String::new();
            for (i, piece) in SUFFIX_MATCH_POSTGRES.iter().enumerate() {
                sql.push_str(piece);
                if i < 4 {
                    sql.push_str(&format!("${}", i + 1));
                }
            }
            sql
        }
    }
}

/// The plan of the list's search condition for `q`, one line per step.
fn search_plan(conn: &mut DbConnection, site: SiteId, q: &str) -> String {
    let ((low, high), _) = suffix_range(q).unwrap();
    let condition = search_condition(conn);
    let site = site.to_string();
    support::plan(
        conn,
        &format!("SELECT users.id FROM users WHERE {condition}"),
        &[&site, &site, &low, &high],
        &["users", "user_search_suffixes"],
    )
}

#[test]
fn the_search_is_a_range_scan_of_the_suffix_index() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "plan", flex(50)).site_id;
    for n in 0..20 {
        let email = format!("u{n}@bench.test");
        create_user(&mut conn, site, new_user("Ann", "Okafor", &email));
    }
    let plan = search_plan(&mut conn, site, "u19@");
    let pg = matches!(*conn, DbConnection::Pg(_));
    if pg {
        assert!(plan.contains("user_search_suffixes_pkey"), "{plan}");
        assert!(!plan.contains("Seq Scan"), "{plan}");
    } else {
        assert!(
            plan.contains("SEARCH user_search_suffixes USING PRIMARY KEY (site_id=? AND suffix>? AND suffix<?)"),
            "{plan}"
        );
        assert!(!plan.lines().any(|l| l.trim() == "SCAN users"), "{plan}");
    }
}

/// The plan of a search's page keys: `(id, sort value)` of the matches in the list's order.
fn page_keys_plan(conn: &mut DbConnection, site: SiteId, q: &str) -> String {
    let ((low, high), _) = suffix_range(q).unwrap();
    let site = site.to_string();
    let condition = search_condition(conn);
    support::plan(
        conn,
        &format!(
            "SELECT users.id, users.sort_last_name FROM users WHERE {condition} \
             ORDER BY users.sort_last_name, users.id LIMIT 51"
        ),
        &[&site, &site, &low, &high],
        &["users", "user_search_suffixes"],
    )
}

#[test]
fn a_search_page_is_found_from_the_matches_not_the_sort_index() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "keys", flex(100)).site_id;
    for n in 0..60 {
        let last = if n % 19 == 0 { "Okafor" } else { "Smith" };
        create_user(
            &mut conn,
            site,
            new_user("Ann", last, &format!("u{n}@bench.test")),
        );
    }
    let plan = page_keys_plan(&mut conn, site, "okafor");
    if matches!(*conn, DbConnection::Pg(_)) {
        assert!(plan.contains("user_search_suffixes_pkey"), "{plan}");
    } else {
        assert!(
            plan.contains("SEARCH user_search_suffixes USING PRIMARY KEY"),
            "{plan}"
        );
        assert!(!plan.contains("users_site_last_name"), "{plan}");
        // a match's site and sort value come from the covering index, not its row
        assert!(
            plan.contains("SEARCH users USING COVERING INDEX users_sort_keys (id=?)"),
            "{plan}"
        );
    }
}
