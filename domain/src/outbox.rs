//! The outbox's retry rules (SPEC §9 outbound reliability): what happens to a provider job
//! after an attempt fails. Transient failures are retried with exponential backoff and
//! jitter — for ever unless a deployment sets a limit, because an operation that gave up
//! after a timeout may have been carried out by the provider all the same; permanent
//! failures are final at once.

use std::time::Duration;

use crate::string_enum::string_enum;

string_enum! {
    /// Where an outbox job stands.
    pub enum JobStatus {
        /// Waiting for its first attempt or a retry (possibly leased by a worker right now).
        Pending => "pending",
        /// The provider carried it out.
        Succeeded => "succeeded",
        /// The provider refused it, or it ran out of the attempts a deployment allows; its
        /// effect was undone.
        Failed => "failed",
    }
}

string_enum! {
    /// What an outbox job does, which says how its payload reads and which provider it calls.
    pub enum JobKind {
        /// Sends one email message.
        EmailSend => "email.send",
        /// Creates (adds or reactivates) a user at the exercise provider.
        ExerciseCreateUser => "exercise.create_user",
        /// Deletes a user at the exercise provider.
        ExerciseDeleteUser => "exercise.delete_user",
        /// Creates, re-links, updates or refreshes a user's account at the imaging provider.
        ImagingSyncUser => "imaging.sync_user",
        /// Sends a scan referral to the imaging provider.
        ImagingCreateReferral => "imaging.create_referral",
    }
}

/// When to retry and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay before the second attempt (before jitter).
    pub base: Duration,
    /// No delay is longer than this.
    pub cap: Duration,
    /// Attempts in all, the first included, after which a transient failure fails the job;
    /// `None` retries transient failures for ever (a provider that is down never loses an
    /// operation).
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_attempts: None,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after this delay.
    RetryIn(Duration),
    /// Stop: the failure was permanent, or the job has used all its attempts.
    GiveUp,
}

impl RetryPolicy {
    /// The backoff before the attempt after `attempts` failed ones: `base · 2^(attempts-1)`,
    /// capped, with "equal jitter" — half of it fixed, half scaled by `jitter` in `[0, 1]` —
    /// so that jobs failing together do not all come back together.
    pub fn backoff(&self, attempts: u32, jitter: f64) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1_u32 << exponent).min(self.cap);
        let half = full / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// The decision after attempt number `attempts` (1 for the first) failed.
    pub fn after_failure(&self, attempts: u32, transient: bool, jitter: f64) -> AfterFailure {
        if !transient || self.max_attempts.is_some_and(|max| attempts >= max) {
            AfterFailure::GiveUp
        } else {
            AfterFailure::RetryIn(self.backoff(attempts, jitter))
        }
    }
}

/// How the error of a job that ran out of attempts on transient failures begins.
const GAVE_UP: &str = "gave up after ";

/// Why a job failed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// The provider refused the request; its reason.
    Refused(String),
    /// The provider stayed unavailable through every attempt allowed; the recorded error.
    GaveUp(String),
}

impl JobFailure {
    /// The error recorded for a job given up after `attempts` transient failures, the last
    /// one for `reason`.
    pub fn gave_up_after(attempts: u32, reason: impl std::fmt::Display) -> String {
        format!("{GAVE_UP}{attempts} attempts: {reason}")
    }

    /// Reads a failed job's recorded error back.
    pub fn read(error: String) -> Self {
        if error.starts_with(GAVE_UP) {
            Self::GaveUp(error)
        } else {
            Self::Refused(error)
        }
    }
}

/// How the job a request wrote stands when the request stops waiting for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobProgress {
    /// The provider carried it out within the wait.
    Succeeded,
    /// Still running or waiting for a retry: a worker finishes it.
    Pending,
    /// Failed for good; its effect was undone.
    Failed(JobFailure),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            max_attempts: Some(5),
        }
    }

    #[test]
    fn backoff_doubles_from_the_base() {
        let p = policy();
        // No jitter: half of the full delay.
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(3, 0.0), Duration::from_millis(200));
        // Full jitter: the full delay.
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(4, 1.0), Duration::from_millis(800));
    }

    #[test]
    fn backoff_is_capped_even_after_many_attempts() {
        let p = policy();
        assert_eq!(p.backoff(20, 1.0), Duration::from_secs(10));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(10));
    }

    #[test]
    fn permanent_failures_give_up_at_once() {
        assert_eq!(policy().after_failure(1, false, 0.5), AfterFailure::GiveUp);
    }

    #[test]
    fn transient_failures_retry_until_the_last_attempt() {
        let p = policy();
        for attempt in 1..5 {
            assert!(matches!(
                p.after_failure(attempt, true, 0.5),
                AfterFailure::RetryIn(_)
            ));
        }
        assert_eq!(p.after_failure(5, true, 0.5), AfterFailure::GiveUp);
    }

    #[test]
    fn without_a_limit_transient_failures_are_retried_for_ever_at_the_cap() {
        let p = RetryPolicy {
            max_attempts: None,
            ..policy()
        };
        for attempt in [1, 5, 1_000, u32::MAX] {
            assert!(matches!(
                p.after_failure(attempt, true, 1.0),
                AfterFailure::RetryIn(d) if d <= p.cap
            ));
        }
        assert_eq!(p.after_failure(1_000, false, 0.5), AfterFailure::GiveUp);
        assert_eq!(RetryPolicy::default().max_attempts, None);
    }

    #[test]
    fn a_given_up_job_reads_back_as_given_up_and_any_other_error_as_a_refusal() {
        let recorded = JobFailure::gave_up_after(3, "HTTP 503: busy");
        assert_eq!(recorded, "gave up after 3 attempts: HTTP 503: busy");
        assert_eq!(
            JobFailure::read(recorded.clone()),
            JobFailure::GaveUp(recorded)
        );
        assert_eq!(
            JobFailure::read("unknown clinic CLM-9".into()),
            JobFailure::Refused("unknown clinic CLM-9".into())
        );
    }

    proptest! {
        #[test]
        fn backoff_stays_between_half_and_all_of_the_capped_delay(
            attempts in 1u32..64, jitter in -1.0f64..2.0,
        ) {
            let p = policy();
            let full = p.backoff(attempts, 1.0);
            let got = p.backoff(attempts, jitter);
            prop_assert!(got >= full / 2 && got <= full);
            prop_assert!(full <= p.cap);
            // Never shorter than the previous attempt's minimum.
            prop_assert!(p.backoff(attempts + 1, 0.0) >= p.backoff(attempts, 0.0));
        }
    }
}
