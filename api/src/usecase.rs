//! The API's half of the use-case shape (see `docs/architecture.md`): a handler parses its
//! input, builds one use-case and hands it to [`Act::run`] with how to render the result;
//! `Act` runs it in the site-locked transaction and, when the request holds an
//! `Idempotency-Key`, stores the rendered answer in the key's row in that same transaction.
//! A handler cannot forget the key: `Act` takes it from the request itself.

use std::sync::atomic::Ordering;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use staffroom_domain::{PrincipalKind, SiteId};
use staffroom_persistence::idempotency::{self as keys, HeldKey, StoredResponse};
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::usecase::{self, Keep, UseCase};
use std::future::{Ready, ready};
use std::sync::Arc;

use crate::answer::Answer;
use crate::db;
use crate::error::ApiError;
use crate::idempotency::{self, Held, IDEMPOTENCY_KEY, request_hash};
use crate::state::AppState;

/// What a handler needs to run a use-case: the application state, the idempotency key
/// its request reserved (if any), and whether the test-only exit switch names it.
pub struct Act {
    state: web::Data<AppState>,
    held: Option<Held>,
    /// The request's `Idempotency-Key` when the middleware could not hold it (a sign-in
    /// names its principal only by credentials), with the request's path and query.
    unheld: Option<(String, String)>,
    /// The stored answer a signed-in retry replays instead of running.
    replay: Option<StoredResponse>,
    /// Whether this `Act` holds the key itself and must free it when the change fails.
    releases: bool,
    exit_after_commit: bool,
}

impl FromRequest for Act {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return ready(Err(ApiError::internal()));
        };
        let exit_after_commit = state
            .exit_after_commit
            .as_deref()
            .is_some_and(|target| target == format!("{} {}", req.method(), req.path()));
        let held = req.extensions().get::<Held>().cloned();
        let unheld = req
            .headers()
            .get(IDEMPOTENCY_KEY)
            .and_then(|key| key.to_str().ok())
            .filter(|_| held.is_none() && req.method() == Method::POST)
            .map(|key| {
                (
                    key.to_owned(),
                    request_hash(req.path(), req.query_string(), b""),
                )
            });
        ready(Ok(Self {
            held,
            unheld,
            replay: None,
            releases: false,
            state,
            exit_after_commit,
        }))
    }
}

impl Act {
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Holds the request's `Idempotency-Key` under the principal its credentials proved
    /// (`kind`, `subject` of `site`): for a sign-in, whose key the middleware could not
    /// hold. A retry of a completed sign-in then replays its stored answer in [`Act::run`].
    pub async fn signed_in(
        mut self,
        site: SiteId,
        kind: PrincipalKind,
        subject: &str,
    ) -> Result<Self, ApiError> {
        let Some((key, hash)) = self.unheld.take() else {
            return Ok(self);
        };
        let scope = idempotency::scope(site, kind, subject);
        let held = HeldKey { scope, key };
        let (scope, key) = (held.scope.clone(), held.key.clone());
        self.replay = idempotency::reserve(&self.state, scope, key, hash).await?;
        if self.replay.is_none() {
            self.held = Some(Held {
                key: held,
                recorded: Arc::default(),
            });
            self.releases = true;
        }
        Ok(self)
    }

    /// Runs `use_case` for `ctx` and renders its result with `render`, all in one
    /// transaction with the idempotent answer (see `staffroom_persistence::usecase::run`).
    pub async fn run<U, F>(
        mut self,
        ctx: AuditContext,
        use_case: U,
        render: F,
    ) -> Result<Answer, ApiError>
    where
        U: UseCase + Send + 'static,
        U::Refusal: Send + 'static,
        ApiError: From<U::Refusal>,
        F: FnOnce(U::Output) -> Answer + Send + 'static,
    {
        if let Some(stored) = self.replay.take() {
            return Ok(idempotency::replay(stored));
        }
        self.commit(ctx, use_case, render, Answer::stored).await
    }

