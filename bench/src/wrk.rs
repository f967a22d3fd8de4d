//! Drives a URL with `wrk` (Debian's package) and reads its summary.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::BoxError;

/// What one `wrk` run measured.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub requests_per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Answers that were not 2xx or 3xx, and socket errors.
    pub failures: u64,
}

impl Run {
    /// The median of each figure of `runs`, separately; failures summed.
    pub fn median(runs: &[Run]) -> Run {
        let p50: Vec<Duration> = runs.iter().map(|r| r.p50).collect();
        let p99: Vec<Duration> = runs.iter().map(|r| r.p99).collect();
        Run {
            requests_per_second: crate::median_f64(
                runs.iter().map(|r| r.requests_per_second).collect(),
            ),
            p50: crate::median(&p50),
            p99: crate::median(&p99),
            failures: runs.iter().map(|r| r.failures).sum(),
        }
    }
}

/// One load: `connections` connections on `threads` threads for `duration`, with an optional
/// Lua script (for a method, body or a mix of requests) and extra headers.
pub struct Load<'a> {
    pub url: &'a str,
    pub threads: u32,
    pub connections: u32,
    pub duration: Duration,
    pub headers: &'a [String],
    pub script: Option<&'a Path>,
}

/// Fails with an installation hint when `wrk` is not on the path.
pub fn check_installed() -> Result<(), BoxError> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(_) => Err("wrk is not installed: apt-get install wrk".into()),
    }
}

impl Load<'_> {
    pub fn run(&self) -> Result<Run, BoxError> {
        let mut command = Command::new("wrk");
        command
            .arg(format!("-t{}", self.threads))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", self.duration.as_secs().max(1)))
            .arg("--latency");
        for header in self.headers {
            command.arg("-H").arg(header);
        }
        if let Some(script) = self.script {
            command.arg("-s").arg(script);
        }
        let output = command.arg(self.url).output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "wrk failed on {}: {text}{}",
                self.url,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        parse(&text).ok_or_else(|| format!("cannot read wrk's summary:\n{text}").into())
    }
}

/// Reads `Requests/sec`, the 50 % and 99 % latencies and the failure counts of `wrk --latency`.
pub fn parse(text: &str) -> Option<Run> {
    let mut run = Run {
        requests_per_second: 0.0,
        p50: Duration::ZERO,
        p99: Duration::ZERO,
        failures: 0,
    };
    let mut seen_rate = false;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rate] => {
                run.requests_per_second = rate.parse().ok()?;
                seen_rate = true;
            }
            ["50%", value] => run.p50 = duration(value)?,
            ["99%", value] => run.p99 = duration(value)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => run.failures += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                run.failures += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    seen_rate.then_some(run)
}

/// `812.00us`, `1.23ms`, `2.00s`, `1.50m` as `wrk` prints them.
fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Running 5s test @ http://127.0.0.1:1/v1/users
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  300.00us   9.00ms   90.00%
    Req/Sec     3.30k   100.00     3.50k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.50ms
     99%    2.75ms
  33000 requests in 5.00s, 10.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   6600.50
Transfer/sec:      2.00MB
";

    #[test]
    fn reads_rate_latencies_and_failures() {
        let run = parse(SAMPLE).unwrap();
        assert!((run.requests_per_second - 6600.5).abs() < 1e-9);
        assert_eq!(run.p50, Duration::from_micros(812));
        assert_eq!(run.p99, Duration::from_micros(2750));
        assert_eq!(run.failures, 7);
    }

    #[test]
    fn a_summary_without_a_rate_is_refused() {
        assert!(parse("wrk: connection refused").is_none());
        assert_eq!(duration("2.00s"), Some(Duration::from_secs(2)));
        assert_eq!(duration("12"), None);
    }
}
