//! The counts a site keeps (`sites.active_clinical`, `active_non_clinical`, `scim_users`,
//! maintained by triggers on `users`) against the same counts taken over the users, after
//! every kind of write that moves them: creates through the use-case and multi-row
//! `INSERT`s, deactivation and reactivation, a change of type, a SCIM deletion, and a
//! deleted row; another site's counts stay apart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::prelude::*;
use staffroom_domain::{SiteId, UserStatus, UserType};
use staffroom_persistence::DbConnection;
use staffroom_persistence::schema::{sites, users as users_table};
use staffroom_persistence::usecase;
use staffroom_persistence::users::{self, ChangeType, MarkScimDeleted};
use support::{Db, NewUserExt, create_site, create_user, flex, new_user, user_ctx};

/// (active clinical, active non-clinical, SCIM users) as kept, and as counted.
fn kept_and_counted(conn: &mut DbConnection, site: SiteId) -> ((i64, i64, i64), (i64, i64, i64)) {
    let kept = sites::table
        .find(site)
        .select((
            sites::active_clinical,
            sites::active_non_clinical,
            sites::scim_users,
        ))
        .first(conn)
        .unwrap();
    let of_site = || users_table::table.filter(users_table::site_id.eq(site));
    let active = |conn: &mut DbConnection, user_type: UserType| -> i64 {
        of_site()
            .filter(users_table::status.eq(UserStatus::Active))
            .filter(users_table::user_type.eq(user_type))
            .count()
            .get_result(conn)
            .unwrap()
    };
    let counted = (
        active(conn, UserType::Clinical),
        active(conn, UserType::NonClinical),
        of_site()
            .filter(users_table::scim_deleted_at.is_null())
            .count()
            .get_result(conn)
            .unwrap(),
    );
    (kept, counted)
}

#[track_caller]
fn expect(conn: &mut DbConnection, site: SiteId, expected: (i64, i64, i64)) {
    let (kept, counted) = kept_and_counted(conn, site);
    assert_eq!(kept, counted, "kept counts differ from the users");
    assert_eq!(kept, expected);
}

#[test]
fn the_counts_a_site_keeps_follow_every_write_of_its_users() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "counts", flex(20)).site_id;
    let other = create_site(&mut conn, "other", flex(20)).site_id;
    expect(&mut conn, site, (1, 0, 1));

    let bo = create_user(&mut conn, site, new_user("Bo", "Baker", "bo@example.com"));
    let cy = create_user(
        &mut conn,
        site,
        new_user("Cy", "Clerk", "cy@example.com").non_clinical(),
    );
    expect(&mut conn, site, (2, 1, 3));

    let ctx = user_ctx(site);
    users::set_status(&mut conn, &ctx, bo.id, None, UserStatus::Inactive).unwrap();
    expect(&mut conn, site, (1, 1, 3));
    let change = ChangeType {
        id: cy.id,
        expected_version: None,
        user_type: UserType::Clinical,
    };
    usecase::run(&mut conn, &ctx, change, |_| (), None).unwrap();
    expect(&mut conn, site, (2, 0, 3));
    users::set_status(&mut conn, &ctx, bo.id, None, UserStatus::Active).unwrap();
    expect(&mut conn, site, (3, 0, 3));

    // SCIM's DELETE: deactivated, then hidden from SCIM.
    users::set_status(&mut conn, &ctx, cy.id, None, UserStatus::Inactive).unwrap();
    usecase::run(
        &mut conn,
        &ctx,
        MarkScimDeleted { id: cy.id },
        |()| (),
        None,
    )
    .unwrap();
    expect(&mut conn, site, (2, 0, 2));

    // Rows written by SQL alone (as the benchmarks seed), two in one statement.
    let main: String = diesel::sql_query(format!(
        "SELECT default_clinic_id AS id FROM users WHERE site_id = '{site}' LIMIT 1"
    ))
    .get_result::<IdRow>(&mut conn)
    .unwrap()
    .id;
    diesel::sql_query(format!(
        "INSERT INTO users (id, site_id, title, first_name, last_name, email, email_normalized, \
         search_text, sort_first_name, sort_last_name, user_type, profession, status, \
         default_clinic_id, diary_enabled, password_hash, last_login_at, version, created_at, \
         updated_at) VALUES \
         ('00000000-0000-7000-8000-000000000001', '{site}', NULL, 'Di', 'Doe', 'di@x.test', \
          'di@x.test', 'di doe di@x.test', 'di', 'doe', 'non_clinical', 'OTHER', 'active', \
          '{main}', FALSE, NULL, NULL, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         ('00000000-0000-7000-8000-000000000002', '{site}', NULL, 'Ed', 'Eve', 'ed@x.test', \
          'ed@x.test', 'ed eve ed@x.test', 'ed', 'eve', 'clinical', 'OTHER', 'inactive', \
          '{main}', FALSE, NULL, NULL, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    ))
    .execute(&mut conn)
    .unwrap();
    expect(&mut conn, site, (2, 1, 4));

    // Deleting rows (nothing does but tests and maintenance) keeps the counts too.
    diesel::delete(users_table::table.filter(users_table::site_id.eq(site)))
        .filter(users_table::email_normalized.like("%@x.test"))
        .execute(&mut conn)
        .unwrap();
    expect(&mut conn, site, (2, 0, 2));
    expect(&mut conn, other, (1, 0, 1));
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}
