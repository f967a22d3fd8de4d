//! `provider-sim --listen ADDR`: the provider simulator as its own process.
//!
//! Prints `provider-sim listening on http://ADDR` to stdout once the port is open, logs
//! to stderr (`RUST_LOG`, default `info`), and runs until Ctrl-C or SIGTERM. A bad
//! `--listen` value exits with code 2, a port that cannot be bound with code 1.

use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use clap::Parser;
use staffroom_connectors::shutdown_signal;
use staffroom_connectors::sim::{self, SimOptions};
use tracing_subscriber::EnvFilter;

/// Plays the exercise, imaging and email provider APIs (WIRE.md) for demos and tests.
#[derive(Debug, Parser)]
#[command(name = "provider-sim", version)]
struct Args {
    /// Address to listen on (HOST:PORT; port 0 picks a free one).
    #[arg(long, env = "PROVIDER_SIM_LISTEN", default_value = "127.0.0.1:9090")]
    listen: String,

    /// The only bearer key accepted; without it any non-empty key is.
    #[arg(long, env = "PROVIDER_SIM_API_KEY")]
    api_key: Option<String>,
}

fn resolve(listen: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        return Ok(addr);
    }
    listen
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| "resolves to no address".to_owned())
}

#[actix_web::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();

    let addr = match resolve(&args.listen) {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!(
                "provider-sim: invalid --listen value {:?}: {e}",
                args.listen
            );
            return ExitCode::from(2);
        }
    };
    let options = SimOptions {
        api_key: args.api_key.filter(|key| !key.is_empty()),
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