    /// Runs `use_case` like [`Act::run`] when its answer is not final at the commit: the
    /// request goes on after it (a provider call within the budget). `render` gives the
    /// provisional answer, stored with the change in its transaction so that a retry after a
    /// crash replays it, and what the request goes on with; the request ends with
    /// [`Provisional::settle`].
    pub async fn run_provisional<U, F, T>(
        self,
        ctx: AuditContext,
        use_case: U,
        render: F,
    ) -> Result<(T, Provisional), ApiError>
    where
        U: UseCase + Send + 'static,
        U::Refusal: Send + 'static,
        ApiError: From<U::Refusal>,
        F: FnOnce(U::Output) -> (Answer, T) + Send + 'static,
        T: Send + 'static,
    {
        let stored = |(answer, _): &(Answer, T)| answer.stored();
        let (_, then) = self.commit(ctx, use_case, render, stored).await?;
        Ok((
            then,
            Provisional {
                state: self.state,
                held: self.held,
            },
        ))
    }

    async fn commit<U, A, F>(
        &self,
        ctx: AuditContext,
        use_case: U,
        render: F,
        stored: fn(&A) -> StoredResponse,
    ) -> Result<A, ApiError>
    where
        U: UseCase + Send + 'static,
        U::Refusal: Send + 'static,
        ApiError: From<U::Refusal>,
        F: FnOnce(U::Output) -> A + Send + 'static,
        A: Send + 'static,
    {
        let key = self.held.as_ref().map(|held| held.key.clone());
        let pool = &self.state.pool;
        let outcome: Result<A, ApiError> = async move {
            let ran = crate::pool::blocking(pool, move |conn| {
                let keep = key.as_ref().map(|key| Keep { key, stored });
                Ok::<_, staffroom_persistence::StoreError>(usecase::run(
                    conn, &ctx, use_case, render, keep,
                ))
            })
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "blocking task failed");
                ApiError::internal()
            })??;
            Ok(ran?)
        }
        .await;
        let answer = match (outcome, &self.held) {
            (Ok(answer), _) => answer,
            (Err(error), Some(held)) if self.releases => {
                idempotency::release(&self.state, held.key.clone()).await;
                return Err(error);
            }
            (Err(error), _) => return Err(error),
        };
        if let Some(held) = &self.held {
            held.recorded.store(true, Ordering::SeqCst);
        }
        if self.exit_after_commit {
            // Test-only (`STAFFROOM_TEST_EXIT_AFTER_COMMIT`): die between the commit and the
            // answer, as a crash would, so a test can check what a retry gets.
            tracing::warn!("exiting after commit, as STAFFROOM_TEST_EXIT_AFTER_COMMIT asks");
            std::process::exit(86);
        }
        Ok(answer)
    }
}

/// A request whose provisional answer committed with its change (see
/// [`Act::run_provisional`]); it ends with [`Provisional::settle`].
pub struct Provisional {
    state: web::Data<AppState>,
    held: Option<Held>,
}

impl Provisional {
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Ends the request with its final answer: a success replaces the stored provisional
    /// answer, so a later retry replays the final one; a problem forgets the stored answer,
    /// so a retry acts again, as for every refused request (only successful answers are
    /// kept). Failing to store either is logged: the provisional answer then stays true of
    /// the moment it was given.
    pub async fn settle(self, answer: Result<Answer, ApiError>) -> Result<Answer, ApiError> {
        let Some(held) = self.held else {
            return answer;
        };
        let stored = answer.as_ref().ok().map(Answer::stored);
        let outcome = db::run(&self.state, move |c| match &stored {
            Some(stored) => keys::complete(c, &held.key, stored),
            None => keys::forget(c, &held.key),
        })
        .await;
        if let Err(error) = outcome {
            tracing::error!(%error, "cannot replace the provisional idempotent answer");
        }
        answer
    }
}
