//! A load from this process: `concurrency` clients sharing one HTTP client send `count`
//! requests between them, each taking the next index, and every request is timed from send
//! to the last byte of its answer. Unlike `wrk` it sends a different body per request and
//! keeps the first unexpected answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, StatusCode};

use crate::BoxError;

/// What one load measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Each request's latency, in no particular order.
    pub times: Vec<Duration>,
    pub wall: Duration,
    /// Requests answered with another status than the expected one, or not answered.
    pub errors: usize,
    /// The first of those: status and body, or the transport error.
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn requests_per_second(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let count = self.times.len() as f64;
        count / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Sends `request(i)` for every `i` in `0..count` from `concurrency` clients at once and
/// counts every answer that is not `expected`.
pub async fn send_all<F>(
    count: usize,
    concurrency: usize,
    expected: StatusCode,
    request: F,
) -> Result<Outcome, BoxError>
where
    F: Fn(usize) -> RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (request, next) = (request.clone(), next.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut errors: Vec<String> = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let sent = Instant::now();
                    let answer = exchange(request(i)).await;
                    times.push(sent.elapsed());
                    match answer {
                        Ok((status, _)) if status == expected => {}
                        Ok((status, body)) => errors.push(format!("{status}: {body}")),
                        Err(e) => errors.push(format!("no answer: {e}")),
                    }
                }
                (times, errors)
            })
        })
        .collect();
    let mut outcome = Outcome {
        times: Vec::with_capacity(count),
        wall: Duration::ZERO,
        errors: 0,
        first_error: None,
    };
    for client in clients {
        let (times, errors) = client.await?;
        outcome.times.extend(times);
        outcome.errors += errors.len();
        if outcome.first_error.is_none() {
            outcome.first_error = errors.into_iter().next();
        }
    }
    outcome.wall = started.elapsed();
    Ok(outcome)
}

/// The status and the whole body of one request.
async fn exchange(request: RequestBuilder) -> Result<(StatusCode, String), reqwest::Error> {
    let answer = request.send().await?;
    let status = answer.status();
    Ok((status, answer.text().await?))
}
