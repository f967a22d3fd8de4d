//! Claiming: a due job is leased by one owner until its lease expires.

use super::*;

#[test]
fn a_due_job_is_claimed_once_until_its_lease_expires() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "claim");
    let job = enqueue(&mut conn, &ctx, 1);

    let first = outbox::new_owner("worker-a");
    let before = now();
    let claimed = outbox::claim(&mut conn, job.id, &first, tiny_lease())
        .unwrap()
        .expect("a pending, due, unleased job is claimed");
    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.lease_owner.as_deref(), Some(first.as_str()));
    let leased_until = claimed.leased_until.expect("a lease");
    assert!(leased_until >= before + tiny_lease(), "{leased_until}");
    assert_eq!(claimed.status, JobStatus::Pending);

    // Another owner while a lease holds (a long one, so the check cannot race the clock).
    let job2 = enqueue(&mut conn, &ctx, 2);
    let holder = outbox::new_owner("worker-a");
    let held = outbox::claim(&mut conn, job2.id, &holder, long_lease())
        .unwrap()
        .unwrap();
    assert_eq!(held.attempts, 1);
    let other = outbox::new_owner("worker-b");
    assert_eq!(
        outbox::claim(&mut conn, job2.id, &other, long_lease()).unwrap(),
        None,
        "a leased job is not claimed by another owner"
    );
    assert_eq!(
        outbox::claim(&mut conn, job2.id, &holder, long_lease()).unwrap(),
        None,
        "nor again by its holder"
    );
    let row = stored(&mut conn, job2.id);
    assert_eq!(row.attempts, 1, "a refused claim counts no attempt");
    assert_eq!(row.lease_owner.as_deref(), Some(holder.as_str()));

    // Once the tiny lease is over, another owner takes the first job over.
    let_leases_expire();
    let second = outbox::new_owner("worker-b");
    assert_ne!(first, second, "each claim has its own owner token");
    let taken = outbox::claim(&mut conn, job.id, &second, long_lease())
        .unwrap()
        .expect("an expired lease can be taken over");
    assert_eq!(taken.attempts, 2);
    assert_eq!(taken.lease_owner.as_deref(), Some(second.as_str()));
    assert_eq!(
        outbox::claim(&mut conn, job.id, &first, long_lease()).unwrap(),
        None,
        "the previous owner cannot claim it back while the new lease holds"
    );
}

#[test]
fn unknown_finished_and_not_yet_due_jobs_are_not_claimed() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "unclaimable");
    let owner = outbox::new_owner("w");
    assert_eq!(
        outbox::claim(&mut conn, JobId::new(), &owner, long_lease()).unwrap(),
        None
    );

    let later = enqueue(&mut conn, &ctx, 1);
    set_due(&mut conn, later.id, now() + Duration::hours(1));
    assert_eq!(
        outbox::claim(&mut conn, later.id, &owner, long_lease()).unwrap(),
        None
    );
    assert_eq!(stored(&mut conn, later.id).attempts, 0);

    for outcome in [
        Outcome::Succeeded { result: json!({}) },
        Outcome::Failed {
            error: "refused".into(),
        },
    ] {
        let job = enqueue(&mut conn, &ctx, 2);
        let owner = outbox::new_owner("w");
        let claimed = outbox::claim(&mut conn, job.id, &owner, tiny_lease())
            .unwrap()
            .unwrap();
        assert!(
            finish_noting(&mut conn, &claimed, &owner, &outcome)
                .0
                .unwrap()
        );
        let_leases_expire();
        let again = outbox::new_owner("w");
        assert_eq!(
            outbox::claim(&mut conn, job.id, &again, long_lease()).unwrap(),
            None,
            "a finished job is never claimed again ({outcome:?})"
        );
        assert_eq!(stored(&mut conn, job.id).attempts, 1);
    }
}

#[test]
fn a_job_of_a_kind_this_version_does_not_know_is_left_to_those_that_do() {
    let db = Db::new();
    let mut conn = db.conn();
    let (_, ctx) = new_site(&mut conn, "unknown-kind");
    let known = enqueue(&mut conn, &ctx, 1);
    let newer = enqueue(&mut conn, &ctx, 2);
    // As a newer version, with a kind this one has no provider call for, would write it.
    diesel::sql_query(format!(
        "UPDATE outbox_jobs SET kind = 'imaging.from_a_newer_version' WHERE id = '{}'",
        newer.id
    ))
    .execute(&mut conn)
    .unwrap();

    let owner = outbox::new_owner("w");
    assert_eq!(
        outbox::claim(&mut conn, newer.id, &owner, long_lease()).unwrap(),
        None
    );
    let claimed = outbox::claim_due(&mut conn, "w", long_lease(), 10).unwrap();
    let ids: Vec<JobId> = claimed.iter().map(|(_, j)| j.id).collect();
    assert_eq!(
        ids,
        vec![known.id],
        "only the job of a known kind is claimed"
    );
    assert_eq!(
        outbox::pending_count(&mut conn).unwrap(),
        2,
        "the other job stays pending, untouched"
    );
}
