//! The user list: every filter, every sort in both directions, and keyset pagination that
//! never skips or repeats a user, even when many share a sort key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;

use staffroom_domain::{ClinicId, Profession, SiteId, UserId, UserStatus, UserType};
use staffroom_persistence::users::{self, User, UserQuery, UserSort};
use staffroom_persistence::{DbConnection, StoreError, clinics};
use support::{Db, NewUserExt, create_site, create_user, entity, flex, new_user, user_ctx};

const SORTS: [UserSort; 4] = [
    UserSort::LastName,
    UserSort::FirstName,
    UserSort::Email,
    UserSort::CreatedAt,
];

fn query() -> UserQuery {
    UserQuery {
        limit: 200,
        ..UserQuery::default()
    }
}

fn ids(conn: &mut DbConnection, site: SiteId, q: &UserQuery) -> Vec<UserId> {
    let page = users::list(conn, site, q).unwrap();
    assert_eq!(page.next_cursor, None, "the test lists fit one page");
    page.items.into_iter().map(|u| u.id).collect()
}

/// Follows `next_cursor` to the end, checking the shape of every page.
fn all_pages(conn: &mut DbConnection, site: SiteId, q: &UserQuery) -> Vec<User> {
    let mut q = q.clone();
    let mut all = Vec::new();
    for _ in 0..1000 {
        let page = users::list(conn, site, &q).unwrap();
        let len = i64::try_from(page.items.len()).unwrap();
        assert!(len <= q.limit);
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => {
                assert_eq!(len, q.limit, "only the last page may be short");
                q.cursor = Some(cursor);
            }
            None => return all,
        }
    }
    panic!("pagination did not end");
}

struct Listed {
    site: SiteId,
    c2: ClinicId,
    admin: UserId,
    baker: UserId,
    clerk: UserId,
    doe: UserId,
    evans: UserId,
}

/// Admin (clinical PT, main clinic), Baker (clinical OT, both clinics), Clerk (non-clinical
/// CLERICAL, second clinic), Doe (clinical PT, inactive), Evans (non-clinical BILLING).
fn listed_site(conn: &mut DbConnection) -> Listed {
    let site = create_site(conn, "list", flex(20));
    let ctx = user_ctx(site.site_id);
    let c1 = site.clinic_id;
    let c2 = clinics::create(conn, &ctx, &entity("Second"), false)
        .unwrap()
        .id;
    let baker = create_user(
        conn,
        site.site_id,
        new_user("Bob", "Baker", "bob.baker@example.com")
            .profession(Profession::Ot)
            .clinics(&[c1, c2], Some(c1)),
    );
    let clerk = create_user(
        conn,
        site.site_id,
        new_user("Cy", "Clerk", "frontdesk@example.org")
            .non_clinical()
            .clinics(&[c2], None),
    );
    let doe = create_user(conn, site.site_id, new_user("Di", "Doe", "di@example.com"));
    users::set_status(conn, &ctx, doe.id, None, UserStatus::Inactive).unwrap();
    let evans = create_user(
        conn,
        site.site_id,
        new_user("Ed", "Evans", "ed@example.com")
            .non_clinical()
            .profession(Profession::Billing)
            .title("Mr"),
    );
    Listed {
        site: site.site_id,
        c2,
        admin: site.admin_user_id,
        baker: baker.id,
        clerk: clerk.id,
        doe: doe.id,
        evans: evans.id,
    }
}

