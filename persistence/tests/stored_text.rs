//! Ids and string enums are bound and loaded as typed values, but the database holds the
//! same text as before: an id's hyphenated lowercase UUID and an enum's wire string. Rows
//! written as plain text load as typed values, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::json;
use staffroom_domain::{
    ActorKind, AuditAction, ExerciseAction, JobKind, Permission, Profession, UserType,
};
use staffroom_persistence::audit::{self, AuditQuery};
use staffroom_persistence::exercise;
use staffroom_persistence::{DbConnection, outbox};
use support::{Db, NewUserExt, create_site, create_user, flex, new_user, person, user_ctx};

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    value: String,
}

/// The texts one column holds for the rows `sql` selects (as `value`).
fn stored(conn: &mut DbConnection, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<Stored>(conn)
        .unwrap()
        .into_iter()
        .map(|s| s.value)
        .collect()
}

/// An id's stored text: 36 characters, lowercase, hyphenated.
fn assert_id_text(text: &str) {
    assert_eq!(text.len(), 36, "{text}");
    assert_eq!(text, text.to_lowercase());
    assert_eq!(text.matches('-').count(), 4, "{text}");
}

#[test]
fn users_sites_and_grants_hold_wire_text() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "texts", flex(5));
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Tex", "Tile", "tex@example.com")
            .non_clinical()
            .permissions(&[Permission::ClinicAdmin]),
    );
    let id = user.id.to_string();
    assert_id_text(&id);

    let row = |column: &str| {
        let sql = format!("SELECT {column} AS value FROM users WHERE id = '{id}'");
        stored(&mut db.conn(), &sql)
    };
    assert_eq!(row("id"), [id.as_str()]);
    assert_eq!(row("site_id"), [site.site_id.to_string()]);
    assert_eq!(row("default_clinic_id"), [site.clinic_id.to_string()]);
    assert_eq!(row("user_type"), [UserType::NonClinical.as_str()]);
    assert_eq!(row("user_type"), ["non_clinical"]);
    assert_eq!(row("profession"), [Profession::Clerical.as_str()]);
    assert_eq!(row("status"), ["active"]);
    assert_eq!(
        stored(
            &mut conn,
            &format!("SELECT permission AS value FROM user_permissions WHERE user_id = '{id}'")
        ),
        ["clinic_admin"]
    );
    assert_eq!(
        stored(
            &mut conn,
            &format!("SELECT clinic_id AS value FROM user_clinics WHERE user_id = '{id}'")
        ),
        [site.clinic_id.to_string()]
    );
    assert_eq!(
        stored(
            &mut conn,
            &format!(
                "SELECT plan AS value FROM sites WHERE id = '{}'",
                site.site_id
            )
        ),
        ["flex"]
    );
}

#[test]
fn audit_events_and_jobs_hold_wire_text() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "audit-texts", flex(5));
    let events = |column: &str, action: &str| {
        let sql = format!("SELECT {column} AS value FROM audit_events WHERE action = '{action}'");
        stored(&mut db.conn(), &sql)
    };
    assert_eq!(events("actor_kind", "site.created"), ["system"]);
    assert_eq!(events("target_type", "site.created"), ["site"]);
    assert_eq!(
        events("target_id", "site.created"),
        [site.site_id.to_string()]
    );
    assert_eq!(
        events("target_id", "user.created"),
        [site.admin_user_id.to_string()]
    );
    for id in events("id", "user.created") {
        assert_id_text(&id);
    }

    let ctx = user_ctx(site.site_id);
    exercise::connect(&mut conn, &ctx, "CLM-1", "Clinic CLM-1", None).unwrap();
    let user = create_user(
        &mut conn,
        site.site_id,
        new_user("Jo", "Job", "jo@example.com"),
    );
    let names = staffroom_domain::ExerciseNames {
        first_name: person("Jo"),
        last_name: person("Job"),
    };
    let (_, job) =
        exercise::start(&mut conn, &ctx, user.id, ExerciseAction::Add, Some(&names)).unwrap();
    let jobs = |column: &str| {
        let sql = format!(
            "SELECT {column} AS value FROM outbox_jobs WHERE id = '{}'",
            job.id
        );
        stored(&mut db.conn(), &sql)
    };
    assert_eq!(jobs("kind"), ["exercise.create_user"]);
    assert_eq!(jobs("status"), ["pending"]);
    assert_eq!(jobs("subject_id"), [user.id.to_string()]);
    assert_eq!(jobs("actor_kind"), ["user"]);
    let provider = |column: &str| {
        let sql = format!(
            "SELECT {column} AS value FROM exercise_users WHERE user_id = '{}'",
            user.id
        );
        stored(&mut db.conn(), &sql)
    };
    assert_eq!(provider("state"), ["pending"]);
    assert_eq!(provider("pending_action"), ["add"]);
    assert_eq!(provider("job_id"), [job.id.to_string()]);
    assert_eq!(
        events("action", "exercise.user_add_requested"),
        ["exercise.user_add_requested"]
    );
}

#[test]
fn rows_written_as_text_load_as_typed_values() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "typed-reads", flex(5));
    let event_id = "0190f0c4-7d1e-7c3a-9b7e-2f4d5c6a7b8c";
    diesel::sql_query(format!(
        "INSERT INTO audit_events (id, site_id, occurred_at, actor_kind, actor_id, action, \
         target_type, target_id) VALUES ('{event_id}', '{}', CURRENT_TIMESTAMP, 'service', \
         'sa-1', 'users.bulk_updated', 'site', '{}')",
        site.site_id, site.site_id
    ))
    .execute(&mut conn)
    .unwrap();
    let events = audit::list(
        &mut conn,
        site.site_id,
        &AuditQuery {
            action: Some(AuditAction::UsersBulkUpdated),
            limit: 10,
            ..AuditQuery::default()
        },
    )
    .unwrap()
    .items;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.id.to_string(), event_id);
    assert_eq!(event.site_id, site.site_id);
    assert_eq!(event.actor_kind, ActorKind::Service);
    assert_eq!(event.action, AuditAction::UsersBulkUpdated);

    let job = outbox::enqueue(
        &mut conn,
        &user_ctx(site.site_id),
        JobKind::EmailSend,
        None,
        &json!({}),
    )
    .unwrap();
    let listed = outbox::list(
        &mut conn,
        site.site_id,
        &outbox::JobQuery {
            kind: Some(JobKind::EmailSend),
            limit: 10,
            ..outbox::JobQuery::default()
        },
    )
    .unwrap()
    .items;
    assert_eq!(listed, [job]);
}
