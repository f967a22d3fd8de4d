//! Works the outbox (DESIGN.md): runs each job's provider call outside any transaction and
//! records the outcome with `staffroom_persistence::outbox::finish`.
//!
//! * A request that wrote a job calls [`Outbox::run_now`]: the job runs at once and the
//!   request waits for it up to a short budget. When the provider is slower, the call goes
//!   on in the background and the request answers with the `pending` state.
//! * [`Outbox::spawn_worker`] polls for due jobs (new ones nobody ran, and retries) in every
//!   `serve` process and in `staffroom worker`. Jobs are leased, so several processes on one
//!   database never work one job at the same time.
//! * A transient failure is retried with exponential backoff and jitter
//!   (`staffroom_domain::RetryPolicy`); a permanent one, or the last attempt, fails the job
//!   and its effect moves the state back. Every attempt sends the job's idempotency key.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde_json::{Value, json};
use staffroom_connectors::{
    EmailMessage, EmailSender, ExerciseProvider, ImagingProvider, ImagingUser, ImagingUserUpdate,
    NewExerciseUser, NewImagingUser, NewReferral, ProviderCode, ProviderError,
};
use staffroom_domain::imaging::{EMAIL_IN_USE, ImagingAction};
use staffroom_domain::{AfterFailure, JobFailure, JobKind, JobProgress, JobStatus, RetryPolicy};
use staffroom_persistence::exercise::{self, JobPayload};
use staffroom_persistence::imaging::connections::{self as imaging, SyncPayload};
use staffroom_persistence::imaging::referrals::{self, ReferralPayload};
use staffroom_persistence::mail::{self, MailPayload};
use staffroom_persistence::outbox::{self, Finished, JobRow, Outcome};
use staffroom_persistence::{DbConnection, Pool, StoreError, StoreResult};
use tokio::sync::watch;

use crate::provider_calls::{JobRunner, ProviderCalls};

/// How often a request checks on a job another worker is running.
const AWAIT_POLL: Duration = Duration::from_millis(20);

/// The providers jobs talk to.
#[derive(Clone)]
pub struct Providers {
    pub exercise: Arc<dyn ExerciseProvider>,
    pub imaging: Arc<dyn ImagingProvider>,
    pub email: Arc<dyn EmailSender>,
}

/// How the outbox is worked.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub policy: RetryPolicy,
    /// How long a claim holds a job; longer than any provider call can take.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs.
    pub poll: Duration,
    /// Jobs one worker runs at once.
    pub batch: i64,
    /// How long a request waits for the job it wrote before answering `pending`.
    pub inline_budget: Duration,
    /// Names this process in lease owners (`host:pid`).
    pub worker_name: String,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            policy: RetryPolicy::default(),
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            batch: 32,
            inline_budget: Duration::from_secs(2),
            worker_name: format!("staffroom-{}", std::process::id()),
        }
    }
}

