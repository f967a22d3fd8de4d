//! SCIM User filters run against a real database: which users each one matches (on the
//! backend the environment selects), and that `userName eq` and a `co` of three characters
//! or more are served by indexes; an unfiltered list's total is the count the site keeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::SecondsFormat;
use diesel::prelude::*;
use staffroom_domain::{SiteId, UserId, UserStatus};
use staffroom_persistence::DbConnection;
use staffroom_persistence::schema::users as users_table;
use staffroom_persistence::scim_filter::{self, Cond, Dialect};
use staffroom_persistence::scim_reads::{self, ScimUserSort};
use staffroom_persistence::usecase;
use staffroom_persistence::users::{self, MarkScimDeleted};
use staffroom_scim::filter::parse_filter;
use support::{Db, NewUserExt, create_site, create_user, flex, new_user, user_ctx};

struct Site {
    site: SiteId,
    admin: UserId,
    baker: UserId,
    clerk: UserId,
    doe: UserId,
    /// Baker's `meta.created`, as SCIM writes it.
    baker_created: String,
}

fn set_external_id(conn: &mut DbConnection, user: UserId, external_id: &str) {
    diesel::update(users_table::table.filter(users_table::id.eq(user)))
        .set(users_table::external_id.eq(external_id))
        .execute(conn)
        .unwrap();
}

