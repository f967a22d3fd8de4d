//! The exercise integration's use-cases that reach the provider. Each runs the persistence
//! use-case (one site-locked transaction: snapshot, `domain` decision, the change with its
//! audit event and outbox job), then the provider side through `ProviderCalls`, and
//! returns what happened for the handler to map.

use staffroom_connectors::{LaunchLink, ProviderCode, ProviderError};
use staffroom_domain::{
    ActionAnswer, AfterRun, ClmId, ExerciseAction, ExerciseNames, FieldError, JobId, ProblemCode,
    SiteId, UserId, action_answer,
};
use staffroom_persistence::exercise::{self, ExerciseUserView, IntegrationRow, StartAction};
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::usecase;

use super::super::provider_problem;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// Confirms `clm_id` with the provider, then connects the site to that clinic (`If-Match`:
/// `expected_version`). A clinic the provider does not know stores nothing.
pub async fn connect(
    state: &AppState,
    ctx: AuditContext,
    clm_id: ClmId,
    expected_version: Option<i64>,
) -> Result<IntegrationRow, ApiError> {
    let clinic = state
        .providers
        .exercise
        .find_clinic(clm_id.as_str())
        .await
        .map_err(|e| clinic_refused(&clm_id, &e))?;
    db::run(state, move |c| {
        exercise::connect(c, &ctx, &clinic.clm_id, &clinic.name, expected_version)
    })
    .await
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

/// Where a started action stands when the request answers.
#[derive(Debug)]
pub struct Started {
    pub answer: ActionAnswer,
    /// The user's record read after the job ran (or was left running).
    pub view: ExerciseUserView,
    pub job: JobId,
}

/// Starts `action` for `user` (the add's `names` if sent), runs its job at once up to the
/// request budget, and reads where the user stands, whoever finished the job: this request
/// within its budget, or the call it left running in the background.
pub async fn act(
    state: &AppState,
    ctx: AuditContext,
    user: UserId,
    action: ExerciseAction,
    names: Option<ExerciseNames>,
) -> Result<Started, ApiError> {
    let site = ctx.site_id;
    let start = StartAction {
        user,
        action,
        names,
    };
    let (_, job) = db::run(state, move |c| {
        Ok(usecase::run(c, &ctx, start, |started| started, None))
    })
    .await??;
    let progress = state.providers.jobs.run(&job).await;
    let view = db::run(state, move |c| exercise::get_user(c, site, user)).await?;
    let after = AfterRun {
        latest_job: view.job_id == Some(job.id),
        state: view.state,
        last_error: view.last_error.clone(),
    };
    Ok(Started {
        answer: action_answer(action, progress, &after),
        view,
        job: job.id,
    })
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
