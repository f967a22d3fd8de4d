//! The `staffroom` command line: `serve`, `worker`, `migrate`, `bootstrap`, `openapi`,
//! `mail list`, `healthcheck`. Every flag also reads a `STAFFROOM_*` variable; a mistake,
//! the parser's included, is one line on stderr and exit code 2, never a panic.

mod args;
mod bootstrap;
mod database;
mod healthcheck;
mod secrets;
mod serve;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

pub use args::{
    BootstrapArgs, Cli, Command, HealthcheckArgs, MailCommand, PlanArg, ServeArgs, UserTypeArg,
    WorkerArgs,
};
use database::{database_url, open_database};

use crate::startup_error::StartupError;

/// Exit code of a configuration or start-up mistake.
const MISTAKE: u8 = 2;
/// Exit code of a failed `healthcheck` (Docker reserves 2).
const UNHEALTHY: u8 = 1;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parser_error(&e),
    };
    init_logging(&cli.log, cli.log_json);
    let result = match &cli.command {
        Command::Openapi => {
            print!("{}", crate::openapi::document_json());
            Ok(())
        }
        Command::Migrate => database_url(&cli)
            .and_then(|url| open_database(&url, 2))
            .map(|_| ()),
        Command::Bootstrap(args) => bootstrap::run_bootstrap(&cli, args),
        Command::Serve(args) => serve::run_serve(&cli, args),
        Command::Worker(args) => serve::run_worker(&cli, args),
        Command::Mail(MailCommand::List { to }) => run_mail_list(&cli, to.as_deref()),
        Command::Healthcheck(args) => {
            return match healthcheck::run_healthcheck(&cli, args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => report(&e, UNHEALTHY),
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e, MISTAKE),
    }
}

fn report(error: &StartupError, code: u8) -> ExitCode {
    eprintln!("staffroom: error: {}", error.one_line());
    ExitCode::from(code)
}

/// `--help` and `--version` print as clap writes them; any other parser error becomes one
/// line: the message and its tips, without the usage block.
fn parser_error(e: &clap::Error) -> ExitCode {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let rendered = e.render().to_string();
    let mut message = String::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        if !message.is_empty() {
            message.push_str(if message.ends_with(':') { " " } else { "; " });
        }
        message.push_str(line.strip_prefix("error: ").unwrap_or(line));
    }
    report(&StartupError(message.to_owned()), MISTAKE)
}

fn init_logging(filter: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

/// `staffroom mail list`: the embedded sink's mail as JSON lines.
fn run_mail_list(cli: &Cli, to: Option<&str>) -> Result<(), StartupError> {
    let url = database_url(cli)?;
    let pool = open_database(&url, 2)?;
    let mut conn = pool.get()?;
    for message in staffroom_persistence::mail::list(&mut conn, to)? {
        println!("{}", serde_json::to_string(&message)?);
    }
    Ok(())
}
