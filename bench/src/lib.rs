//! What the benchmarks share: starting the server in-process against its own provider
//! simulator, logging in, and summarising timings.

use std::error::Error;
use std::time::Duration;

use serde_json::{Value, json};

pub mod clients;
pub mod process;
pub mod python;
pub mod seed;
pub mod wrk;

pub type BoxError = Box<dyn Error + Send + Sync>;

/// The allocator of the `staffroom` binary, in every bench executable, so that the server
/// role they start is the server that ships. The ceiling of `request-path` (the same
/// executable) runs on it as well: its ratios compare like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Logs in and returns the bearer token.
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> Result<String, BoxError> {
    let response = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    match body["access_token"].as_str() {
        Some(token) if status.is_success() => Ok(token.to_owned()),
        _ => Err(format!("login failed: {status} {body}").into()),
    }
}

/// Creates a SCIM token of the administrator's site (`POST /v1/scim-tokens`) and returns it,
/// for `Authorization: Bearer` on `/scim/v2`.
pub async fn scim_token(
    http: &reqwest::Client,
    base: &str,
    admin_token: &str,
) -> Result<String, BoxError> {
    let response = http
        .post(format!("{base}/v1/scim-tokens"))
        .bearer_auth(admin_token)
        .json(&json!({"name": "bench"}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    match body["token"].as_str() {
        Some(token) if status.is_success() => Ok(token.to_owned()),
        _ => Err(format!("SCIM token refused: {status} {body}").into()),
    }
}

/// A duration in milliseconds.
/// Site sizes from a `--sizes` flag: comma-separated counts, `_` allowed as in `100_000`.
pub fn parse_sizes(value: &str) -> Result<Vec<usize>, BoxError> {
    Ok(value
        .split(',')
        .map(|s| s.trim().replace('_', "").parse())
        .collect::<Result<_, _>>()?)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// How a figure compares with its target, as printed.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT MET" }
}

/// The median of `times` (zero when empty).
pub fn median(times: &[Duration]) -> Duration {
    percentile(times, 50.0)
}

/// The nearest-rank percentile `p` (0–100) of `times` (zero when empty).
pub fn percentile(times: &[Duration], p: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `values` (zero when empty).
pub fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

/// The least-squares slope of `points` (y per x); `None` with fewer than two distinct x.
/// Memory is sampled every few seconds and moves in steps (caches emptied and refilled, the
/// allocator returning pages), so two single samples measure a step as often as a trend;
/// the fitted line over all of them is the growth.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    fit(points).map(|f| f.slope)
}

/// A least-squares line and the standard error of its slope (`NAN` below three points).
#[derive(Debug, Clone, Copy)]
pub struct Fit {
    pub slope: f64,
    pub slope_error: f64,
}

/// Fits a line to `points`; `None` with fewer than two distinct x.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    #[allow(clippy::cast_precision_loss)]
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if points.len() < 2 || variance <= 0.0 {
        return None;
    }
    let slope = covariance / variance;
    let residuals: f64 = points
        .iter()
        .map(|p| (p.1 - mean_y - slope * (p.0 - mean_x)).powi(2))
        .sum();
    let slope_error = (residuals / (n - 2.0) / variance).sqrt();
    Some(Fit { slope, slope_error })
}

#[cfg(test)]
mod tests {
    use super::{fit, slope};

    #[test]
    fn the_slope_is_the_trend_not_the_last_step() {
        // 1 MB a minute with a 3 MB step up and back down between the samples.
        let points: Vec<(f64, f64)> = (0..31)
            .map(|i| {
                let minutes = f64::from(i) / 6.0;
                let step = if (10..20).contains(&i) { 3.0 } else { 0.0 };
                (minutes * 60.0, 100.0 + minutes + step)
            })
            .collect();
        let per_minute = slope(&points).map_or(f64::NAN, |s| s * 60.0);
        assert!((per_minute - 1.0).abs() < 0.35, "{per_minute}");
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 5.0)).collect();
        assert!(slope(&flat).is_some_and(|s| s.abs() < 1e-12));
        assert_eq!(slope(&[(1.0, 2.0)]), None);
        assert_eq!(slope(&[(1.0, 2.0), (1.0, 3.0)]), None);
    }

    #[test]
    fn the_error_grows_with_the_scatter_and_shrinks_with_the_samples() {
        let alternating = |n: i32, amplitude: f64| -> Vec<(f64, f64)> {
            (0..n)
                .map(|i| {
                    (
                        f64::from(i),
                        if i % 2 == 0 { amplitude } else { -amplitude },
                    )
                })
                .collect()
        };
        let error = |points: &[(f64, f64)]| fit(points).map_or(f64::NAN, |f| f.slope_error);
        let line: Vec<(f64, f64)> = (0..10)
            .map(|i| (f64::from(i), 2.0 * f64::from(i)))
            .collect();
        assert!(error(&line) < 1e-12);
        assert!(error(&alternating(30, 2.0)) > 1.9 * error(&alternating(30, 1.0)));
        assert!(error(&alternating(120, 1.0)) < error(&alternating(30, 1.0)) / 5.0);
    }
}