#[test]
fn filters_by_type_status_profession_clinic_and_text() {
    let db = Db::new();
    let mut conn = db.conn();
    let l = listed_site(&mut conn);
    let c = &mut conn;

    assert_eq!(
        ids(c, l.site, &query()),
        vec![l.admin, l.baker, l.clerk, l.doe, l.evans],
        "everyone, by last name"
    );
    let by = |f: fn(&mut UserQuery)| {
        let mut q = query();
        f(&mut q);
        q
    };
    assert_eq!(
        ids(c, l.site, &by(|q| q.user_type = Some(UserType::Clinical))),
        vec![l.admin, l.baker, l.doe]
    );
    assert_eq!(
        ids(
            c,
            l.site,
            &by(|q| q.user_type = Some(UserType::NonClinical))
        ),
        vec![l.clerk, l.evans]
    );
    assert_eq!(
        ids(c, l.site, &by(|q| q.status = Some(UserStatus::Active))),
        vec![l.admin, l.baker, l.clerk, l.evans]
    );
    assert_eq!(
        ids(c, l.site, &by(|q| q.status = Some(UserStatus::Inactive))),
        vec![l.doe]
    );
    assert_eq!(
        ids(c, l.site, &by(|q| q.profession = Some(Profession::Pt))),
        vec![l.admin, l.doe]
    );
    assert_eq!(
        ids(c, l.site, &by(|q| q.profession = Some(Profession::Billing))),
        vec![l.evans]
    );
    assert!(ids(c, l.site, &by(|q| q.profession = Some(Profession::Slp))).is_empty());

    let mut in_c2 = query();
    in_c2.clinic_id = Some(l.c2);
    assert_eq!(ids(c, l.site, &in_c2), vec![l.baker, l.clerk]);
    let mut unknown_clinic = query();
    unknown_clinic.clinic_id = Some(ClinicId::new());
    assert!(ids(c, l.site, &unknown_clinic).is_empty());

    let text = |c: &mut DbConnection, t: &str| {
        let mut q = query();
        q.q = Some(t.to_owned());
        ids(c, l.site, &q)
    };
    assert_eq!(text(c, "bak"), vec![l.baker], "part of a last name");
    assert_eq!(text(c, "EVANS"), vec![l.evans], "case-insensitive");
    assert_eq!(text(c, "Cy"), vec![l.clerk], "first name");
    assert_eq!(text(c, "frontdesk@"), vec![l.clerk], "email");
    assert_eq!(text(c, "example.org"), vec![l.clerk], "email domain");
    assert_eq!(text(c, "mr ed"), vec![l.evans], "title and first name");
    assert_eq!(text(c, "  doe  "), vec![l.doe], "trimmed");
    assert_eq!(
        text(c, "   "),
        vec![l.admin, l.baker, l.clerk, l.doe, l.evans],
        "blank text is no filter"
    );
    assert!(text(c, "nobody").is_empty());

    let mut combined = query();
    combined.user_type = Some(UserType::Clinical);
    combined.status = Some(UserStatus::Active);
    combined.clinic_id = Some(l.c2);
    assert_eq!(ids(c, l.site, &combined), vec![l.baker]);
    combined.q = Some("example.com".to_owned());
    assert_eq!(ids(c, l.site, &combined), vec![l.baker]);
    combined.profession = Some(Profession::Pt);
    assert!(ids(c, l.site, &combined).is_empty());

    // Another site's users never appear.
    let other = create_site(c, "list-other", flex(5));
    create_user(
        c,
        other.site_id,
        new_user("Bob", "Baker", "bob.baker@example.com"),
    );
    assert_eq!(text(c, "baker"), vec![l.baker]);
}

#[test]
fn text_search_treats_percent_and_underscore_literally() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "literal", flex(20));
    let s = site.site_id;
    let pct = create_user(&mut conn, s, new_user("Pct%", "Alpha", "alpha@example.com"));
    let pctx = create_user(&mut conn, s, new_user("Pctx", "Beta", "beta@example.com"));
    let under = create_user(&mut conn, s, new_user("Under", "Gamma", "a_b@example.com"));
    let plain = create_user(&mut conn, s, new_user("Under", "Delta", "axb@example.com"));
    let slash = create_user(
        &mut conn,
        s,
        new_user("Back\\slash", "Epsilon", "eps@example.com"),
    );

    let text = |conn: &mut DbConnection, t: &str| {
        let mut q = query();
        q.q = Some(t.to_owned());
        q.sort = UserSort::CreatedAt;
        ids(conn, s, &q)
    };
    assert_eq!(text(&mut conn, "%"), vec![pct.id]);
    assert_eq!(text(&mut conn, "pct%"), vec![pct.id]);
    assert_eq!(text(&mut conn, "pct"), vec![pct.id, pctx.id]);
    assert_eq!(text(&mut conn, "_"), vec![under.id]);
    assert_eq!(text(&mut conn, "a_b"), vec![under.id]);
    assert_eq!(text(&mut conn, "axb"), vec![plain.id]);
    assert_eq!(text(&mut conn, "%_"), Vec::<UserId>::new());
    assert_eq!(text(&mut conn, "\\"), vec![slash.id]);
    assert_eq!(text(&mut conn, "k\\s"), vec![slash.id]);
}

