//! The `staffroom` command line: `serve`, `worker`, `migrate`, `bootstrap`, `openapi`, `mail list`. Every flag
//! also reads a `STAFFROOM_*` variable; a configuration mistake is one clear line on
//! stderr and exit code 2, never a panic.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use staffroom_domain::{
    Email, EntityName, LicencePlan, Password, PersonName, PlanKind, Profession, SiteSettings,
    UserType,
};
use staffroom_persistence::bootstrap::{self, NewSite};
use staffroom_persistence::users::NewUser;
use staffroom_persistence::{DatabaseUrl, Pool};

use crate::auth::password;
use crate::auth::tokens::TokenKeys;
use crate::providers::ProviderArgs;
use crate::rate_limit::RateLimiter;
use crate::state::AppState;

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
    Serve(ServeArgs),
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

/// A configuration or start-up failure: printed as one line.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log, cli.log_json);
    let result = match &cli.command {
        Command::Openapi => {
            print!("{}", crate::openapi::document_json());
            Ok(())
        }
        Command::Migrate => database_url(&cli)
            .and_then(|url| open_database(&url, 2))
            .map(|_| ()),
        Command::Bootstrap(args) => run_bootstrap(&cli, args),
        Command::Serve(args) => run_serve(&cli, args),
        Command::Worker(args) => run_worker(&cli, args),
        Command::Mail(MailCommand::List { to }) => run_mail_list(&cli, to.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("staffroom: error: {message}");
            ExitCode::from(2)
        }
    }
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

fn database_url(cli: &Cli) -> Result<DatabaseUrl, Failure> {
    let url = cli
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", cli.data_dir.join("staffroom.db").display()));
    DatabaseUrl::parse(&url).map_err(|e| Failure(format!("STAFFROOM_DATABASE_URL: {e}")))
}

/// Connects and migrates (under an advisory lock on PostgreSQL).
pub fn open_database(url: &DatabaseUrl, pool_size: u32) -> Result<Pool, Failure> {
    let pool = staffroom_persistence::connect(url, pool_size)
        .map_err(|e| Failure(format!("cannot open database {}: {e}", url.redacted())))?;
    let mut conn = pool
        .get()
        .map_err(|e| Failure(format!("cannot connect to {}: {e}", url.redacted())))?;
    let applied = staffroom_persistence::run_migrations(&mut conn)
        .map_err(|e| Failure(format!("migrating {}: {e}", url.redacted())))?;
    tracing::info!(database = %url.redacted(), applied, "database ready");
    Ok(pool)
}

const MIN_SECRET_BYTES: usize = 32;

