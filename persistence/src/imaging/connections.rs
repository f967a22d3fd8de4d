//! A user's own connection to the imaging (scan-referral) provider (SPEC §6.2). The rules
//! are the domain's (`staffroom_domain::imaging`); this module stores what they decide.
//!
//! Connecting, updating and reconnecting call the provider: the use-case [`StartCall`]
//! writes, in one transaction, the `pending` connection, its outbox job
//! (`imaging.sync_user`) and the audit event; [`settle`] moves the connection on (or back)
//! in the transaction that records the job's outcome. Disconnecting and forgetting change
//! only Staffroom's record ([`Leave`]); a forgotten provider user is kept in
//! `imaging_forgotten`, so that connecting again with its email re-links it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use staffroom_domain::imaging::{
    ConnectPlan, ForgottenConnection, ImagingAction, ImagingDetails, ImagingRefusal, ImagingState,
    begin, plan_connect, settle as settle_state,
};
use staffroom_domain::{
    AuditAction, AuditTarget, Email, JobId, JobKind, PersonName, SiteId, UserId,
};

use super::switch::switch_of;
use crate::audit::{self, Change};
use crate::outbox::{self, JobRow, Outcome};
use crate::schema::{imaging_connections, imaging_forgotten, users};
use crate::tx::{AuditContext, check_version, now};
use crate::usecase::UseCase;
use crate::{DbConnection, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = imaging_connections, treat_none_as_null = true)]
pub struct ConnectionRow {
    pub user_id: UserId,
    pub site_id: SiteId,
    pub state: ImagingState,
    pub pending_action: Option<ImagingAction>,
    pub pending_from: Option<ImagingState>,
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub marketing_opt_in: bool,
    pub provider_user_id: Option<String>,
    pub relinked: bool,
    pub last_error: Option<String>,
    pub job_id: Option<JobId>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = imaging_forgotten)]
struct ForgottenRow {
    user_id: UserId,
    provider_user_id: String,
    site_id: SiteId,
    title: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    marketing_opt_in: bool,
    forgotten_at: NaiveDateTime,
}

/// A user's connection as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionView {
    pub user_id: UserId,
    pub state: ImagingState,
    pub pending_action: Option<ImagingAction>,
    /// The state a pending call started from.
    pub pending_from: Option<ImagingState>,
    /// The details the provider holds; prefilled from the profile while not connected.
    pub details: ImagingDetails,
    pub provider_user_id: Option<String>,
    pub relinked: bool,
    pub last_error: Option<String>,
    pub job_id: Option<JobId>,
    /// The stored record's version (its ETag); 0 while nothing is stored.
    pub version: i64,
    pub updated_at: Option<NaiveDateTime>,
}

/// What the outbox job carries: the call to make and the details to make it with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPayload {
    pub user_id: UserId,
    pub action: ImagingAction,
    /// Where a refusal leaves the connection.
    pub from: ImagingState,
    /// The provider user to update or refresh (or re-link); none: create one.
    pub provider_user_id: Option<String>,
    pub relink: bool,
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub marketing_opt_in: bool,
}

/// The provider user a successful job answered with.
#[derive(Debug, Clone, Deserialize)]
struct ProviderUser {
    id: String,
    title: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    marketing_opt_in: bool,
}

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::corrupt(e)
}

fn details_of(
    title: Option<&str>,
    first: &str,
    last: &str,
    email: &str,
    marketing_opt_in: bool,
) -> StoreResult<ImagingDetails> {
    Ok(ImagingDetails {
        title: title
            .filter(|t| !t.trim().is_empty())
            .map(PersonName::parse)
            .transpose()
            .map_err(corrupt)?,
        first_name: PersonName::parse(first).map_err(corrupt)?,
        last_name: PersonName::parse(last).map_err(corrupt)?,
        email: Email::parse(email).map_err(corrupt)?,
        marketing_opt_in,
    })
}

fn details_json(d: &ImagingDetails) -> serde_json::Value {
    json!({
        "title": d.title.as_ref().map(PersonName::as_str),
        "first_name": d.first_name.as_str(),
        "last_name": d.last_name.as_str(),
        "email": d.email.as_str(),
        "marketing_opt_in": d.marketing_opt_in,
    })
}

type ProfileColumns = (
    UserId,
    Option<String>,
    String,
    String,
    String,
    Option<ConnectionRow>,
);