/// The sort value of a user for `sort`, as the list compares them.
fn sort_key(user: &User, sort: UserSort) -> String {
    match sort {
        UserSort::LastName => user.last_name.clone(),
        UserSort::FirstName => user.first_name.clone(),
        UserSort::Email => user.email.to_lowercase(),
        UserSort::CreatedAt => user.id.to_string(),
    }
}

fn expected_order(users: &[User], sort: UserSort, descending: bool) -> Vec<UserId> {
    let mut keyed: Vec<(String, String, UserId)> = users
        .iter()
        .map(|u| (sort_key(u, sort), u.id.to_string(), u.id))
        .collect();
    keyed.sort();
    if descending {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, _, id)| id).collect()
}

/// Names with one capital then lower-case letters, and emails that differ at the same
/// position, so byte order and any common collation agree.
fn sortable_site(conn: &mut DbConnection) -> (SiteId, Vec<User>) {
    let site = create_site(conn, "sorting", flex(50));
    let people = [
        ("Zed", "Moss", "pam@example.com"),
        ("Amy", "Moss", "kay@example.com"),
        ("Kim", "Bell", "BOB@example.com"),
        ("Amy", "Cole", "ann@example.com"),
        ("Lia", "Moss", "Zoe@example.com"),
        ("Bea", "Adams", "tom@example.com"),
        ("Amy", "Moss", "eve@example.com"),
        ("Raj", "Young", "ian@example.com"),
    ];
    for (first, last, address) in people {
        create_user(conn, site.site_id, new_user(first, last, address));
    }
    let mut q = query();
    q.sort = UserSort::CreatedAt;
    let all = users::list(conn, site.site_id, &q).unwrap().items;
    (site.site_id, all)
}

#[test]
fn sorts_by_each_key_in_both_directions() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, all) = sortable_site(&mut conn);
    assert_eq!(all.len(), 9);
    let creation: Vec<UserId> = all.iter().map(|u| u.id).collect();
    let mut by_id = creation.clone();
    by_id.sort();
    assert_eq!(creation, by_id, "ids are created in time order");

    for sort in SORTS {
        for descending in [false, true] {
            let mut q = query();
            q.sort = sort;
            q.descending = descending;
            assert_eq!(
                ids(&mut conn, site, &q),
                expected_order(&all, sort, descending),
                "{sort:?} descending={descending}"
            );
        }
    }
    // Spot checks that do not rely on the helper.
    let mut q = query();
    q.sort = UserSort::Email;
    let first = users::list(&mut conn, site, &q).unwrap().items;
    assert_eq!(first[0].email, "admin-sorting@example.com");
    assert_eq!(first[1].email, "ann@example.com");
    assert_eq!(
        first[2].email, "BOB@example.com",
        "email sorts ignoring case"
    );
    assert_eq!(first.last().unwrap().email, "Zoe@example.com");
    q.sort = UserSort::LastName;
    q.descending = true;
    let names: Vec<String> = users::list(&mut conn, site, &q)
        .unwrap()
        .items
        .into_iter()
        .map(|u| u.last_name)
        .collect();
    assert_eq!(
        names,
        vec![
            "Young", "Moss", "Moss", "Moss", "Moss", "Cole", "Bell", "Admin", "Adams"
        ]
    );
}

