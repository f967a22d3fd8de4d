//! Per-credential rate limiting: a token bucket per principal (or per client address for
//! unauthenticated calls), refilled at `rate` per second up to `burst`. Over the limit the
//! answer is `429 rate_limited` with `Retry-After`. Buckets live in the process, so with
//! several instances each enforces the limit on the traffic it receives.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets idle this long are forgotten when the table grows.
const IDLE: Duration = Duration::from_secs(600);
/// Size at which idle buckets are pruned.
const PRUNE_AT: usize = 10_000;

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `rate` requests per second with bursts of `burst`; a rate of 0 disables limiting.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn disabled() -> Self {
        Self::new(0, 1)
    }

    /// False when the rate is 0: every request passes.
    pub fn enabled(&self) -> bool {
        self.rate > 0.0
    }

    /// Takes one token for `key` (an empty key is never limited); `Err(wait)` when none
    /// is left.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        if key.is_empty() {
            return Ok(());
        }
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, b| now.duration_since(b.last) < IDLE);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let refill = now.duration_since(bucket.last).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refills() {
        let limiter = RateLimiter::new(2, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("a", t0).is_ok());
        }
        let wait = limiter.check_at("a", t0).unwrap_err();
        assert!(wait <= Duration::from_millis(500));
        assert!(limiter.check_at("b", t0).is_ok(), "buckets are per key");
        assert!(
            limiter
                .check_at("a", t0 + Duration::from_millis(500))
                .is_ok()
        );
    }

    #[test]
    fn zero_rate_disables() {
        let limiter = RateLimiter::disabled();
        for _ in 0..1000 {
            assert!(limiter.check("a").is_ok());
        }
    }
}
