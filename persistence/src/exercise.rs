//! The exercise-prescription integration (SPEC §6.1): the site's connection, each user's
//! provider state, and the outbox jobs that carry a state change to the provider. The rules
//! are the domain's (`staffroom_domain::exercise`); this module stores what they decide.
//!
//! Every change is a use-case (`crate::usecase`): [`ConnectSite`], [`DisconnectSite`],
//! [`RenameUser`] and [`StartAction`]. A request that adds, deactivates or reactivates a
//! user writes, in one transaction, the user's `pending` state, the outbox job and the
//! audit event (and the request's provisional answer). When the job finishes,
//! [`settle`] moves the state on (or back, if the provider refused) in the transaction that
//! records the job's outcome, and sends the user a notice by email through the outbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::convert::Infallible;

use staffroom_domain::{
    AuditAction, AuditTarget, ConfirmedClinic, ConnectDecision, ExerciseAction, ExerciseConnection,
    ExerciseNames, ExerciseRefusal, ExerciseState, JobId, PersonName, RenameDecision,
    RenameSnapshot, SiteId, StartDecision, StartSnapshot, UserId, UserStatus, decide_connect,
    decide_rename, decide_start, guess_names, may_launch, settle as settle_state,
};

use crate::audit::{self, Change};
use crate::error::Conflict;
use crate::outbox::{self, JobRow, Outcome};
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::{exercise_integrations, exercise_users, users};
use crate::tx::{AuditContext, check_version, now};
use crate::usecase::{self, Failure, UseCase};
use crate::{DbConnection, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = exercise_integrations)]
pub struct IntegrationRow {
    pub site_id: SiteId,
    pub clm_id: String,
    pub clinic_name: String,
    pub connected_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = exercise_users, treat_none_as_null = true)]
pub struct ExerciseUserRow {
    pub user_id: UserId,
    pub site_id: SiteId,
    pub clm_id: String,
    pub state: ExerciseState,
    pub pending_action: Option<ExerciseAction>,
    pub first_name: String,
    pub last_name: String,
    pub provider_user_id: Option<String>,
    pub last_error: Option<String>,
    pub job_id: Option<JobId>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One site user as the integration screen shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExerciseUserView {
    pub user_id: UserId,
    pub email: String,
    pub user_status: UserStatus,
    pub state: ExerciseState,
    pub pending_action: Option<ExerciseAction>,
    /// The stored names, or the names guessed from the profile while nothing is stored.
    pub names: ExerciseNames,
    pub names_locked: bool,
    pub last_error: Option<String>,
    pub job_id: Option<JobId>,
    pub provider_user_id: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
    /// The stored record's version (its ETag); 0 while nothing is stored.
    pub version: i64,
}

/// What the outbox job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPayload {
    pub user_id: UserId,
    pub action: ExerciseAction,
    pub clm_id: String,
    pub first_name: String,
    pub last_name: String,
    /// The provider's user, for a deletion.
    pub provider_user_id: Option<String>,
}

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::corrupt(e)
}

/// The integration's rules refused (`409` with the refusal's code).
fn refused(r: ExerciseRefusal) -> StoreError {
    StoreError::Conflict(Conflict::Exercise(r))
}

/// The site's connection, if any.
pub fn integration(conn: &mut DbConnection, site: SiteId) -> StoreResult<Option<IntegrationRow>> {
    Ok(exercise_integrations::table
        .find(site)
        .select(IntegrationRow::as_select())
        .first(conn)
        .optional()?)
}

/// `PUT /v1/integrations/exercise` (use-case): connects the site to a clinic the provider
/// confirmed, replacing an earlier connection (`staffroom_domain::decide_connect`).
/// `expected_version` is the `If-Match` (0: not connected).
#[derive(Debug, Clone)]
pub struct ConnectSite {
    pub clinic: ConfirmedClinic,
    pub expected_version: Option<i64>,
}

impl UseCase for ConnectSite {
    type Snapshot = Option<ExerciseConnection>;
    type Decision = ConnectDecision;
    type Refusal = Infallible;
    type Output = IntegrationRow;