/// The user's connection (`NotFound` for another site's user).
pub fn connection(
    conn: &mut DbConnection,
    site: SiteId,
    user: UserId,
) -> StoreResult<ConnectionView> {
    let (user_id, title, first, last, email, row): ProfileColumns = users::table
        .left_join(imaging_connections::table)
        .filter(users::site_id.eq(site))
        .filter(users::id.eq(user))
        .select((
            users::id,
            users::title,
            users::first_name,
            users::last_name,
            users::email,
            Option::<ConnectionRow>::as_select(),
        ))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let profile = || details_of(title.as_deref(), &first, &last, &email, false);
    let Some(row) = row else {
        return Ok(ConnectionView {
            user_id,
            state: ImagingState::NotConnected,
            pending_action: None,
            pending_from: None,
            details: profile()?,
            provider_user_id: None,
            relinked: false,
            last_error: None,
            job_id: None,
            version: 0,
            updated_at: None,
        });
    };
    let details = if matches!(
        row.state,
        ImagingState::NotConnected | ImagingState::Forgotten
    ) {
        profile()?
    } else {
        details_of(
            row.title.as_deref(),
            &row.first_name,
            &row.last_name,
            &row.email,
            row.marketing_opt_in,
        )?
    };
    Ok(ConnectionView {
        user_id,
        state: row.state,
        pending_action: row.pending_action,
        pending_from: row.pending_from,
        details,
        provider_user_id: row.provider_user_id,
        relinked: row.relinked,
        last_error: row.last_error,
        job_id: row.job_id,
        version: row.version,
        updated_at: Some(row.updated_at),
    })
}

fn stored_row(conn: &mut DbConnection, user: UserId) -> StoreResult<Option<ConnectionRow>> {
    Ok(imaging_connections::table
        .find(user)
        .select(ConnectionRow::as_select())
        .first(conn)
        .optional()?)
}