/// The outbox worker shared by handlers and the background loop.
pub struct Outbox {
    pool: Pool,
    providers: Providers,
    config: OutboxConfig,
    /// Attempts made by this process, by job kind and outcome, for `/metrics`.
    attempts: Mutex<BTreeMap<(JobKind, &'static str), u64>>,
}

/// What running a job at once came to.
#[derive(Debug, Clone, PartialEq)]
enum RunNow {
    /// Finished within the budget with this outcome.
    Finished(Outcome),
    /// Still running (or waiting for a retry, or taken by another worker).
    Pending,
}

async fn blocking<T, F>(pool: &Pool, f: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
{
    crate::pool::blocking(pool, f)
        .await
        .map_err(|e| StoreError::Pool(format!("blocking task failed: {e}")))?
}

/// What a job's final outcome changes besides the job, in its recording transaction.
fn settle(c: &mut DbConnection, job: &JobRow, outcome: &Outcome) -> StoreResult<()> {
    match job.kind {
        JobKind::ExerciseCreateUser | JobKind::ExerciseDeleteUser => {
            exercise::settle(c, job, outcome)
        }
        JobKind::ImagingSyncUser => imaging::settle(c, job, outcome),
        JobKind::ImagingCreateReferral => referrals::settle(c, job, outcome),
        JobKind::EmailSend => mail::settle(c, job),
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Outbox {
    pub fn new(pool: Pool, providers: Providers, config: OutboxConfig) -> Self {
        Self {
            pool,
            providers,
            config,
            attempts: Mutex::new(BTreeMap::new()),
        }
    }

    /// The Prometheus text of this process's attempts.
    pub fn render_metrics(&self) -> String {
        use std::fmt::Write;
        let mut out = String::from(
            "# HELP staffroom_outbox_attempts_total Provider calls made for outbox jobs.\n\
             # TYPE staffroom_outbox_attempts_total counter\n",
        );
        if let Ok(attempts) = self.attempts.lock() {
            for ((kind, outcome), n) in attempts.iter() {
                let _ = writeln!(
                    out,
                    "staffroom_outbox_attempts_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out
    }

    /// What handlers get: this outbox as their job runner, and the exercise provider.
    pub fn calls(self: &Arc<Self>) -> ProviderCalls {
        ProviderCalls {
            jobs: Arc::new(InlineRunner(Arc::clone(self))),
            exercise: Arc::clone(&self.providers.exercise),
        }
    }

    /// Runs the job the request just wrote, waiting up to the inline budget. If a worker
    /// took the job first, waits the same budget for that worker's outcome instead.
    async fn run_now(self: &Arc<Self>, job: &JobRow) -> StoreResult<RunNow> {
        let deadline = tokio::time::Instant::now() + self.config.inline_budget;
        let owner = outbox::new_owner(&self.config.worker_name);
        let lease = chrono_duration(self.config.lease);
        let (id, claimer) = (job.id, owner.clone());
        let claimed = blocking(&self.pool, move |c| outbox::claim(c, id, &claimer, lease)).await?;
        let Some(job) = claimed else {
            return self.await_outcome(job, deadline).await;
        };
        let this = Arc::clone(self);
        let mut task = tokio::spawn(async move { this.work(owner, job).await });
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(Ok(Some(outcome)))) => Ok(RunNow::Finished(outcome)),
            Ok(Ok(Ok(None))) => Ok(RunNow::Pending),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(e)) => Err(StoreError::Pool(format!("outbox task failed: {e}"))),
            // The call goes on in the background and records its outcome itself.
            Err(_) => Ok(RunNow::Pending),
        }
    }

    /// Polls a job another worker holds until it is finished or `deadline` passes.
    async fn await_outcome(
        &self,
        job: &JobRow,
        deadline: tokio::time::Instant,
    ) -> StoreResult<RunNow> {
        loop {
            let (site, id) = (job.site_id, job.id);
            let row = blocking(&self.pool, move |c| outbox::get(c, site, id)).await?;
            match row.status {
                JobStatus::Succeeded => {
                    let result = row
                        .result
                        .as_deref()
                        .and_then(|r| serde_json::from_str(r).ok())
                        .unwrap_or(Value::Null);
                    return Ok(RunNow::Finished(Outcome::Succeeded { result }));
                }
                JobStatus::Failed => {
                    let error = row.last_error.unwrap_or_default();
                    return Ok(RunNow::Finished(Outcome::Failed { error }));
                }
                JobStatus::Pending => {}
            }
            if tokio::time::Instant::now() + AWAIT_POLL > deadline {
                return Ok(RunNow::Pending);
            }
            tokio::time::sleep(AWAIT_POLL).await;
        }
    }

    /// Claims due jobs and runs them together; returns how many it ran.
    pub async fn tick(self: &Arc<Self>) -> StoreResult<usize> {
        let (worker, lease, batch) = (
            self.config.worker_name.clone(),
            chrono_duration(self.config.lease),
            self.config.batch,
        );
        let claimed = blocking(&self.pool, move |c| {
            outbox::claim_due(c, &worker, lease, batch)
        })
        .await?;
        let ran = claimed.len();
        let mut running = tokio::task::JoinSet::new();
        for (owner, job) in claimed {
            let this = Arc::clone(self);
            running.spawn(async move {
                let outcome = this.attempt_outcome(&job).await;
                Finished {
                    job,
                    owner,
                    outcome,
                }
            });
        }
        let mut batch = Vec::with_capacity(ran);
        while let Some(done) = running.join_next().await {
            match done {
                Ok(finished) => batch.push(finished),
                Err(e) => tracing::error!(error = %e, "outbox job task failed"),
            }
        }
        // One transaction records the batch: on SQLite one commit, where a commit per job
        // would queue every job behind the requests' writes.
        let recorded = blocking(&self.pool, move |c| outbox::finish_all(c, &batch, settle)).await?;
        for failed in recorded.into_iter().filter_map(Result::err) {
            tracing::error!(error = %failed, "outbox job could not be recorded");
        }
        Ok(ran)
    }

    /// Polls for due jobs until `shutdown` turns true.
    pub fn spawn_worker(
        self: &Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            tracing::info!(worker = %this.config.worker_name, "outbox worker started");
            loop {
                if *shutdown.borrow() {
                    break;
                }
                let idle = match this.tick().await {
                    Ok(0) => true,
                    Ok(_) => false,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox poll failed");
                        true
                    }
                };
                if idle {
                    tokio::select! {
                        _ = tokio::time::sleep(this.config.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
            tracing::info!(worker = %this.config.worker_name, "outbox worker stopped");
        })
    }

    /// One attempt: the provider call, then its outcome recorded under the lease. `None` if
    /// the lease was lost meanwhile (another worker records the job).
    async fn work(self: Arc<Self>, owner: String, job: JobRow) -> StoreResult<Option<Outcome>> {
        let outcome = self.attempt_outcome(&job).await;
        let recorded = outcome.clone();
        let finished = blocking(&self.pool, move |c| {
            outbox::finish(c, &job, &owner, &recorded, settle)
        })
        .await?;
        Ok(finished.then_some(outcome))
    }

    /// The outcome of one attempt at `job`: the provider's result, or when to retry, or the
    /// failure; counted for `/metrics`.
    async fn attempt_outcome(&self, job: &JobRow) -> Outcome {
        let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
        let outcome = match self.attempt(job).await {
            Ok(result) => Outcome::Succeeded { result },
            Err(e) => {
                let jitter = rand::thread_rng().r#gen::<f64>();
                match self
                    .config
                    .policy
                    .after_failure(attempts, e.is_transient(), jitter)
                {
                    AfterFailure::RetryIn(delay) => Outcome::RetryAt {
                        at: staffroom_persistence::tx::now() + chrono_duration(delay),
                        error: e.to_string(),
                    },
                    AfterFailure::GiveUp if e.is_transient() => Outcome::Failed {
                        error: JobFailure::gave_up_after(attempts, &e),
                    },
                    AfterFailure::GiveUp => Outcome::Failed {
                        error: e.to_string(),
                    },
                }
            }
        };
        let label = match &outcome {
            Outcome::Succeeded { .. } => "succeeded",
            Outcome::RetryAt { .. } => "retry",
            Outcome::Failed { .. } => "failed",
        };
        tracing::info!(job = %job.id, kind = %job.kind, attempt = attempts, outcome = label,
            "outbox job attempted");
        if let Ok(mut counts) = self.attempts.lock() {
            *counts.entry((job.kind, label)).or_default() += 1;
        }
        outcome
    }

    /// The provider call a job stands for.
    async fn attempt(&self, job: &JobRow) -> Result<Value, ProviderError> {
        let unreadable = |e: serde_json::Error| ProviderError::Permanent {
            status: 0,
            code: Some(ProviderCode::UnreadableJob),
            reason: format!("the job's payload is not readable: {e}"),
        };
        let key = job.idempotency_key.as_str();
        match job.kind {
            JobKind::ExerciseCreateUser => {
                let p: JobPayload = serde_json::from_str(&job.payload).map_err(unreadable)?;
                let user = NewExerciseUser {
                    first_name: p.first_name,
                    last_name: p.last_name,
                    external_id: p.user_id.to_string(),
                };
                let created = self
                    .providers
                    .exercise
                    .create_user(&p.clm_id, &user, key)
                    .await?;
                Ok(json!({"id": created.id, "clm_id": created.clm_id}))
            }
            JobKind::ExerciseDeleteUser => {
                let p: JobPayload = serde_json::from_str(&job.payload).map_err(unreadable)?;
                if let Some(provider_user) = &p.provider_user_id {
                    self.providers
                        .exercise
                        .delete_user(&p.clm_id, provider_user, key)
                        .await?;
                }
                Ok(json!({"deleted": p.provider_user_id}))
            }
            JobKind::ImagingSyncUser => {
                let p: SyncPayload = serde_json::from_str(&job.payload).map_err(unreadable)?;
                let user = self
                    .sync_imaging_user(&p, key)
                    .await
                    .map_err(mark_email_in_use)?;
                serde_json::to_value(user).map_err(unreadable)
            }
            JobKind::ImagingCreateReferral => {
                let p: ReferralPayload = serde_json::from_str(&job.payload).map_err(unreadable)?;
                let referral = NewReferral {
                    patient_name: p.patient_name,
                    body_part: p.body_part,
                    notes: p.notes,
                    callback_url: p.callback_url,
                };
                let made = self
                    .providers
                    .imaging
                    .create_referral(&p.provider_user_id, &referral, key)
                    .await?;
                Ok(json!({"id": made.id, "status": made.status}))
            }
            JobKind::EmailSend => {
                let p: MailPayload = serde_json::from_str(&job.payload).map_err(unreadable)?;
                let message = EmailMessage {
                    to: p.to,
                    subject: p.subject,
                    body: p.body,
                };
                let sent = self.providers.email.send(&message, key).await?;
                Ok(json!({"id": sent.id}))
            }
        }
    }
}

impl Outbox {
    /// An `imaging.sync_user` job's call: create the provider user, or update (a re-link,
    /// an update) or read (a refresh, a reconnect) the one the connection names.
    async fn sync_imaging_user(
        &self,
        p: &SyncPayload,
        key: &str,
    ) -> Result<ImagingUser, ProviderError> {
        let imaging = &self.providers.imaging;
        let Some(provider_user) = &p.provider_user_id else {
            let user = NewImagingUser {
                title: p.title.clone(),
                first_name: p.first_name.clone(),
                last_name: p.last_name.clone(),
                email: p.email.clone(),
                marketing_opt_in: p.marketing_opt_in,
            };
            return imaging.create_user(&user, key).await;
        };
        if p.action == ImagingAction::Reconnect {
            return imaging.get_user(provider_user).await;
        }
        let update = ImagingUserUpdate {
            email: Some(p.email.clone()),
            marketing_opt_in: Some(p.marketing_opt_in),
        };
        imaging.update_user(provider_user, &update, key).await
    }
}

/// A provider refusal for an email another provider user holds, marked so the request
/// answers `409 email_in_use` (`staffroom_domain::imaging::refused_for_email_in_use`).
fn mark_email_in_use(e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Permanent {
            status,
            code: Some(ProviderCode::EmailInUse),
            reason,
        } => ProviderError::Permanent {
            status,
            code: Some(ProviderCode::EmailInUse),
            reason: format!("{EMAIL_IN_USE}: {reason}"),
        },
        other => other,
    }
}

/// The outbox as a request's [`JobRunner`].
struct InlineRunner(Arc<Outbox>);

#[async_trait::async_trait]
impl JobRunner for InlineRunner {
    async fn run(&self, job: &JobRow) -> JobProgress {
        // The job is committed: if running it at once fails for want of the database, a
        // worker runs it later, and it is pending rather than an error.
        match self.0.run_now(job).await {
            Ok(RunNow::Finished(Outcome::Succeeded { .. })) => JobProgress::Succeeded,
            Ok(RunNow::Finished(Outcome::Failed { error })) => {
                JobProgress::Failed(JobFailure::read(error))
            }
            Ok(RunNow::Finished(Outcome::RetryAt { .. }) | RunNow::Pending) => JobProgress::Pending,
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "could not run the job at once");
                JobProgress::Pending
            }
        }
    }

    fn metrics(&self) -> String {
        self.0.render_metrics()
    }
}

/// The embedded email sink: "sends" by keeping the message in the database, once per
/// idempotency key, for `staffroom mail list`. Messages sent at once (the outbox worker
/// sends its batch together) are kept in one transaction: the first to arrive starts a
/// task that takes every message waiting by the time it runs.
pub struct StoredMail {
    pool: Pool,
    waiting: Arc<Mutex<Vec<WaitingMail>>>,
}

/// A message waiting for the sink's next transaction, and where its row goes.
type WaitingMail = (
    String,
    MailPayload,
    tokio::sync::oneshot::Sender<Result<mail::SentMailRow, String>>,
);

impl StoredMail {
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            waiting: Arc::default(),
        }
    }

