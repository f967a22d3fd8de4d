//! What handlers may do with providers: run the outbox job their transaction wrote and hear
//! how it stands once the wait is over, and call the exercise provider directly (confirm a
//! clinic, a launch link). The runner behind [`JobRunner`] and the provider clients are
//! built at start-up (`outbox`, `providers`); no handler sees them.

use std::sync::Arc;

use staffroom_connectors::ExerciseProvider;
use staffroom_domain::JobProgress;
use staffroom_persistence::outbox::JobRow;

/// Runs a job a request just committed.
#[async_trait::async_trait]
pub trait JobRunner: Send + Sync {
    /// Runs `job` at once and waits for it up to the request budget. A job still running
    /// then, or one that could not be started (a worker takes it later), is pending.
    async fn run(&self, job: &JobRow) -> JobProgress;

    /// The Prometheus text of the provider calls this process made.
    fn metrics(&self) -> String;
}

/// The providers as handlers see them.
#[derive(Clone)]
pub struct ProviderCalls {
    pub jobs: Arc<dyn JobRunner>,
    pub exercise: Arc<dyn ExerciseProvider>,
}