    fn load(
        &self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
    ) -> StoreResult<Option<ExerciseConnection>> {
        let current = integration(conn, ctx.site_id)?;
        check_version(
            self.expected_version,
            current.as_ref().map_or(0, |c| c.version),
        )?;
        Ok(current.map(|c| ExerciseConnection {
            clm_id: c.clm_id,
            version: c.version,
        }))
    }

    fn decide(&self, current: Option<ExerciseConnection>) -> Result<ConnectDecision, Infallible> {
        Ok(decide_connect(current.as_ref(), self.clinic.clone()))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        decision: ConnectDecision,
    ) -> StoreResult<IntegrationRow> {
        let row = IntegrationRow {
            site_id: ctx.site_id,
            clm_id: decision.clinic.clm_id,
            clinic_name: decision.clinic.name,
            connected_at: now(),
            version: decision.version,
        };
        diesel::delete(exercise_integrations::table.find(row.site_id)).execute(conn)?;
        diesel::insert_into(exercise_integrations::table)
            .values(&row)
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::ExerciseConnected,
                target: AuditTarget::Site(row.site_id),
                before: decision.replaces.map(|clm_id| json!({"clm_id": clm_id})),
                after: Some(json!({"clm_id": row.clm_id, "clinic_name": row.clinic_name})),
            },
        )?;
        Ok(row)
    }
}

/// Runs [`ConnectSite`] (for tests and the operator's tools).
pub fn connect(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    clm_id: &str,
    clinic_name: &str,
    expected_version: Option<i64>,
) -> StoreResult<IntegrationRow> {
    let connect = ConnectSite {
        clinic: ConfirmedClinic {
            clm_id: clm_id.to_owned(),
            name: clinic_name.to_owned(),
        },
        expected_version,
    };
    usecase::run(conn, ctx, connect, |row| row, None).map_err(|failure| match failure {
        Failure::Store(e) => e,
        Failure::Refused(never) => match never {},
    })
}

/// `DELETE /v1/integrations/exercise` (use-case): disconnects the site (`NotFound` while it
/// is not connected). No rule refuses it: users keep their provider state, and nothing is
/// deleted at the provider.
#[derive(Debug, Clone)]
pub struct DisconnectSite {
    pub expected_version: Option<i64>,
}

impl UseCase for DisconnectSite {
    type Snapshot = IntegrationRow;
    type Decision = IntegrationRow;
    type Refusal = Infallible;
    type Output = ();

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<IntegrationRow> {
        let current = integration(conn, ctx.site_id)?.ok_or(StoreError::NotFound)?;
        check_version(self.expected_version, current.version)?;
        Ok(current)
    }

    fn decide(&self, current: IntegrationRow) -> Result<IntegrationRow, Infallible> {
        Ok(current)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        before: IntegrationRow,
    ) -> StoreResult<()> {
        diesel::delete(exercise_integrations::table.find(before.site_id)).execute(conn)?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::ExerciseDisconnected,
                target: AuditTarget::Site(before.site_id),
                before: Some(json!({"clm_id": before.clm_id})),
                after: None,
            },
        )
    }
}

/// A site user's id, email, status and names, with their stored provider record.
type UserColumns = (
    UserId,
    String,
    UserStatus,
    String,
    String,
    Option<ExerciseUserRow>,
);

fn view(
    (user_id, email, user_status, first, last, stored): UserColumns,
) -> StoreResult<ExerciseUserView> {
    let first = PersonName::parse(&first).map_err(corrupt)?;
    let last = PersonName::parse(&last).map_err(corrupt)?;
    let Some(row) = stored else {
        return Ok(ExerciseUserView {
            user_id,
            email,
            user_status,
            state: ExerciseState::NotAdded,
            pending_action: None,
            names: guess_names(&first, &last),
            names_locked: false,
            last_error: None,
            job_id: None,
            provider_user_id: None,
            updated_at: None,
            version: 0,
        });
    };
    let state = row.state;
    Ok(ExerciseUserView {
        user_id,
        email,
        user_status,
        state,
        pending_action: row.pending_action,
        names: ExerciseNames {
            first_name: PersonName::parse(&row.first_name).map_err(corrupt)?,
            last_name: PersonName::parse(&row.last_name).map_err(corrupt)?,
        },
        names_locked: state != ExerciseState::NotAdded,
        last_error: row.last_error,
        job_id: row.job_id,
        provider_user_id: row.provider_user_id,
        updated_at: Some(row.updated_at),
        version: row.version,
    })
}

