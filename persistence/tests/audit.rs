//! The audit feed: newest first, filtered, and paginated by cursor without gaps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;

use staffroom_domain::{ActorKind, AuditAction, AuditEventId, SiteId, UserStatus};
use staffroom_persistence::audit::{self, AuditEventRow, AuditQuery};
use staffroom_persistence::clinics;
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::users::{self, UserPatch};
use staffroom_persistence::{DbConnection, StoreError};
use support::{Db, create_site, entity, flex, new_user, person, user_ctx};

fn query() -> AuditQuery {
    AuditQuery {
        limit: 200,
        ..AuditQuery::default()
    }
}

fn list(conn: &mut DbConnection, site: SiteId, q: &AuditQuery) -> Vec<AuditEventRow> {
    let page = audit::list(conn, site, q).unwrap();
    assert_eq!(page.next_cursor, None);
    page.items
}

/// A site with a varied history: users created, updated, deactivated, a clinic created,
/// by two actors, some with a request id.
fn busy_site(conn: &mut DbConnection) -> (SiteId, Vec<String>) {
    let site = create_site(conn, "audited", flex(20));
    let alice = AuditContext {
        request_id: Some("req-alice".to_owned()),
        actor_id: Some("alice".to_owned()),
        ..user_ctx(site.site_id)
    };
    let bob = AuditContext {
        actor_kind: ActorKind::Service,
        actor_id: Some("bob".to_owned()),
        ..user_ctx(site.site_id)
    };
    let mut user_ids = Vec::new();
    for i in 0..4 {
        let ctx = if i % 2 == 0 { &alice } else { &bob };
        let user = users::create(
            conn,
            ctx,
            new_user("Aud", "It", &format!("audit{i}@example.com")),
        )
        .unwrap();
        users::update(
            conn,
            &bob,
            user.id,
            None,
            UserPatch {
                last_name: Some(person("Itt")),
                ..UserPatch::default()
            },
        )
        .unwrap();
        user_ids.push(user.id.to_string());
    }
    users::set_status(
        conn,
        &alice,
        user_ids[0].parse().unwrap(),
        None,
        UserStatus::Inactive,
    )
    .unwrap();
    clinics::create(conn, &alice, &entity("Annex"), false).unwrap();
    (site.site_id, user_ids)
}

#[test]
fn lists_newest_first_and_only_the_sites_own_events() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, _) = busy_site(&mut conn);
    let other = create_site(&mut conn, "audited-other", flex(5));

    let events = list(&mut conn, site, &query());
    // site.created + user.created (admin) + 4 creates + 4 updates + 1 deactivation + 1 clinic.
    assert_eq!(events.len(), 12);
    assert!(events.iter().all(|e| e.site_id == site));
    for pair in events.windows(2) {
        assert!(pair[0].id > pair[1].id, "newest first by id");
        assert!(
            pair[0].occurred_at >= pair[1].occurred_at,
            "newest first by time"
        );
    }
    assert_eq!(events[0].action, AuditAction::ClinicCreated);
    assert_eq!(events[1].action, AuditAction::UserDeactivated);
    let last_two: HashSet<AuditAction> = events[10..].iter().map(|e| e.action).collect();
    assert_eq!(
        last_two,
        HashSet::from([AuditAction::SiteCreated, AuditAction::UserCreated])
    );

    let others = list(&mut conn, other.site_id, &query());
    assert_eq!(others.len(), 2);
}

