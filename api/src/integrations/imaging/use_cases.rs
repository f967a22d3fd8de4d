//! The imaging connection's use-cases that reach the provider: the persistence use-case
//! `StartCall` commits the `pending` connection, its job and the provisional `202` answer;
//! the job then runs at once up to the request budget and the final answer replaces the
//! kept one (the same shape as the exercise integration's actions).

use actix_web::http::StatusCode;
use staffroom_domain::imaging::{StartedAnswer, refused_for_email_in_use, started_answer};
use staffroom_domain::{JobFailure, ProblemCode, UserId};
use staffroom_persistence::imaging::connections::{self, ConnectionView, StartCall, Wanted};
use staffroom_persistence::outbox::JobRow;
use staffroom_persistence::tx::AuditContext;

use super::super::{provider_refused, provider_unavailable};
use super::types::ImagingConnectionView;
use crate::answer::Answer;
use crate::db;
use crate::error::ApiError;
use crate::usecase::Act;

/// The connection with its `ETag`: `200`, or `202` while a provider call is pending.
pub fn connection_answer(view: ConnectionView) -> Answer {
    let status = if view.state == staffroom_domain::imaging::ImagingState::Pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let version = view.version;
    Answer::json(status, &ImagingConnectionView::from(view))
        .header(actix_web::http::header::ETAG, crate::etag::format(version))
}

/// Starts a provider call for `user`'s connection (`StartCall`), runs its job up to the
/// budget and answers what it came to: `200` done, `202` pending, `409 email_in_use` or the
/// provider's problem with the connection back as it was.
pub async fn start(
    act: Act,
    ctx: AuditContext,
    user: UserId,
    wanted: Wanted,
    expected_version: Option<i64>,
) -> Result<Answer, ApiError> {
    let site = ctx.site_id;
    let call = StartCall {
        user,
        wanted,
        expected_version,
    };
    let pending = |(view, job): (ConnectionView, JobRow)| (connection_answer(view), job);
    let (job, provisional) = act.run_provisional(ctx, call, pending).await?;
    let state = provisional.state();
    let progress = state.providers.jobs.run(&job).await;
    let answer = db::run(state, move |c| connections::connection(c, site, user))
        .await
        .and_then(|view| {
            let latest = view.job_id == Some(job.id);
            match started_answer(progress, latest, view.state, view.last_error.clone()) {
                StartedAnswer::Done | StartedAnswer::Pending => Ok(connection_answer(view)),
                StartedAnswer::Failed(failure) => Err(failed(&failure)
                    .with("state", view.state.as_str())
                    .with("job_id", job.id.to_string())),
            }
        });
    provisional.settle(answer).await
}

fn failed(failure: &JobFailure) -> ApiError {
    match failure {
        JobFailure::Refused(error) if refused_for_email_in_use(error) => ApiError::new(
            ProblemCode::EmailInUse,
            "Another user of the imaging provider already has this email; nothing was changed.",
        ),
        JobFailure::Refused(error) => provider_refused(error),
        JobFailure::GaveUp(error) => provider_unavailable(format!(
            "The provider stayed unavailable and the request was given up; the connection is \
             as before ({error})."
        )),
    }
}