/// Every user of the site with their provider state, by user id.
pub fn list_users(
    conn: &mut DbConnection,
    site: SiteId,
    limit: i64,
    cursor: Option<&str>,
) -> StoreResult<Page<ExerciseUserView>> {
    let mut query = users::table
        .left_join(exercise_users::table)
        .filter(users::site_id.eq(site))
        .select((
            users::id,
            users::email,
            users::status,
            users::first_name,
            users::last_name,
            Option::<ExerciseUserRow>::as_select(),
        ))
        .order(users::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(cursor) = cursor {
        let after: UserId = decode_cursor(cursor)?;
        query = query.filter(users::id.gt(after));
    }
    let rows: Vec<UserColumns> = query.load(conn)?;
    let page = page_from_rows(rows, limit, |r| r.0);
    let items = page
        .items
        .into_iter()
        .map(view)
        .collect::<StoreResult<_>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// One user of the site with their provider state; `NotFound` for another site's user.
pub fn get_user(
    conn: &mut DbConnection,
    site: SiteId,
    user: UserId,
) -> StoreResult<ExerciseUserView> {
    let row: UserColumns = users::table
        .left_join(exercise_users::table)
        .filter(users::site_id.eq(site))
        .filter(users::id.eq(user))
        .select((
            users::id,
            users::email,
            users::status,
            users::first_name,
            users::last_name,
            Option::<ExerciseUserRow>::as_select(),
        ))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    view(row)
}

fn stored_row(conn: &mut DbConnection, user: UserId) -> StoreResult<Option<ExerciseUserRow>> {
    Ok(exercise_users::table
        .find(user)
        .select(ExerciseUserRow::as_select())
        .first(conn)
        .optional()?)
}

fn save(conn: &mut DbConnection, row: &ExerciseUserRow, exists: bool) -> StoreResult<()> {
    if exists {
        diesel::update(exercise_users::table.find(row.user_id))
            .set(row)
            .execute(conn)?;
    } else {
        diesel::insert_into(exercise_users::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

fn names_json(names: &ExerciseNames) -> serde_json::Value {
    json!({"first_name": names.first_name.as_str(), "last_name": names.last_name.as_str()})
}

/// `PATCH /v1/integrations/exercise/users/{id}` (use-case): stores edited names for a user
/// not yet added (`staffroom_domain::decide_rename`: `409 names_locked` afterwards,
/// `409 integration_not_connected` while the site is not connected). `expected_version` is
/// the `If-Match` of the user's provider record (0: nothing stored).
#[derive(Debug, Clone)]
pub struct RenameUser {
    pub user: UserId,
    pub names: ExerciseNames,
    pub expected_version: Option<i64>,
}

/// What renaming reads and writes on: the rules' snapshot or decision, with the user's
/// record as it stands.
pub struct RenameOn<T> {
    rules: T,
    current: ExerciseUserView,
    stored: Option<ExerciseUserRow>,
}

impl UseCase for RenameUser {
    type Snapshot = RenameOn<RenameSnapshot>;
    type Decision = RenameOn<RenameDecision>;
    type Refusal = ExerciseRefusal;
    type Output = ExerciseUserView;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let current = get_user(conn, ctx.site_id, self.user)?;
        check_version(self.expected_version, current.version)?;
        let rules = RenameSnapshot {
            state: current.state,
            names: current.names.clone(),
            connected_clinic: integration(conn, ctx.site_id)?.map(|i| i.clm_id),
        };
        Ok(RenameOn {
            rules,
            stored: stored_row(conn, self.user)?,
            current,
        })
    }

    fn decide(&self, on: Self::Snapshot) -> Result<Self::Decision, ExerciseRefusal> {
        Ok(RenameOn {
            rules: decide_rename(&on.rules, &self.names)?,
            current: on.current,
            stored: on.stored,
        })
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        on: Self::Decision,
    ) -> StoreResult<ExerciseUserView> {
        let RenameDecision::Store { clm_id, names } = on.rules else {
            return Ok(on.current);
        };
        let stored = on.stored;
        let at = now();
        let row = ExerciseUserRow {
            user_id: self.user,
            site_id: ctx.site_id,
            clm_id,
            state: ExerciseState::NotAdded,
            pending_action: None,
            first_name: names.first_name.to_string(),
            last_name: names.last_name.to_string(),
            provider_user_id: None,
            last_error: stored.as_ref().and_then(|s| s.last_error.clone()),
            job_id: stored.as_ref().and_then(|s| s.job_id),
            version: stored.as_ref().map_or(1, |s| s.version + 1),
            created_at: stored.as_ref().map_or(at, |s| s.created_at),
            updated_at: at,
        };
        save(conn, &row, stored.is_some())?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::ExerciseUserRenamed,
                target: AuditTarget::User(self.user),
                before: Some(names_json(&on.current.names)),
                after: Some(names_json(&names)),
            },
        )?;
        get_user(conn, ctx.site_id, self.user)
    }
}

/// Starts `action` for `user` (use-case): the snapshot is the user's provider state and
/// the clinics, `decide_start` decides, and the write stores the `pending` state with the
/// outbox job and the audit event. `names` are the add's names; for a reactivation they
/// must be the stored ones if sent (`names_locked`).
pub struct StartAction {
    pub user: UserId,
    pub action: ExerciseAction,
    pub names: Option<ExerciseNames>,
}

/// What starting reads: the rules' snapshot, with the records the write builds on.
pub struct StartLoaded {
    rules: StartSnapshot,
    current: ExerciseUserView,
    stored: Option<ExerciseUserRow>,
}

/// What starting writes: the domain's decision, with the records it builds on.
pub struct StartWrite {
    decision: StartDecision,
    current: ExerciseUserView,
    stored: Option<ExerciseUserRow>,
}

impl UseCase for StartAction {
    type Snapshot = StartLoaded;
    type Decision = StartWrite;
    type Refusal = ExerciseRefusal;
    type Output = (ExerciseUserView, JobRow);

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<StartLoaded> {
        let current = get_user(conn, ctx.site_id, self.user)?;
        let stored = stored_row(conn, self.user)?;
        let rules = StartSnapshot {
            state: current.state,
            user_active: current.user_status == UserStatus::Active,
            names: current.names.clone(),
            connected_clinic: integration(conn, ctx.site_id)?.map(|i| i.clm_id),
            user_clinic: stored.as_ref().map(|s| s.clm_id.clone()),
        };
        Ok(StartLoaded {
            rules,
            current,
            stored,
        })
    }

    fn decide(&self, loaded: StartLoaded) -> Result<StartWrite, ExerciseRefusal> {
        let decision = decide_start(&loaded.rules, self.action, self.names.as_ref())?;
        Ok(StartWrite {
            decision,
            current: loaded.current,
            stored: loaded.stored,
        })
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        StartWrite {
            decision,
            current,
            stored,
        }: StartWrite,
    ) -> StoreResult<(ExerciseUserView, JobRow)> {
        let payload = JobPayload {
            user_id: self.user,
            action: self.action,
            clm_id: decision.clm_id.clone(),
            first_name: decision.names.first_name.to_string(),
            last_name: decision.names.last_name.to_string(),
            provider_user_id: current.provider_user_id.clone(),
        };
        let job = outbox::enqueue(
            conn,
            ctx,
            decision.kind,
            Some(self.user),
            &serde_json::to_value(&payload).map_err(corrupt)?,
        )?;
        let at = now();
        let row = ExerciseUserRow {
            user_id: self.user,
            site_id: ctx.site_id,
            clm_id: decision.clm_id,
            state: ExerciseState::Pending,
            pending_action: Some(self.action),
            first_name: payload.first_name.clone(),
            last_name: payload.last_name.clone(),
            provider_user_id: current.provider_user_id.clone(),
            last_error: None,
            job_id: Some(job.id),
            version: stored.as_ref().map_or(1, |s| s.version + 1),
            created_at: stored.as_ref().map_or(at, |s| s.created_at),
            updated_at: at,
        };
        save(conn, &row, stored.is_some())?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::exercise_requested(self.action),
                target: AuditTarget::User(self.user),
                before: Some(json!({"state": current.state})),
                after: Some(json!({
                    "state": ExerciseState::Pending,
                    "action": self.action,
                    "job_id": job.id,
                    "first_name": payload.first_name,
                    "last_name": payload.last_name,
                })),
            },
        )?;
        Ok((get_user(conn, ctx.site_id, self.user)?, job))
    }
}