    /// Keeps every waiting message in one transaction and answers each sender.
    async fn store_waiting(pool: Pool, waiting: Arc<Mutex<Vec<WaitingMail>>>) {
        // Let the other sends of the batch join first.
        tokio::task::yield_now().await;
        let batch = waiting
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        let (messages, senders): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|(key, payload, sender)| ((key, payload), sender))
            .unzip();
        match blocking(&pool, move |c| mail::store_all(c, &messages)).await {
            Ok(rows) => {
                for (row, sender) in rows.into_iter().zip(senders) {
                    let _ = sender.send(Ok(row));
                }
            }
            Err(e) => {
                for sender in senders {
                    let _ = sender.send(Err(e.to_string()));
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl EmailSender for StoredMail {
    async fn send(
        &self,
        message: &EmailMessage,
        idempotency_key: &str,
    ) -> Result<staffroom_connectors::SentEmail, ProviderError> {
        let payload = MailPayload {
            to: message.to.clone(),
            subject: message.subject.clone(),
            body: message.body.clone(),
        };
        let (sender, stored) = tokio::sync::oneshot::channel();
        let first = {
            let mut waiting = self
                .waiting
                .lock()
                .map_err(|_| ProviderError::unreachable("mail store: lock poisoned".to_owned()))?;
            waiting.push((idempotency_key.to_owned(), payload, sender));
            waiting.len() == 1
        };
        if first {
            tokio::spawn(Self::store_waiting(
                self.pool.clone(),
                Arc::clone(&self.waiting),
            ));
        }
        let stored = stored
            .await
            .map_err(|_| "the store task stopped".to_owned())
            .and_then(|row| row)
            .map_err(|e| ProviderError::unreachable(format!("mail store: {e}")))?;
        Ok(staffroom_connectors::SentEmail {
            id: stored.id.to_string(),
        })
    }
}
