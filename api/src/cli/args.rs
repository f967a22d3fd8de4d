//! The command line's flags and subcommands. Every flag also reads a `STAFFROOM_*`
//! variable; `staffroom --help` lists them.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::providers::ProviderArgs;

#[derive(Debug, Parser)]
#[command(
    name = "staffroom",
    version,
    about = "Staff accounts for clinic practice-management products (JSON REST API)"
)]
pub struct Cli {
    /// `sqlite://PATH` or `postgres://…`; default: a SQLite file in the data directory.
    #[arg(
        long,
        env = "STAFFROOM_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Where the embedded default keeps its database and generated secret.
    #[arg(
        long,
        env = "STAFFROOM_DATA_DIR",
        global = true,
        default_value = "./staffroom-data"
    )]
    pub data_dir: PathBuf,
    /// Log filter (tracing syntax), e.g. `info` or `staffroom_api=debug`.
    #[arg(long, env = "STAFFROOM_LOG", global = true, default_value = "info")]
    pub log: String,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "STAFFROOM_LOG_JSON", global = true, action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (migrates the database first).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a site with its first clinic and site administrator; prints their ids as JSON.
    Bootstrap(BootstrapArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Run only the outbox worker: provider calls and their retries (scaled deployments).
    Worker(WorkerArgs),
    /// Read the mail kept by the embedded email sink.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Exit 0 when healthy, 1 when not (container health checks): with `--url`, that URL
    /// answers 2xx; without it, the database answers.
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// An `http://HOST:PORT/PATH` that must answer 2xx, e.g. `http://127.0.0.1:8080/readyz`.
    #[arg(long)]
    pub url: Option<String>,
    /// Longest wait for the answer, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    pub timeout_ms: u64,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub providers: ProviderArgs,
    /// Database connections in the pool.
    #[arg(long, env = "STAFFROOM_POOL_SIZE", default_value_t = 8)]
    pub pool_size: u32,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Print the mail sent, oldest first, as JSON lines (`to`, `subject`, `body`, `sent_at`).
    List {
        /// Only mail to this address.
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "STAFFROOM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Create a sample site (unless it exists) and print how to log in.
    #[arg(long, env = "STAFFROOM_DEMO", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub demo: bool,
    /// HS256 signing secret, at least 32 bytes; required with PostgreSQL.
    #[arg(long, env = "STAFFROOM_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// RS256 private key (PEM text); with the public key, replaces HS256.
    #[arg(long, env = "STAFFROOM_JWT_PRIVATE_KEY", hide_env_values = true)]
    pub jwt_private_key: Option<String>,
    /// RS256 public key (PEM text).
    #[arg(long, env = "STAFFROOM_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<String>,
    /// The secret the imaging provider signs its webhook deliveries with (`whsec_` and
    /// base64); required with PostgreSQL.
    #[arg(long, env = "STAFFROOM_IMAGING_WEBHOOK_SECRET", hide_env_values = true)]
    pub imaging_webhook_secret: Option<String>,
    /// Largest request body in bytes.
    #[arg(long, env = "STAFFROOM_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Make `If-Match` mandatory on changes (`428` without it).
    #[arg(long, env = "STAFFROOM_REQUIRE_IF_MATCH", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub require_if_match: bool,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "STAFFROOM_WORKERS")]
    pub workers: Option<usize>,
    /// Requests per second allowed per credential (0 disables rate limiting).
    #[arg(long, env = "STAFFROOM_RATE_LIMIT", default_value_t = 100)]
    pub rate_limit: u32,
    /// Requests a credential may make at once before the rate applies.
    #[arg(long, env = "STAFFROOM_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,
    /// Behind a reverse proxy: rate-limit unauthenticated calls by the client address in
    /// `X-Forwarded-For`/`Forwarded` instead of the proxy's address.
    #[arg(long, env = "STAFFROOM_BEHIND_PROXY", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub behind_proxy: bool,
    /// Bytes of read answers kept to be sent again while their site is unchanged, in KiB
    /// (0 keeps none).
    #[arg(long, env = "STAFFROOM_READ_CACHE_KIB", default_value_t = 8192)]
    pub read_cache_kib: usize,
    /// Database connections in the pool.
    #[arg(long, env = "STAFFROOM_POOL_SIZE", default_value_t = 16)]
    pub pool_size: u32,
    /// The product's address as people reach it (invitation links start with it); default:
    /// `http://` and the listening address.
    #[arg(long, env = "STAFFROOM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long an invitation link works, in hours.
    #[arg(long, env = "STAFFROOM_INVITATION_TTL_HOURS", default_value_t = 168)]
    pub invitation_ttl_hours: u32,
    /// Password hashes and checks (Argon2id, 19 MiB each) run at once (default: one per
    /// core).
    #[arg(long, env = "STAFFROOM_PASSWORD_HASHING_PERMITS")]
    pub password_hashing_permits: Option<usize>,
    /// How long a login (or another request that hashes a password) waits for a free
    /// permit before answering `503 hashing_busy`, in milliseconds.
    #[arg(
        long,
        env = "STAFFROOM_PASSWORD_HASHING_WAIT_MS",
        default_value_t = 2000
    )]
    pub password_hashing_wait_ms: u64,
    /// Do not work the outbox in this process (a separate `staffroom worker` does).
    #[arg(long, env = "STAFFROOM_NO_OUTBOX_WORKER", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_outbox_worker: bool,
    #[command(flatten)]
    pub providers: ProviderArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlanArg {
    Flex,
    Solo,
    Group,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UserTypeArg {
    Clinical,
    NonClinical,
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    #[arg(long, env = "STAFFROOM_SITE_NAME")]
    pub site_name: String,
    #[arg(long, env = "STAFFROOM_PLAN", value_enum)]
    pub plan: PlanArg,
    /// Licences of a flex or group plan.
    #[arg(long, env = "STAFFROOM_LICENCES")]
    pub licences: Option<u32>,
    #[arg(long, env = "STAFFROOM_ADMIN_EMAIL")]
    pub admin_email: String,
    #[arg(long, env = "STAFFROOM_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: String,
    #[arg(long, env = "STAFFROOM_ADMIN_FIRST_NAME", default_value = "Site")]
    pub admin_first_name: String,
    #[arg(
        long,
        env = "STAFFROOM_ADMIN_LAST_NAME",
        default_value = "Administrator"
    )]
    pub admin_last_name: String,
    #[arg(
        long,
        env = "STAFFROOM_ADMIN_USER_TYPE",
        value_enum,
        default_value = "non-clinical"
    )]
    pub admin_user_type: UserTypeArg,
    #[arg(long, env = "STAFFROOM_CLINIC_NAME", default_value = "Main")]
    pub clinic_name: String,
}