/// Runs [`StartAction`] without an answer to keep (for tests and the operator's tools).
pub fn start(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    user: UserId,
    action: ExerciseAction,
    names: Option<&ExerciseNames>,
) -> Result<(ExerciseUserView, JobRow), Failure<ExerciseRefusal>> {
    let names = names.cloned();
    usecase::run(
        conn,
        ctx,
        StartAction {
            user,
            action,
            names,
        },
        |out| out,
        None,
    )
}

/// Applies a finished job to the user's state: forward when the provider did it, back when
/// it refused (keeping its reason). A job that is no longer the user's latest changes
/// nothing. Runs inside the transaction of `outbox::finish`.
pub fn settle(conn: &mut DbConnection, job: &JobRow, outcome: &Outcome) -> StoreResult<()> {
    let payload: JobPayload = serde_json::from_str(&job.payload).map_err(corrupt)?;
    let user = payload.user_id;
    let Some(mut row) = stored_row(conn, user)? else {
        return Ok(());
    };
    if row.job_id != Some(job.id) {
        return Ok(());
    }
    let succeeded = matches!(outcome, Outcome::Succeeded { .. });
    let state = settle_state(payload.action, succeeded);
    row.state = state;
    row.pending_action = None;
    row.updated_at = now();
    row.version += 1;
    match outcome {
        Outcome::Succeeded { result } => {
            row.last_error = None;
            row.provider_user_id = if payload.action == ExerciseAction::Deactivate {
                None
            } else {
                result.get("id").and_then(|v| v.as_str()).map(str::to_owned)
            };
        }
        Outcome::Failed { error } | Outcome::RetryAt { error, .. } => {
            row.last_error = Some(error.clone());
        }
    }
    save(conn, &row, true)?;
    let ctx = job.audit_context();
    audit::record(
        conn,
        &ctx,
        Change {
            action: AuditAction::exercise_settled(payload.action, succeeded),
            target: AuditTarget::User(user),
            before: Some(json!({"state": ExerciseState::Pending, "job_id": job.id})),
            after: Some(json!({"state": state, "last_error": row.last_error})),
        },
    )?;
    if succeeded {
        notify(conn, &ctx, user, payload.action)?;
    }
    Ok(())
}

