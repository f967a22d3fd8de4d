//! `provider-sim --listen ADDR`: the provider simulator as its own process.
//!
//! Prints `provider-sim listening on http://ADDR` to stdout once the port is open, logs
//! to stderr (`RUST_LOG`, default `info`), and runs until Ctrl-C or SIGTERM. A bad
//! `--listen` or `--public-url` value exits with code 2, a port that cannot be bound with
//! code 1.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use staffroom_connectors::shutdown_signal;
use staffroom_connectors::sim::{self, SimArgs};
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> ExitCode {
    let args = SimArgs::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();

    let (addr, options) = match args.addr().and_then(|addr| Ok((addr, args.options()?))) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("provider-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let sim = match sim::start(addr, options).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("provider-sim: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };

    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "provider-sim listening on http://{}", sim.addr());
    let _ = stdout.flush();
    drop(stdout);

    shutdown_signal().await;
    tracing::info!("provider-sim shutting down");
    sim.stop().await;
    ExitCode::SUCCESS
}
