//! `exercise::start` and `settle`: the exercise integration riding on the outbox

use super::*;

struct ExerciseSite {
    site: SiteId,
    ctx: AuditContext,
}

fn exercise_site(conn: &mut DbConnection, name: &str) -> ExerciseSite {
    let (site, ctx) = new_site(conn, name);
    exercise::connect(conn, &ctx, "CLM-42", "Clinic CLM-42", None).unwrap();
    ExerciseSite { site, ctx }
}

fn names(first: &str, last: &str) -> ExerciseNames {
    ExerciseNames {
        first_name: person(first),
        last_name: person(last),
    }
}

/// Claims `job` and records `outcome` with `exercise::settle` as the effect.
fn work(conn: &mut DbConnection, job: &JobRow, outcome: &Outcome) {
    let owner = outbox::new_owner("exercise-worker");
    let claimed = outbox::claim(conn, job.id, &owner, long_lease())
        .unwrap()
        .expect("the job is claimable");
    assert!(outbox::finish(conn, &claimed, &owner, outcome, exercise::settle).unwrap());
}

fn email_jobs(conn: &mut DbConnection, site: SiteId, user: UserId) -> Vec<JobRow> {
    outbox::list(conn, site, &query(Some(JobKind::EmailSend), Some(user)))
        .unwrap()
        .items
}

#[test]
fn starting_an_add_makes_the_user_pending_with_its_job() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-start");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (view, job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Janet", "Doe")),
    )
    .unwrap();
    assert_eq!(view.state, ExerciseState::Pending);
    assert_eq!(view.pending_action, Some(ExerciseAction::Add));
    assert_eq!(view.job_id, Some(job.id));
    assert!(view.names_locked);
    assert_eq!(view.names, names("Janet", "Doe"));

    assert_eq!(job.kind, JobKind::ExerciseCreateUser);
    assert_eq!(job.subject_id, Some(user.id));
    assert_eq!(job.status, JobStatus::Pending);
    let payload: JobPayload = serde_json::from_value(job.payload().unwrap()).unwrap();
    assert_eq!(
        payload,
        JobPayload {
            user_id: user.id,
            action: ExerciseAction::Add,
            clm_id: "CLM-42".into(),
            first_name: "Janet".into(),
            last_name: "Doe".into(),
            provider_user_id: None,
        }
    );
    assert_eq!(
        stored(&mut conn, job.id),
        job,
        "the job is committed with the state"
    );
    // While pending, nothing else starts.
    let again = exercise::start(&mut conn, &ex.ctx, user.id, ExerciseAction::Add, None);
    assert!(
        matches!(
            again,
            Err(Failure::Refused(ExerciseRefusal::OperationPending))
        ),
        "{again:?}"
    );
    assert_eq!(outbox::pending_count(&mut conn).unwrap(), 1);
}

#[test]
fn a_succeeded_add_makes_the_user_active_and_queues_a_notice() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-ok");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (_, job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    work(
        &mut conn,
        &job,
        &Outcome::Succeeded {
            result: json!({"id": "EXU-1", "clm_id": "CLM-42"}),
        },
    );

    let view = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(view.state, ExerciseState::Active);
    assert_eq!(view.pending_action, None);
    assert_eq!(view.provider_user_id.as_deref(), Some("EXU-1"));
    assert_eq!(view.last_error, None);
    assert!(view.names_locked);
    assert_eq!(
        exercise::launch_target(&mut conn, ex.site, user.id).unwrap(),
        Some(("CLM-42".to_owned(), "EXU-1".to_owned()))
    );

    let notices = email_jobs(&mut conn, ex.site, user.id);
    assert_eq!(notices.len(), 1, "one notice: {notices:#?}");
    let notice = &notices[0];
    assert_eq!(notice.status, JobStatus::Pending);
    let mail: MailPayload = serde_json::from_value(notice.payload().unwrap()).unwrap();
    assert_eq!(mail.to, "jane@example.com");
    assert!(!mail.subject.is_empty());
    assert!(mail.body.contains("Jane"), "{}", mail.body);
    // The notice is the only job left to run, and due now.
    let due = outbox::claim_due(&mut conn, "w", long_lease(), 10).unwrap();
    let due_ids: Vec<JobId> = due.iter().map(|(_, j)| j.id).collect();
    assert_eq!(due_ids, vec![notice.id]);
}

#[test]
fn a_failed_add_moves_the_user_back_to_not_added_with_the_reason() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-failed");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (_, job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    work(
        &mut conn,
        &job,
        &Outcome::Failed {
            error: "invalid_name: first_name too long".into(),
        },
    );
    let view = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(view.state, ExerciseState::NotAdded);
    assert_eq!(view.pending_action, None);
    assert_eq!(
        view.last_error.as_deref(),
        Some("invalid_name: first_name too long")
    );
    assert_eq!(view.provider_user_id, None);
    assert!(!view.names_locked, "a refused add unlocks the names");
    assert!(email_jobs(&mut conn, ex.site, user.id).is_empty());
    assert_eq!(
        exercise::launch_target(&mut conn, ex.site, user.id).unwrap(),
        None
    );
}

#[test]
fn a_retry_leaves_the_user_pending() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-retry");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (_, job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    work(
        &mut conn,
        &job,
        &Outcome::RetryAt {
            at: now() + Duration::hours(1),
            error: "503".into(),
        },
    );
    let view = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(view.state, ExerciseState::Pending);
    assert_eq!(view.pending_action, Some(ExerciseAction::Add));
    assert_eq!(view.job_id, Some(job.id));
}

#[test]
fn a_settle_for_a_job_that_is_not_the_users_latest_changes_nothing() {
    let db = Db::new();
    let mut conn = db.conn();
    let ex = exercise_site(&mut conn, "exercise-stale");
    let user = create_user(
        &mut conn,
        ex.site,
        new_user("Jane", "Doe", "jane@example.com"),
    );
    let (_, old_job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    work(
        &mut conn,
        &old_job,
        &Outcome::Failed {
            error: "refused".into(),
        },
    );
    let (_, new_job) = exercise::start(
        &mut conn,
        &ex.ctx,
        user.id,
        ExerciseAction::Add,
        Some(&names("Jane", "Doe")),
    )
    .unwrap();
    let before = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(before.job_id, Some(new_job.id));
    let jobs_before = job_count(&mut conn);

    for outcome in [
        Outcome::Succeeded {
            result: json!({"id": "EXU-old"}),
        },
        Outcome::Failed {
            error: "old failure".into(),
        },
    ] {
        write_transaction(&mut conn, |c| exercise::settle(c, &old_job, &outcome)).unwrap();
        let after = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
        assert_eq!(after, before, "{outcome:?}");
        assert_eq!(
            job_count(&mut conn),
            jobs_before,
            "no notice for a stale job"
        );
    }

    // The latest job still settles.
    work(
        &mut conn,
        &new_job,
        &Outcome::Succeeded {
            result: json!({"id": "EXU-2"}),
        },
    );
    let view = exercise::get_user(&mut conn, ex.site, user.id).unwrap();
    assert_eq!(view.state, ExerciseState::Active);
    assert_eq!(view.provider_user_id.as_deref(), Some("EXU-2"));
}