/// Tells the user by email that their access to the exercise tool changed.
fn notify(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    user: UserId,
    action: ExerciseAction,
) -> StoreResult<()> {
    let (email, first_name): (String, String) = users::table
        .find(user)
        .select((users::email, users::first_name))
        .first(conn)?;
    let (subject, body) = if action == ExerciseAction::Deactivate {
        (
            "Your exercise-prescription access has been removed",
            format!(
                "Hello {first_name},\n\nYour site administrator has removed your account \
                 from the exercise-prescription tool. Ask them if you need it back.\n"
            ),
        )
    } else {
        (
            "You can now use the exercise-prescription tool",
            format!(
                "Hello {first_name},\n\nYour site administrator has added you to the \
                 exercise-prescription tool. Open it from Staffroom to start prescribing.\n"
            ),
        )
    };
    crate::mail::queue(conn, ctx, Some(user), &email, subject, &body)?;
    Ok(())
}

/// Where a user's launch link comes from: the provider clinic and user, if the user is
/// active at the provider. While the site is disconnected, users who were added do not
/// launch either (`409 integration_not_connected`).
pub fn launch_target(
    conn: &mut DbConnection,
    site: SiteId,
    user: UserId,
) -> StoreResult<Option<(String, String)>> {
    let row = exercise_users::table
        .filter(exercise_users::site_id.eq(site))
        .filter(exercise_users::user_id.eq(user))
        .select(ExerciseUserRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let connected = integration(conn, site)?.is_some();
    let launches =
        may_launch(row.state, row.provider_user_id.is_some(), connected).map_err(refused)?;
    Ok(row
        .provider_user_id
        .filter(|_| launches)
        .map(|provider_user| (row.clm_id, provider_user)))
}
