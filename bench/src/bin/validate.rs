//! Cost of checking request bodies against the contract (`BodyContract::violations`), the
//! step every JSON body goes through before serde: a valid `POST /v1/users` body, an
//! invalid one with several errors, and a 10,000-id `POST /v1/users/bulk-update` body.
//!
//! `validate` prints the median time per validation of each body; `validate count BODY N`
//! validates one body N times and prints nothing else, for counting instructions with
//! `valgrind --tool=callgrind` (run it with N and with 0, and divide the difference by N).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use staffroom_api::contract::BodyContract;
use staffroom_bench::median;

/// The bodies, by the name `count` takes: (name, schema, body).
fn bodies() -> Vec<(&'static str, &'static str, Value)> {
    let clinic = "0190c5d2-0000-7000-8000-000000000001";
    let user_ids: Vec<String> = (0..10_000)
        .map(|i| format!("0190c5d2-0000-7000-8000-{i:012}"))
        .collect();
    vec![
        (
            "create-valid",
            "CreateUserRequest",
            json!({
                "title": "Dr", "first_name": "Zoë", "last_name": "O'Brien",
                "email": "zoe.obrien@harbour.test", "user_type": "clinical", "profession": "PT",
                "permissions": ["start_soap_notes", "finish_soap_notes", "manage_schedule"],
                "clinic_ids": [clinic, "0190c5d2-0000-7000-8000-000000000002"],
                "default_clinic_id": clinic, "initial_password": "a long passphrase"
            }),
        ),
        (
            "create-invalid",
            "CreateUserRequest",
            json!({
                "first_name": "", "email": "nope", "user_type": "doctor", "title": 5,
                "permissions": ["site_admin", "fly"], "clinic_ids": ["x", clinic],
                "default_clinic_id": clinic, "status": "active"
            }),
        ),
        (
            "bulk-10000",
            "BulkUpdateRequest",
            json!({
                "user_ids": user_ids, "add_permissions": ["view_reports"],
                "add_clinic_ids": [clinic], "dry_run": false
            }),
        ),
    ]
}

/// Median time per validation over `rounds` rounds of `per_round` validations each.
fn time(contract: &BodyContract, schema: &str, body: &Value, per_round: u32) -> Duration {
    let rounds: Vec<Duration> = (0..31)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..per_round {
                std::hint::black_box(contract.violations(schema, std::hint::black_box(body)));
            }
            started.elapsed() / per_round
        })
        .collect();
    median(&rounds)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let contract = BodyContract::new(&staffroom_api::openapi::document());
    let built = started.elapsed();
    let bodies = bodies();
    if let [command, name, n] = args.as_slice()
        && command == "count"
    {
        let (_, schema, body) = bodies
            .iter()
            .find(|(b, _, _)| b == name)
            .ok_or_else(|| format!("no body {name}"))?;
        let n: u32 = n.parse().map_err(|e| format!("N: {e}"))?;
        for _ in 0..n {
            std::hint::black_box(contract.violations(schema, std::hint::black_box(body)));
        }
        return Ok(());
    }
    if !args.is_empty() {
        return Err("usage: validate [count BODY N]".to_owned());
    }
    if cfg!(debug_assertions) {
        println!("(debug build: measure with --release)");
    }
    println!(
        "document generated and contract built in {:.1} ms",
        built.as_secs_f64() * 1e3
    );
    for (name, schema, body) in &bodies {
        let errors = contract.violations(schema, body);
        let per_round = if name.starts_with("bulk") { 10 } else { 2_000 };
        let median = time(&contract, schema, body, per_round);
        let mut fields: Vec<String> = errors
            .iter()
            .map(|e| format!("{}:{}", e.field, e.code))
            .collect();
        fields.sort_unstable();
        println!(
            "{name:<15} {:>10.2} µs per validation (median of 31 rounds of {per_round}); {} errors {fields:?}",
            median.as_secs_f64() * 1e6,
            errors.len(),
        );
    }
    Ok(())
}