fn save(conn: &mut DbConnection, row: &ConnectionRow, exists: bool) -> StoreResult<()> {
    if exists {
        diesel::update(imaging_connections::table.find(row.user_id))
            .set(row)
            .execute(conn)?;
    } else {
        diesel::insert_into(imaging_connections::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The provider users `user` forgot, the most recently forgotten first.
fn forgotten(conn: &mut DbConnection, user: UserId) -> StoreResult<Vec<ForgottenConnection>> {
    let rows: Vec<ForgottenRow> = imaging_forgotten::table
        .filter(imaging_forgotten::user_id.eq(user))
        .order(imaging_forgotten::forgotten_at.desc())
        .select(ForgottenRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(ForgottenConnection {
                details: details_of(
                    r.title.as_deref(),
                    &r.first_name,
                    &r.last_name,
                    &r.email,
                    r.marketing_opt_in,
                )?,
                provider_user_id: r.provider_user_id,
            })
        })
        .collect()
}

/// What a provider call asks for.
#[derive(Debug, Clone)]
pub enum Wanted {
    /// Connect with these details (re-linking a forgotten provider user by its email).
    Connect(ImagingDetails),
    /// Change the email or the marketing choice (what is `None` stays).
    Update {
        email: Option<Email>,
        marketing_opt_in: Option<bool>,
    },
    /// Refresh a connected user, or reconnect a disconnected one with its details.
    Reconnect,
}

impl Wanted {
    const fn action(&self) -> ImagingAction {
        match self {
            Self::Connect(_) => ImagingAction::Connect,
            Self::Update { .. } => ImagingAction::Update,
            Self::Reconnect => ImagingAction::Reconnect,
        }
    }
}

/// `POST /v1/me/integrations/imaging/connect`, `PATCH …` and `POST …/reconnect`
/// (use-case): the snapshot is the connection, the site's switch and the forgotten provider
/// users; `imaging::begin` and `plan_connect` decide; the write stores the `pending`
/// connection with the outbox job and the audit event.
#[derive(Debug, Clone)]
pub struct StartCall {
    pub user: UserId,
    pub wanted: Wanted,
    pub expected_version: Option<i64>,
}

/// What a call reads: the connection, its stored row, the switch and the forgotten users.
pub struct CallSnapshot {
    current: ConnectionView,
    stored: Option<ConnectionRow>,
    enabled: bool,
    forgotten: Vec<ForgottenConnection>,
}

/// What a call writes: the job's payload, with the records it builds on.
pub struct CallDecision {
    payload: SyncPayload,
    current: ConnectionView,
    stored: Option<ConnectionRow>,
}

fn payload_of(
    user: UserId,
    action: ImagingAction,
    from: ImagingState,
    provider_user_id: Option<String>,
    relink: bool,
    d: &ImagingDetails,
) -> SyncPayload {
    SyncPayload {
        user_id: user,
        action,
        from,
        provider_user_id,
        relink,
        title: d.title.as_ref().map(ToString::to_string),
        first_name: d.first_name.to_string(),
        last_name: d.last_name.to_string(),
        email: d.email.to_string(),
        marketing_opt_in: d.marketing_opt_in,
    }
}

impl UseCase for StartCall {
    type Snapshot = CallSnapshot;
    type Decision = CallDecision;
    type Refusal = ImagingRefusal;
    type Output = (ConnectionView, JobRow);

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<CallSnapshot> {
        let current = connection(conn, ctx.site_id, self.user)?;
        check_version(self.expected_version, current.version)?;
        Ok(CallSnapshot {
            stored: stored_row(conn, self.user)?,
            enabled: switch_of(conn, ctx.site_id)?.enabled,
            forgotten: forgotten(conn, self.user)?,
            current,
        })
    }

    fn decide(&self, s: CallSnapshot) -> Result<CallDecision, ImagingRefusal> {
        let action = self.wanted.action();
        let from = s.current.state;
        begin(from, action, s.enabled)?;
        let (provider_user_id, relink, details) = match &self.wanted {
            Wanted::Connect(wanted) => match plan_connect(wanted.clone(), &s.forgotten) {
                ConnectPlan::Create(details) => (None, false, details),
                ConnectPlan::Relink {
                    provider_user_id,
                    details,
                } => (Some(provider_user_id), true, details),
            },
            Wanted::Update {
                email,
                marketing_opt_in,
            } => {
                let mut details = s.current.details.clone();
                if let Some(email) = email {
                    details.email = email.clone();
                }
                if let Some(opt_in) = marketing_opt_in {
                    details.marketing_opt_in = *opt_in;
                }
                (s.current.provider_user_id.clone(), false, details)
            }
            Wanted::Reconnect => (
                s.current.provider_user_id.clone(),
                false,
                s.current.details.clone(),
            ),
        };
        Ok(CallDecision {
            payload: payload_of(self.user, action, from, provider_user_id, relink, &details),
            current: s.current,
            stored: s.stored,
        })
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        d: CallDecision,
    ) -> StoreResult<(ConnectionView, JobRow)> {
        let p = &d.payload;
        let job = outbox::enqueue(
            conn,
            ctx,
            JobKind::ImagingSyncUser,
            Some(self.user),
            &serde_json::to_value(p).map_err(corrupt)?,
        )?;
        let at = now();
        let connecting = p.action == ImagingAction::Connect;
        // A connect shows what it sends; an update or a refresh keeps the details the
        // provider holds until it answers.
        let shown = d.stored.as_ref().filter(|_| !connecting);
        let row = ConnectionRow {
            user_id: self.user,
            site_id: ctx.site_id,
            state: ImagingState::Pending,
            pending_action: Some(p.action),
            pending_from: Some(p.from),
            title: shown.map_or_else(|| p.title.clone(), |s| s.title.clone()),
            first_name: shown.map_or_else(|| p.first_name.clone(), |s| s.first_name.clone()),
            last_name: shown.map_or_else(|| p.last_name.clone(), |s| s.last_name.clone()),
            email: shown.map_or_else(|| p.email.clone(), |s| s.email.clone()),
            marketing_opt_in: shown.map_or(p.marketing_opt_in, |s| s.marketing_opt_in),
            provider_user_id: d.current.provider_user_id.clone(),
            relinked: d.current.relinked,
            last_error: None,
            job_id: Some(job.id),
            version: d.stored.as_ref().map_or(1, |s| s.version + 1),
            created_at: d.stored.as_ref().map_or(at, |s| s.created_at),
            updated_at: at,
        };
        save(conn, &row, d.stored.is_some())?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::imaging_requested(p.action),
                target: AuditTarget::User(self.user),
                before: Some(json!({"state": d.current.state})),
                after: Some(json!({
                    "state": ImagingState::Pending,
                    "action": p.action,
                    "job_id": job.id,
                    "relink": p.relink,
                    "email": p.email,
                    "marketing_opt_in": p.marketing_opt_in,
                })),
            },
        )?;
        Ok((connection(conn, ctx.site_id, self.user)?, job))
    }
}

/// `POST /v1/me/integrations/imaging/disconnect` and `…/forget` (use-case): only
/// Staffroom's record changes; forgetting keeps the provider user and its details so that
/// the same email re-links it.
#[derive(Debug, Clone)]
pub struct Leave {
    pub user: UserId,
    /// `Disconnect` or `Forget`.
    pub action: ImagingAction,
    pub expected_version: Option<i64>,
}

/// What leaving reads and writes on: the connection and its stored row.
pub struct LeaveOn {
    current: ConnectionView,
    stored: Option<ConnectionRow>,
    enabled: bool,
}