/// Ada Admin (the site's admin), Dr Bob Baker, Cy Clerk (non-clinical, `frontdesk@…`),
/// Di Doe (inactive); and a second site whose Bea Baker no filter of the first may match.
fn seeded(conn: &mut DbConnection) -> Site {
    let created = create_site(conn, "scim", flex(20));
    let site = created.site_id;
    let baker = create_user(
        conn,
        site,
        new_user("Bob", "Baker", "Bob.Baker@example.com").title("Dr"),
    );
    let clerk = create_user(
        conn,
        site,
        new_user("Cy", "Clerk", "frontdesk@example.org").non_clinical(),
    );
    let doe = create_user(conn, site, new_user("Di", "Doe", "di_doe@example.com"));
    users::set_status(conn, &user_ctx(site), doe.id, None, UserStatus::Inactive).unwrap();
    set_external_id(conn, baker.id, "00uABC*okta");
    set_external_id(conn, clerk.id, "00uabc-okta");

    let other = create_site(conn, "other", flex(20));
    let bea = create_user(
        conn,
        other.site_id,
        new_user("Bea", "Baker", "bea.baker@example.com").title("Dr"),
    );
    set_external_id(conn, bea.id, "00uABC*okta");

    Site {
        site,
        admin: created.admin_user_id,
        baker: baker.id,
        clerk: clerk.id,
        doe: doe.id,
        baker_created: baker
            .created_at
            .and_utc()
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

fn matching(conn: &mut DbConnection, site: SiteId, filter: &str) -> Vec<UserId> {
    let parsed = parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    let cond = scim_filter::translate(&parsed, Dialect::of(conn))
        .unwrap_or_else(|e| panic!("{filter}: {e}"));
    scim_filter::matching_ids(conn, site, &cond).unwrap()
}

#[test]
fn filters_match_the_users_they_describe() {
    let db = Db::new();
    let mut conn = db.conn();
    let s = seeded(&mut conn);
    let (admin, baker, clerk, doe) = (s.admin, s.baker, s.clerk, s.doe);
    let created = format!(r#"meta.created ge "{}""#, s.baker_created);
    let cases: Vec<(&str, Vec<UserId>)> = vec![
        (r#"userName eq "bob.baker@EXAMPLE.com""#, vec![baker]),
        (
            r#"userName ne "bob.baker@example.com""#,
            vec![admin, clerk, doe],
        ),
        (r#"userName co "example.com""#, vec![admin, baker, doe]),
        (r#"userName co "BAKER""#, vec![baker]),
        (r#"userName co "do""#, vec![doe]),
        (r#"userName sw "front""#, vec![clerk]),
        (r#"userName ew ".org""#, vec![clerk]),
        (r#"userName co "_doe""#, vec![doe]),
        (r#"userName co "i_d""#, vec![doe]),
        (r#"userName co "%""#, vec![]),
        (r#"emails.value eq "di_doe@example.com""#, vec![doe]),
        (
            r#"emails[type eq "work" and value co "front"]"#,
            vec![clerk],
        ),
        (r#"emails[type eq "work"].value sw "ada""#, vec![]),
        (r#"emails[type eq "work"].value sw "admin""#, vec![admin]),
        (r#"name.givenName eq "CY""#, vec![clerk]),
        (r#"name.familyName sw "b""#, vec![baker]),
        (r#"name.familyName gt "clerk""#, vec![doe]),
        (r#"name.familyName le "baker""#, vec![admin, baker]),
        (r#"title eq "dr""#, vec![baker]),
        (r#"title pr"#, vec![baker]),
        (r#"not (title pr)"#, vec![admin, clerk, doe]),
        (r#"title ne "Dr""#, vec![admin, clerk, doe]),
        (r#"externalId eq "00uABC*okta""#, vec![baker]),
        (r#"externalId eq "00uabc*okta""#, vec![]),
        (r#"externalId sw "00uABC*""#, vec![baker]),
        (r#"externalId co "abc""#, vec![clerk]),
        (r#"externalId ew "-okta""#, vec![clerk]),
        (r#"externalId pr"#, vec![baker, clerk]),
        (r#"userType eq "Non-Clinical""#, vec![clerk]),
        (r#"userType ne "non-clinical""#, vec![admin, baker, doe]),
        (r#"active eq false"#, vec![doe]),
        (
            r#"active eq true and userType eq "Clinical""#,
            vec![admin, baker],
        ),
        (
            r#"(name.familyName eq "doe" or name.familyName eq "clerk") and active eq true"#,
            vec![clerk],
        ),
        (r#"userName co "bak" or title pr"#, vec![baker]),
        (r#"not (userName co "example.com")"#, vec![clerk]),
        (&created, vec![baker, clerk, doe]),
        (
            r#"meta.lastModified gt "2000-01-01T00:00:00Z""#,
            vec![admin, baker, clerk, doe],
        ),
        (r#"meta.created lt "2000-01-01T00:00:00Z""#, vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(matching(&mut conn, s.site, filter), expected, "{filter}");
    }
    let id = format!(r#"id eq "{}""#, s.clerk);
    assert_eq!(matching(&mut conn, s.site, &id), vec![clerk]);
}

/// The plan of the statement finding the site's users matching `filter`, one line per step.
fn plan(conn: &mut DbConnection, site: SiteId, filter: &str) -> String {
    let dialect = Dialect::of(conn);
    let cond = scim_filter::translate(&parse_filter(filter).unwrap(), dialect).unwrap();
    let select = format!(
        "SELECT users.id FROM users WHERE {}",
        scim_filter::where_clause(dialect, site, &cond)
    );
    support::plan(conn, &select, &[], &["users"])
}

/// Whether the plan reads the whole `users` table.
fn scans_users(plan: &str) -> bool {
    plan.lines()
        .any(|l| l.trim() == "SCAN users" || l.contains("Seq Scan on users"))
}

#[test]
fn user_name_eq_and_co_are_served_by_indexes() {
    let db = Db::new();
    let mut conn = db.conn();
    let s = seeded(&mut conn);
    let pg = matches!(Dialect::of(&conn), Dialect::Postgres);

    // The userName is `coalesce(user_name_normalized, email_normalized)`: its unique
    // expression index.
    let eq = plan(&mut conn, s.site, r#"userName eq "bob.baker@example.com""#);
    assert!(eq.contains("users_site_user_name"), "{eq}");
    assert!(!scans_users(&eq), "{eq}");
    // `users_site_email` (site, email) or `users_email` (email), whichever the planner deems
    // cheaper: a B-tree on the normalised email either way.
    let email = plan(&mut conn, s.site, r#"emails eq "bob.baker@example.com""#);
    assert!(
        email.contains("users_site_email") || email.contains("users_email "),
        "{email}"
    );
    assert!(!scans_users(&email), "{email}");

    let co = plan(&mut conn, s.site, r#"userName co "baker""#);
    if pg {
        assert!(co.contains("users_search_trgm"), "{co}");
    } else {
        assert!(co.contains("users_search"), "{co}");
    }
    assert!(!scans_users(&co), "{co}");

    let external = plan(&mut conn, s.site, r#"externalId eq "00uABC*okta""#);
    assert!(external.contains("users_site_external_id"), "{external}");
}

/// Gives `user` the SCIM login name `name` through the profile use-case (which keeps
/// `search_text`, and so the trigram and suffix indexes, in step).
fn set_user_name(conn: &mut DbConnection, site: &Site, user: UserId, name: &str) {
    let mut update = users::UpdateProfile::profile(user, None, users::UserPatch::default());
    update.user_name = Some(Some(staffroom_domain::UserName::parse(name).unwrap()));
    let ctx = user_ctx(site.site);
    staffroom_persistence::usecase::run(conn, &ctx, update, |u| u, None).unwrap();
}

#[test]
fn a_login_name_is_the_user_name_and_is_found_through_indexes() {
    let db = Db::new();
    let mut conn = db.conn();
    let s = seeded(&mut conn);
    set_user_name(&mut conn, &s, s.clerk, "Cy.Clerk-7");
    let cases: Vec<(&str, Vec<UserId>)> = vec![
        (r#"userName eq "cy.clerk-7""#, vec![s.clerk]),
        (r#"userName eq "frontdesk@example.org""#, vec![]),
        (r#"emails eq "frontdesk@example.org""#, vec![s.clerk]),
        (r#"userName co "LERK-""#, vec![s.clerk]),
        (r#"userName sw "cy.c""#, vec![s.clerk]),
        (r#"userName ew ".org""#, vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(matching(&mut conn, s.site, filter), expected, "{filter}");
    }
    let pg = matches!(Dialect::of(&conn), Dialect::Postgres);
    let eq = plan(&mut conn, s.site, r#"userName eq "cy.clerk-7""#);
    assert!(eq.contains("users_site_user_name"), "{eq}");
    assert!(!scans_users(&eq), "{eq}");
    let co = plan(&mut conn, s.site, r#"userName co "clerk-""#);
    assert!(
        co.contains(if pg {
            "users_search_trgm"
        } else {
            "users_search"
        }),
        "{co}"
    );
    assert!(!scans_users(&co), "{co}");
}

fn page_total(conn: &mut DbConnection, site: SiteId, filter: Option<&str>) -> (i64, usize) {
    let cond = match filter {
        Some(f) => scim_filter::translate(&parse_filter(f).unwrap(), Dialect::of(conn)).unwrap(),
        None => Cond::Const(true),
    };
    let page =
        scim_reads::users_page(conn, site, &cond, ScimUserSort::Created, false, 1, 2).unwrap();
    (page.total, page.users.len())
}

#[test]
fn an_unfiltered_list_counts_with_the_site_and_pages_by_index() {
    let db = Db::new();
    let mut conn = db.conn();
    let s = seeded(&mut conn);
    // Doe is inactive, still a SCIM user; the other site's users are not counted.
    assert_eq!(page_total(&mut conn, s.site, None), (4, 2));
    assert_eq!(page_total(&mut conn, s.site, Some("userName pr")), (4, 2));

    usecase::run(
        &mut conn,
        &user_ctx(s.site),
        MarkScimDeleted { id: s.clerk },
        |()| (),
        None,
    )
    .unwrap();
    assert_eq!(page_total(&mut conn, s.site, None), (3, 2));
    assert_eq!(page_total(&mut conn, s.site, Some("userName pr")), (3, 2));
    // Deleting the rows (nothing does but tests) keeps the count too.
    diesel::delete(users_table::table.filter(users_table::id.eq(s.doe)))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(page_total(&mut conn, s.site, None), (2, 2));

    let page = support::plan(
        &mut conn,
        &format!(
            "SELECT users.id FROM users WHERE users.site_id = '{}' AND users.scim_deleted_at \
             IS NULL ORDER BY users.created_at, users.id LIMIT 50",
            s.site
        ),
        &[],
        &["users"],
    );
    assert!(page.contains("users_site_created"), "{page}");
    assert!(!scans_users(&page), "{page}");
    assert!(
        !page.contains("TEMP B-TREE") && !page.contains("Sort"),
        "{page}"
    );
}