fn token_keys(args: &ServeArgs, url: &DatabaseUrl, data_dir: &Path) -> Result<TokenKeys, Failure> {
    match (&args.jwt_private_key, &args.jwt_public_key) {
        (Some(private), Some(public)) => {
            return TokenKeys::rs256(private.as_bytes(), public.as_bytes()).map_err(Failure);
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Failure(
                "set both STAFFROOM_JWT_PRIVATE_KEY and STAFFROOM_JWT_PUBLIC_KEY for RS256".into(),
            ));
        }
        (None, None) => {}
    }
    if let Some(secret) = &args.jwt_secret {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(Failure(format!(
                "STAFFROOM_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        return Ok(TokenKeys::hs256(secret.as_bytes()));
    }
    if url.is_postgres() {
        return Err(Failure(
            "STAFFROOM_JWT_SECRET is required with PostgreSQL (every instance must share it)"
                .into(),
        ));
    }
    Ok(TokenKeys::hs256(local_secret(data_dir)?.as_bytes()))
}

/// The embedded default's signing secret, generated once and kept in the data directory.
fn local_secret(data_dir: &Path) -> Result<String, Failure> {
    let path = data_dir.join("jwt-secret");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        let secret = secret.trim().to_owned();
        if secret.len() >= MIN_SECRET_BYTES {
            return Ok(secret);
        }
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| Failure(format!("cannot create {}: {e}", data_dir.display())))?;
    let secret = password::random_token(48);
    write_private(&path, &secret)
        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

fn run_serve(cli: &Cli, args: &ServeArgs) -> Result<(), Failure> {
    let url = database_url(cli)?;
    let tokens = token_keys(args, &url, &cli.data_dir)?;
    if args.max_body_bytes < 1024 {
        return Err(Failure(
            "STAFFROOM_MAX_BODY_BYTES must be at least 1024".into(),
        ));
    }
    let pool = open_database(&url, args.pool_size.max(2))?;
    let demo = if args.demo {
        Some(crate::demo::ensure(&pool)?)
    } else {
        None
    };
    let outbox = args.providers.outbox()?;
    if args.invitation_ttl_hours == 0 {
        return Err(Failure(
            "STAFFROOM_INVITATION_TTL_HOURS must be at least 1".into(),
        ));
    }
    if let Some(url) = &args.public_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(Failure(
            "STAFFROOM_PUBLIC_URL must start with http:// or https://".into(),
        ));
    }
    let shared_database = matches!(url, DatabaseUrl::Postgres(_));
    actix_web::rt::System::new().block_on(async move {
        let (providers, sim) = args.providers.build(&pool).await?;
        if sim.is_some() && shared_database {
            tracing::warn!(
                "no provider URL configured on PostgreSQL: this process talks to its own \
                 in-process simulator, so another instance retrying one of its jobs reaches a \
                 different one; set STAFFROOM_EXERCISE_URL and STAFFROOM_IMAGING_URL when \
                 several instances share the database"
            );
        }
        let state = AppState {
            max_body_bytes: args.max_body_bytes,
            require_if_match: args.require_if_match,
            limiter: Arc::new(RateLimiter::new(args.rate_limit, args.rate_limit_burst)),
            behind_proxy: args.behind_proxy,
            public_url: args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", args.listen)),
            invitation_ttl: chrono::Duration::hours(i64::from(args.invitation_ttl_hours)),
            ..AppState::with_outbox(pool, tokens, providers, outbox)
        };
        let (stop_worker, stopped) = tokio::sync::watch::channel(false);
        let worker = (!args.no_outbox_worker).then(|| state.outbox.spawn_worker(stopped));
        let running = crate::app::start(state, &args.listen, args.workers)
            .map_err(|e| Failure(format!("cannot listen on {}: {e}", args.listen)))?;
        let base = format!("http://{}", running.addr);
        tracing::info!(%base, "listening");
        println!("Staffroom is listening on {base}");
        println!("  API docs:  {base}/docs/");
        println!("  OpenAPI:   {base}/openapi.json");
        if let Some(sim) = &sim {
            println!("  provider simulator: {}", sim.base_url());
        }
        if let Some(demo) = demo {
            println!("Demo site \"{}\" ({})", demo.site_name, demo.site_id);
            println!(
                "  log in as {} with password {}",
                demo.admin_email, demo.admin_password
            );
            println!(
                "  curl -s {base}/v1/auth/login -H 'content-type: application/json' \
                 -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'",
                demo.admin_email, demo.admin_password
            );
        }
        let served = running.server.await.map_err(Failure::from);
        let _ = stop_worker.send(true);
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        if let Some(sim) = sim {
            sim.stop().await;
        }
        served
    })
}

/// `staffroom worker`: the outbox loop alone, until SIGINT or SIGTERM.
fn run_worker(cli: &Cli, args: &WorkerArgs) -> Result<(), Failure> {
    let url = database_url(cli)?;
    let pool = open_database(&url, args.pool_size.max(2))?;
    let config = args.providers.outbox()?;
    actix_web::rt::System::new().block_on(async move {
        let (providers, sim) = args.providers.build(&pool).await?;
        if sim.is_some() {
            tracing::warn!(
                "the worker uses its own provider simulator; set the provider URLs so that \
                 it calls the same providers as the servers"
            );
        }
        let outbox = Arc::new(crate::outbox::Outbox::new(pool, providers, config));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = outbox.spawn_worker(stopped);
        println!("staffroom worker running; Ctrl-C stops it");
        staffroom_connectors::shutdown_signal().await;
        let _ = stop.send(true);
        let _ = worker.await;
        if let Some(sim) = sim {
            sim.stop().await;
        }
        Ok(())
    })
}

/// `staffroom mail list`: the embedded sink's mail as JSON lines.
fn run_mail_list(cli: &Cli, to: Option<&str>) -> Result<(), Failure> {
    let url = database_url(cli)?;
    let pool = open_database(&url, 2)?;
    let mut conn = pool.get().map_err(Failure::from)?;
    for message in staffroom_persistence::mail::list(&mut conn, to)? {
        println!("{}", serde_json::to_string(&message)?);
    }
    Ok(())
}

fn run_bootstrap(cli: &Cli, args: &BootstrapArgs) -> Result<(), Failure> {
    let field = |name: &str, e: staffroom_domain::ParseError| Failure(format!("--{name}: {e}"));
    let kind = match args.plan {
        PlanArg::Flex => PlanKind::Flex,
        PlanArg::Solo => PlanKind::Solo,
        PlanArg::Group => PlanKind::Group,
    };
    let plan = LicencePlan::from_parts(kind, args.licences).map_err(|e| field("licences", e))?;
    let email = Email::parse(&args.admin_email).map_err(|e| field("admin-email", e))?;
    let password = Password::parse(&args.admin_password).map_err(|e| field("admin-password", e))?;
    let new = NewSite {
        name: EntityName::parse(&args.site_name).map_err(|e| field("site-name", e))?,
        plan,
        settings: SiteSettings::default(),
        clinic_name: EntityName::parse(&args.clinic_name).map_err(|e| field("clinic-name", e))?,
        admin: NewUser {
            title: None,
            first_name: PersonName::parse(&args.admin_first_name)
                .map_err(|e| field("admin-first-name", e))?,
            last_name: PersonName::parse(&args.admin_last_name)
                .map_err(|e| field("admin-last-name", e))?,
            email,
            user_type: match args.admin_user_type {
                UserTypeArg::Clinical => UserType::Clinical,
                UserTypeArg::NonClinical => UserType::NonClinical,
            },
            profession: Profession::Other,
            permissions: Vec::new(),
            clinic_ids: Vec::new(),
            default_clinic_id: None,
            password_hash: Some(password::hash(password.expose())?),
        },
    };
    let pool = open_database(&database_url(cli)?, 2)?;
    let mut conn = pool.get()?;
    let created = bootstrap::create_site(&mut conn, new).map_err(|e| match e {
        staffroom_persistence::StoreError::Licence(e) => Failure(format!("--plan: {}", e.error)),
        other => Failure(other.to_string()),
    })?;
    println!("{}", serde_json::to_string(&created)?);
    Ok(())
}