#[test]
fn filters_combine() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, user_ids) = busy_site(&mut conn);
    let all = list(&mut conn, site, &query());
    let c = &mut conn;

    let check = |c: &mut DbConnection, q: AuditQuery, keep: &dyn Fn(&AuditEventRow) -> bool| {
        let got: Vec<AuditEventId> = list(c, site, &q).into_iter().map(|e| e.id).collect();
        let expected: Vec<AuditEventId> = all.iter().filter(|e| keep(e)).map(|e| e.id).collect();
        assert!(!expected.is_empty(), "{q:?} should match something");
        assert_eq!(got, expected, "{q:?}");
    };

    check(
        c,
        AuditQuery {
            action: Some(AuditAction::UserUpdated),
            ..query()
        },
        &|e| e.action == AuditAction::UserUpdated,
    );
    check(
        c,
        AuditQuery {
            target_type: Some("clinic".to_owned()),
            ..query()
        },
        &|e| e.target_type == "clinic",
    );
    check(
        c,
        AuditQuery {
            target_id: Some(user_ids[0].clone()),
            ..query()
        },
        &|e| e.target_id.as_deref() == Some(user_ids[0].as_str()),
    );
    check(
        c,
        AuditQuery {
            actor_id: Some("bob".to_owned()),
            ..query()
        },
        &|e| e.actor_id.as_deref() == Some("bob"),
    );
    check(
        c,
        AuditQuery {
            request_id: Some("req-alice".to_owned()),
            ..query()
        },
        &|e| e.request_id.as_deref() == Some("req-alice"),
    );
    check(
        c,
        AuditQuery {
            action: Some(AuditAction::UserCreated),
            actor_id: Some("alice".to_owned()),
            ..query()
        },
        &|e| e.action == AuditAction::UserCreated && e.actor_id.as_deref() == Some("alice"),
    );
    let middle = all[all.len() / 2].occurred_at;
    check(
        c,
        AuditQuery {
            since: Some(middle),
            ..query()
        },
        &|e| e.occurred_at >= middle,
    );
    let newest = all[0].occurred_at;
    check(
        c,
        AuditQuery {
            until: Some(newest),
            ..query()
        },
        &|e| e.occurred_at < newest,
    );
    check(
        c,
        AuditQuery {
            since: Some(middle),
            until: Some(newest),
            actor_id: Some("bob".to_owned()),
            ..query()
        },
        &|e| {
            e.occurred_at >= middle
                && e.occurred_at < newest
                && e.actor_id.as_deref() == Some("bob")
        },
    );
    assert!(
        list(
            c,
            site,
            &AuditQuery {
                action: Some(AuditAction::AppointmentBooked),
                ..query()
            }
        )
        .is_empty()
    );
}

#[test]
fn pages_follow_the_cursor_without_gaps_or_repeats() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, _) = busy_site(&mut conn);
    let all: Vec<AuditEventId> = list(&mut conn, site, &query())
        .into_iter()
        .map(|e| e.id)
        .collect();

    let updated = Some(AuditAction::UserUpdated);
    for (filter, limit) in [(None, 1), (None, 5), (updated, 3), (None, 12)] {
        let mut q = AuditQuery {
            action: filter,
            limit,
            ..AuditQuery::default()
        };
        let expected: Vec<AuditEventId> = list(
            &mut conn,
            site,
            &AuditQuery {
                action: filter,
                ..query()
            },
        )
        .into_iter()
        .map(|e| e.id)
        .collect();
        let mut paged = Vec::new();
        loop {
            let page = audit::list(&mut conn, site, &q).unwrap();
            assert!(i64::try_from(page.items.len()).unwrap() <= limit);
            paged.extend(page.items.into_iter().map(|e| e.id));
            match page.next_cursor {
                Some(cursor) => q.cursor = Some(cursor),
                None => break,
            }
        }
        assert_eq!(paged, expected, "{filter:?} limit {limit}");
    }
    assert_eq!(all.len(), 12);

    let bad = audit::list(
        &mut conn,
        site,
        &AuditQuery {
            cursor: Some("%%%".to_owned()),
            ..query()
        },
    );
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
}

#[test]
fn events_carry_the_actor_and_the_states() {
    let db = Db::new();
    let mut conn = db.conn();
    let site = create_site(&mut conn, "states", flex(5));
    let ctx = AuditContext {
        on_behalf_of: Some("clinician-7".to_owned()),
        request_id: Some("req-42".to_owned()),
        ..user_ctx(site.site_id)
    };
    let user = users::create(&mut conn, &ctx, new_user("Val", "Vane", "val@example.com")).unwrap();
    users::update(
        &mut conn,
        &ctx,
        user.id,
        Some(1),
        UserPatch {
            first_name: Some(person("Valerie")),
            ..UserPatch::default()
        },
    )
    .unwrap();
    let events = list(
        &mut conn,
        site.site_id,
        &AuditQuery {
            request_id: Some("req-42".to_owned()),
            ..query()
        },
    );
    assert_eq!(events.len(), 2);
    let updated = &events[0];
    assert_eq!(updated.action, AuditAction::UserUpdated);
    assert_eq!(updated.actor_kind, ActorKind::User);
    assert_eq!(updated.actor_id.as_deref(), Some("actor-1"));
    assert_eq!(updated.on_behalf_of.as_deref(), Some("clinician-7"));
    assert_eq!(updated.target_type, "user");
    let before: serde_json::Value =
        serde_json::from_str(updated.before_state.as_deref().unwrap()).unwrap();
    let after: serde_json::Value =
        serde_json::from_str(updated.after_state.as_deref().unwrap()).unwrap();
    assert_eq!(before["first_name"], "Val");
    assert_eq!(after["first_name"], "Valerie");
    assert_eq!(before["version"], 1);
    assert_eq!(after["version"], 2);
    let created = &events[1];
    assert_eq!(created.action, AuditAction::UserCreated);
    assert_eq!(created.before_state, None);
}
