//! The exercise integration's use-cases that reach the provider. Each runs the persistence
//! use-case through `Act` (one site-locked transaction: snapshot, `domain` decision, the
//! change with its audit event and outbox job, and the idempotent answer), with the
//! provider side before it (confirming a clinic) or after it (the job, through
//! `ProviderCalls`), and returns the rendered answer.

use actix_web::http::StatusCode;
use staffroom_connectors::{LaunchLink, ProviderCode, ProviderError};
use staffroom_domain::{
    ActionAnswer, AfterRun, ClmId, ConfirmedClinic, ExerciseAction, ExerciseNames, FieldError,
    JobFailure, JobId, ProblemCode, SiteId, UserId, action_answer,
};
use staffroom_persistence::exercise::{
    self, ConnectSite, ExerciseUserView, IntegrationRow, StartAction,
};
use staffroom_persistence::outbox::JobRow;
use staffroom_persistence::tx::AuditContext;

use super::super::{provider_problem, provider_refused, provider_unavailable};
use super::types::{ExerciseIntegrationView, ExerciseUserStateView};
use crate::answer::Answer;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;
use crate::usecase::Act;

/// Confirms `clm_id` with the provider, then connects the site to that clinic (use-case
/// `ConnectSite`; `If-Match`: `expected_version`). A clinic the provider does not know
/// stores nothing.
pub async fn connect(
    act: Act,
    ctx: AuditContext,
    clm_id: ClmId,
    expected_version: Option<i64>,
) -> Result<Answer, ApiError> {
    let clinic = act
        .state()
        .providers
        .exercise
        .find_clinic(clm_id.as_str())
        .await
        .map_err(|e| clinic_refused(&clm_id, &e))?;
    let connect = ConnectSite {
        clinic: ConfirmedClinic {
            clm_id: clinic.clm_id,
            name: clinic.name,
        },
        expected_version,
    };
    act.run(ctx, connect, |row| integration_answer(Some(row)))
        .await
}

/// The site's connection with its `ETag` (`"0"` while the site is not connected).
pub fn integration_answer(row: Option<IntegrationRow>) -> Answer {
    let version = row.as_ref().map_or(0, |r| r.version);
    Answer::with_etag(version, &ExerciseIntegrationView::from(row))
}

/// The provider's answer to a clinic lookup that failed, as the `clm_id` field's problem
/// when the id is at fault.
fn clinic_refused(clm_id: &ClmId, e: &ProviderError) -> ApiError {
    let ProviderError::Permanent {
        code: Some(code), ..
    } = e
    else {
        return provider_problem(e);
    };
    match code {
        ProviderCode::UnknownClinic => {
            let message = format!("The provider does not know the clinic {clm_id}.");
            ApiError::validation(vec![FieldError::new(
                "clm_id",
                "invalid_clinic_id",
                message.clone(),
            )])
            .with_code(ProblemCode::InvalidClinicId, message)
        }
        ProviderCode::InvalidIdentifier => ApiError::field(
            "clm_id",
            "invalid_clinic_id",
            "clm_id cannot be a path segment such as . or ..",
        ),
        _ => provider_problem(e),
    }
}

/// Starts `action` for `user` (the add's `names` if sent): the use-case `StartAction`
/// commits the `pending` state, its job and the provisional answer, `202` with that state,
/// kept for an idempotent retry in the same transaction. The job then runs at once up to
/// the request budget, the user is read again, whoever finished the job (this request or
/// the call it left running in the background), and the final answer replaces the kept
/// one: `200` done, `202` still pending, or the provider's problem (which keeps nothing).
pub async fn act(
    act: Act,
    ctx: AuditContext,
    user: UserId,
    action: ExerciseAction,
    names: Option<ExerciseNames>,
) -> Result<Answer, ApiError> {
    let site = ctx.site_id;
    let start = StartAction {
        user,
        action,
        names,
    };
    let pending = |(view, job): (ExerciseUserView, JobRow)| (state_answer(view, true), job);
    let (job, provisional) = act.run_provisional(ctx, start, pending).await?;
    let state = provisional.state();
    let progress = state.providers.jobs.run(&job).await;
    let answer = db::run(state, move |c| exercise::get_user(c, site, user))
        .await
        .and_then(|view| {
            let after = AfterRun {
                latest_job: view.job_id == Some(job.id),
                state: view.state,
                last_error: view.last_error.clone(),
            };
            started_answer(action_answer(action, progress, &after), view, job.id)
        });
    provisional.settle(answer).await
}

/// The user's state, `200` (done) or `202` (`pending`: the provider has not answered yet).
fn state_answer(view: ExerciseUserView, pending: bool) -> Answer {
    let status = if pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Answer::json(status, &ExerciseUserStateView::from(view))
}

/// A started action's answer: `200` done, `202` pending, or the provider's problem with the
/// state the user is back in and the job.
fn started_answer(
    answer: ActionAnswer,
    view: ExerciseUserView,
    job: JobId,
) -> Result<Answer, ApiError> {
    let problem = match answer {
        ActionAnswer::Done => return Ok(state_answer(view, false)),
        ActionAnswer::Pending => return Ok(state_answer(view, true)),
        ActionAnswer::Failed(JobFailure::GaveUp(error)) => provider_unavailable(format!(
            "The provider stayed unavailable and the request was given up; the state is as \
             before ({error})."
        )),
        ActionAnswer::Failed(JobFailure::Refused(error)) => provider_refused(&error),
    };
    Err(problem
        .with("state", view.state.as_str())
        .with("job_id", job.to_string()))
}

/// A single-sign-on link for `user`; `None` unless they are active at the provider.
pub async fn launch(
    state: &AppState,
    site: SiteId,
    user: UserId,
) -> Result<Option<LaunchLink>, ApiError> {
    let target = db::run(state, move |c| exercise::launch_target(c, site, user)).await?;
    let Some((clm_id, provider_user)) = target else {
        return Ok(None);
    };
    let key = format!("staffroom-launch-{}", uuid::Uuid::new_v4());
    let link = state
        .providers
        .exercise
        .launch(&clm_id, &provider_user, &key)
        .await
        .map_err(|e| provider_problem(&e))?;
    Ok(Some(link))
}