#[test]
fn pagination_with_equal_sort_keys_never_skips_or_repeats() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "paging", flex(50));
    // Thirteen users share first and last name; a few sort before and after them.
    for i in 0..13 {
        let user = new_user("Same", "Same", &format!("same{i:02}@example.com"));
        let user = if i % 3 == 0 {
            user.non_clinical()
        } else {
            user
        };
        create_user(&mut conn, site.site_id, user);
    }
    for (first, last, address) in [
        ("Abe", "Aaron", "aaa@example.com"),
        ("Zak", "Zulu", "zzz@example.com"),
        ("Sam", "Sams", "sss@example.com"),
    ] {
        create_user(&mut conn, site.site_id, new_user(first, last, address));
    }

    for user_type in [None, Some(UserType::Clinical), Some(UserType::NonClinical)] {
        for sort in SORTS {
            for descending in [false, true] {
                let mut q = query();
                q.sort = sort;
                q.descending = descending;
                q.user_type = user_type;
                let whole = users::list(&mut conn, site.site_id, &q).unwrap();
                assert_eq!(whole.next_cursor, None);
                let whole: Vec<UserId> = whole.items.into_iter().map(|u| u.id).collect();
                for limit in [1, 2, 3, 5, 8] {
                    q.limit = limit;
                    let paged: Vec<UserId> = all_pages(&mut conn, site.site_id, &q)
                        .into_iter()
                        .map(|u| u.id)
                        .collect();
                    let what =
                        format!("{user_type:?} {sort:?} descending={descending} limit={limit}");
                    let unique: HashSet<&UserId> = paged.iter().collect();
                    assert_eq!(unique.len(), paged.len(), "repeats: {what}");
                    assert_eq!(paged, whole, "{what}");
                }
            }
        }
    }
}

#[test]
fn an_exactly_full_last_page_has_no_cursor() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "exact", flex(10));
    for i in 0..3 {
        create_user(
            &mut conn,
            site.site_id,
            new_user("Pat", "Page", &format!("p{i}@example.com")),
        );
    }
    let mut q = query();
    q.limit = 2;
    let first = users::list(&mut conn, site.site_id, &q).unwrap();
    assert_eq!(first.items.len(), 2);
    q.cursor = first.next_cursor;
    assert!(q.cursor.is_some());
    let second = users::list(&mut conn, site.site_id, &q).unwrap();
    assert_eq!(second.items.len(), 2);
    assert_eq!(second.next_cursor, None);
}

#[test]
fn a_foreign_cursor_is_a_validation_error() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "cursor", flex(10));
    for cursor in ["not a cursor!", "e30", "W10"] {
        let mut q = query();
        q.cursor = Some(cursor.to_owned());
        match users::list(&mut conn, site.site_id, &q) {
            Err(StoreError::Invalid(errors)) => {
                assert_eq!(errors[0].field, "cursor");
                assert_eq!(errors[0].code, "invalid_cursor");
            }
            other => panic!("{cursor}: expected Invalid, got {other:?}"),
        }
    }
}

#[test]
fn only_an_unfiltered_list_is_bounded_whatever_the_site_size() {
    let clinic = ClinicId::new();
    let bounded = |q: UserQuery| q.is_bounded();
    assert!(bounded(query()));
    assert!(bounded(UserQuery {
        sort: UserSort::Email,
        descending: true,
        cursor: Some("c".into()),
        q: Some("  ".into()),
        ..query()
    }));
    assert!(!bounded(UserQuery {
        sort: UserSort::CreatedAt,
        ..query()
    }));
    assert!(!bounded(UserQuery {
        q: Some("okafor".into()),
        ..query()
    }));
    assert!(!bounded(UserQuery {
        user_type: Some(UserType::Clinical),
        ..query()
    }));
    assert!(!bounded(UserQuery {
        status: Some(UserStatus::Inactive),
        ..query()
    }));
    assert!(!bounded(UserQuery {
        profession: Some(Profession::Other),
        ..query()
    }));
    assert!(!bounded(UserQuery {
        clinic_id: Some(clinic),
        ..query()
    }));
}
