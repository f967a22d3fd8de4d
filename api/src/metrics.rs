//! Prometheus metrics: request counts and latency per route and status, and the state of
//! the database pool, rendered as the text `GET /metrics` serves.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

/// Counters shared by every worker of one process.
#[derive(Default)]
pub struct Metrics {
    registry: Mutex<Registry>,
}

impl Metrics {
    /// Records one handled request; `route` is the matched pattern (`/v1/users/{id}`).
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut registry) = self.registry.lock() else {
            return;
        };
        *registry
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let histogram = registry
            .latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                histogram.counts[i] += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The Prometheus text exposition of everything recorded.
    pub fn render(&self, pool: &staffroom_persistence::Pool) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let state = pool.state();
        gauge(
            &mut out,
            "staffroom_db_pool_connections",
            "Open database connections.",
            state.connections.into(),
        );
        gauge(
            &mut out,
            "staffroom_db_pool_idle_connections",
            "Idle database connections.",
            state.idle_connections.into(),
        );
        let sqlite = staffroom_persistence::sqlite_memory();
        gauge(
            &mut out,
            "staffroom_sqlite_memory_bytes",
            "Heap held by SQLite in this process: page caches, statements, schema (0 on PostgreSQL).",
            sqlite.used,
        );
        gauge(
            &mut out,
            "staffroom_sqlite_memory_highwater_bytes",
            "The most heap SQLite has held at once in this process.",
            sqlite.highwater,
        );
        let Ok(registry) = self.registry.lock() else {
            return out;
        };
        let _ = writeln!(
            out,
            "# HELP staffroom_http_requests_total HTTP requests handled."
        );
        let _ = writeln!(out, "# TYPE staffroom_http_requests_total counter");
        for ((method, route, status), n) in &registry.requests {
            let _ = writeln!(
                out,
                "staffroom_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP staffroom_http_request_duration_seconds Time to answer."
        );
        let _ = writeln!(
            out,
            "# TYPE staffroom_http_request_duration_seconds histogram"
        );
        for ((method, route), h) in &registry.latency {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "staffroom_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "staffroom_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "staffroom_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "staffroom_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out
    }
}

fn gauge(out: &mut String, name: &str, help: &str, value: i64) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        let m = Metrics::default();
        m.record("GET", "/v1/users", 200, Duration::from_millis(3));
        m.record("GET", "/v1/users", 200, Duration::from_millis(300));
        let registry = m.registry.lock().unwrap();
        let h = &registry.latency[&("GET".to_owned(), "/v1/users".to_owned())];
        assert_eq!(h.count, 2);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[BUCKETS.len() - 1], 2);
        assert_eq!(
            registry.requests[&("GET".to_owned(), "/v1/users".to_owned(), 200)],
            2
        );
    }
}
