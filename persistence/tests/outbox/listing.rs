//! `claim_due`, and the site-scoped `list` and `get`.

use super::*;

#[test]
fn claim_due_takes_only_due_jobs_oldest_first_up_to_the_limit() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "due");
    let base = now() - Duration::minutes(10);
    // Five due jobs whose due times are not in creation order, and two not yet due.
    let due: Vec<JobRow> = (0..5).map(|n| enqueue(&mut conn, &ctx, n)).collect();
    let order = [3, 0, 4, 1, 2];
    for (rank, index) in order.iter().enumerate() {
        let rank = i64::try_from(rank).unwrap();
        set_due(&mut conn, due[*index].id, base + Duration::seconds(rank));
    }
    let future: Vec<JobRow> = (5..7).map(|n| enqueue(&mut conn, &ctx, n)).collect();
    for job in &future {
        set_due(&mut conn, job.id, now() + Duration::hours(1));
    }
    // And one due job held under another worker's lease.
    let held = enqueue(&mut conn, &ctx, 7);
    set_due(&mut conn, held.id, base - Duration::minutes(1));
    let holder = outbox::new_owner("holder");
    outbox::claim(&mut conn, held.id, &holder, long_lease())
        .unwrap()
        .unwrap();

    let first = outbox::claim_due(&mut conn, "w", long_lease(), 3).unwrap();
    let ids: Vec<JobId> = first.iter().map(|(_, j)| j.id).collect();
    let expected: Vec<JobId> = order[..3].iter().map(|i| due[*i].id).collect();
    assert_eq!(ids, expected, "the three oldest due jobs, oldest first");
    let owners: BTreeSet<&str> = first.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(owners.len(), 3, "one owner token per claimed job");
    for (owner, job) in &first {
        assert!(owner.starts_with("w/"), "{owner}");
        assert_eq!(job.lease_owner.as_deref(), Some(owner.as_str()));
        assert_eq!(job.attempts, 1);
        assert_eq!(stored(&mut conn, job.id).lease_owner.as_ref(), Some(owner));
    }

    let rest = outbox::claim_due(&mut conn, "w", long_lease(), 10).unwrap();
    let ids: Vec<JobId> = rest.iter().map(|(_, j)| j.id).collect();
    let expected: Vec<JobId> = order[3..].iter().map(|i| due[*i].id).collect();
    assert_eq!(ids, expected, "then the rest; never a future or leased job");
    assert!(
        outbox::claim_due(&mut conn, "w", long_lease(), 10)
            .unwrap()
            .is_empty()
    );
    for job in &future {
        assert_eq!(stored(&mut conn, job.id).attempts, 0);
    }
    assert_eq!(stored(&mut conn, held.id).attempts, 1);
    assert_eq!(
        outbox::pending_count(&mut conn).unwrap(),
        8,
        "leased and future jobs are pending"
    );
}

#[test]
fn claim_due_takes_over_expired_leases() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "expired");
    let jobs: Vec<JobRow> = (0..3).map(|n| enqueue(&mut conn, &ctx, n)).collect();
    let first = outbox::claim_due(&mut conn, "crashed", tiny_lease(), 10).unwrap();
    assert_eq!(first.len(), 3);
    let_leases_expire();
    let second = outbox::claim_due(&mut conn, "rescuer", long_lease(), 10).unwrap();
    let ids: BTreeSet<JobId> = second.iter().map(|(_, j)| j.id).collect();
    let all: BTreeSet<JobId> = jobs.iter().map(|j| j.id).collect();
    assert_eq!(ids, all);
    for (owner, job) in &second {
        assert!(owner.starts_with("rescuer/"));
        assert_eq!(job.attempts, 2);
    }
}

#[test]
fn list_filters_and_get_is_scoped_to_the_site() {
    let db = Db::new();
    let mut conn = db.conn();
    let (site, ctx) = new_site(&mut conn, "listing");
    let (other_site, other_ctx) = new_site(&mut conn, "listing-other");
    let (kind_a, kind_b) = (JobKind::ExerciseCreateUser, JobKind::EmailSend);
    let (u1, u2) = (Some(subject(1)), Some(subject(2)));
    let a = outbox::enqueue(&mut conn, &ctx, kind_a, u1, &json!({})).unwrap();
    let b = outbox::enqueue(&mut conn, &ctx, kind_b, u1, &json!({})).unwrap();
    let c = outbox::enqueue(&mut conn, &ctx, kind_a, u2, &json!({})).unwrap();
    let foreign = outbox::enqueue(&mut conn, &other_ctx, kind_a, None, &json!({})).unwrap();
    let owner = outbox::new_owner("w");
    let claimed = outbox::claim(&mut conn, b.id, &owner, long_lease())
        .unwrap()
        .unwrap();
    let failed = Outcome::Failed { error: "no".into() };
    assert!(
        finish_noting(&mut conn, &claimed, &owner, &failed)
            .0
            .unwrap()
    );

    let ids = |q: &JobQuery, conn: &mut DbConnection| -> Vec<JobId> {
        outbox::list(conn, site, q)
            .unwrap()
            .items
            .into_iter()
            .map(|j| j.id)
            .collect()
    };
    assert_eq!(
        ids(&query(None, None), &mut conn),
        vec![c.id, b.id, a.id],
        "the site's jobs, newest first"
    );
    assert_eq!(ids(&query(Some(kind_a), None), &mut conn), vec![c.id, a.id]);
    assert_eq!(ids(&query(Some(kind_a), u1), &mut conn), vec![a.id]);
    let failed_only = JobQuery {
        status: Some(JobStatus::Failed),
        ..query(None, None)
    };
    assert_eq!(ids(&failed_only, &mut conn), vec![b.id]);

    assert_eq!(outbox::get(&mut conn, site, a.id).unwrap().id, a.id);
    let hidden = outbox::get(&mut conn, site, foreign.id);
    assert!(matches!(hidden, Err(StoreError::NotFound)), "{hidden:?}");
    assert_eq!(
        outbox::get(&mut conn, other_site, foreign.id).unwrap().id,
        foreign.id
    );
}