impl UseCase for Leave {
    type Snapshot = LeaveOn;
    type Decision = LeaveOn;
    type Refusal = ImagingRefusal;
    type Output = ConnectionView;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<LeaveOn> {
        let current = connection(conn, ctx.site_id, self.user)?;
        check_version(self.expected_version, current.version)?;
        Ok(LeaveOn {
            stored: stored_row(conn, self.user)?,
            enabled: switch_of(conn, ctx.site_id)?.enabled,
            current,
        })
    }

    fn decide(&self, on: LeaveOn) -> Result<LeaveOn, ImagingRefusal> {
        begin(on.current.state, self.action, on.enabled)?;
        Ok(on)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        on: LeaveOn,
    ) -> StoreResult<ConnectionView> {
        let Some(mut row) = on.stored else {
            return Err(corrupt("a connection to leave has no stored row"));
        };
        let state = settle_state(on.current.state, self.action, true);
        if self.action == ImagingAction::Forget {
            forget(conn, &row)?;
            row.provider_user_id = None;
            row.relinked = false;
        }
        row.state = state;
        row.last_error = None;
        row.version += 1;
        row.updated_at = now();
        save(conn, &row, true)?;
        audit::record(
            conn,
            ctx,
            Change {
                action: AuditAction::imaging_requested(self.action),
                target: AuditTarget::User(self.user),
                before: Some(json!({"state": on.current.state})),
                after: Some(json!({"state": state})),
            },
        )?;
        connection(conn, ctx.site_id, self.user)
    }
}

/// Keeps the provider user of `row` with its details, for a later re-link.
fn forget(conn: &mut DbConnection, row: &ConnectionRow) -> StoreResult<()> {
    let Some(provider_user_id) = row.provider_user_id.clone() else {
        return Ok(());
    };
    diesel::delete(imaging_forgotten::table.find((row.user_id, &provider_user_id)))
        .execute(conn)?;
    diesel::insert_into(imaging_forgotten::table)
        .values(ForgottenRow {
            user_id: row.user_id,
            provider_user_id,
            site_id: row.site_id,
            title: row.title.clone(),
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            email: row.email.clone(),
            marketing_opt_in: row.marketing_opt_in,
            forgotten_at: now(),
        })
        .execute(conn)?;
    Ok(())
}

/// Applies a finished `imaging.sync_user` job: the connection takes the provider's user
/// (connected) when it succeeded, or goes back to where the call started, keeping the
/// reason. A job that is no longer the connection's latest changes nothing. Runs inside the
/// transaction of `outbox::finish`.
pub fn settle(conn: &mut DbConnection, job: &JobRow, outcome: &Outcome) -> StoreResult<()> {
    let payload: SyncPayload = serde_json::from_str(&job.payload).map_err(corrupt)?;
    let Some(mut row) = stored_row(conn, payload.user_id)? else {
        return Ok(());
    };
    if row.job_id != Some(job.id) {
        return Ok(());
    }
    let succeeded = matches!(outcome, Outcome::Succeeded { .. });
    row.state = settle_state(payload.from, payload.action, succeeded);
    row.pending_action = None;
    row.pending_from = None;
    row.updated_at = now();
    row.version += 1;
    match outcome {
        Outcome::Succeeded { result } => {
            let user: ProviderUser = serde_json::from_value(result.clone()).map_err(corrupt)?;
            row.title = user.title;
            row.first_name = user.first_name;
            row.last_name = user.last_name;
            row.email = user.email;
            row.marketing_opt_in = user.marketing_opt_in;
            row.last_error = None;
            if payload.action == ImagingAction::Connect {
                row.relinked = payload.relink;
                diesel::delete(imaging_forgotten::table.find((row.user_id, &user.id)))
                    .execute(conn)?;
            }
            row.provider_user_id = Some(user.id);
        }
        Outcome::Failed { error } | Outcome::RetryAt { error, .. } => {
            row.last_error = Some(error.clone());
            if payload.action == ImagingAction::Connect {
                row.provider_user_id = None;
                row.relinked = false;
            }
        }
    }
    save(conn, &row, true)?;
    audit::record(
        conn,
        &job.audit_context(),
        Change {
            action: AuditAction::imaging_settled(payload.action, succeeded),
            target: AuditTarget::User(payload.user_id),
            before: Some(json!({"state": ImagingState::Pending, "job_id": job.id})),
            after: Some(json!({
                "state": row.state,
                "provider_user_id": row.provider_user_id,
                "relinked": row.relinked,
                "last_error": row.last_error,
            })),
        },
    )
}

/// The details of a connection, as the audit and the API write them.
pub fn details_value(details: &ImagingDetails) -> serde_json::Value {
    details_json(details)
}
