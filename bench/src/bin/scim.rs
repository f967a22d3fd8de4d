//! `scim`: SCIM 2.0 at `/scim/v2` under load. On each backend (SQLite; PostgreSQL too when
//! `STAFFROOM_TEST_DATABASE_URL` is set) it measures
//!
//! 1. `POST /Users` throughput against Python's `scim2-server` (pinned, installed into
//!    `target/bench-venv` on first use): the same client sends the same number of creates
//!    with the same concurrency to both, interleaved round by round;
//!    then the floor under any create rate: the writes of one create alone (the
//!    `CreateUser` use-case with its invitation, in this process, one connection, no HTTP),
//!    one transaction per create and 50 per transaction;
//! 2. the latency of `GET /Users?filter=userName eq "…"` (a random existing user each
//!    request) and of the first page `GET /Users?startIndex=1&count=50` at each site size,
//!    with `wrk`, and the ratio of the largest size's latency to the smallest's.
//!
//! See `bench/README.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{Value, json};
use staffroom_api::auth::password;
use staffroom_bench::clients::{self, Outcome};
use staffroom_bench::process::{self, Child};
use staffroom_bench::python::{self, SCIM2_SERVER};
use staffroom_bench::seed::{self, ADMIN_EMAIL, PASSWORD};
use staffroom_bench::wrk::{self, Load, Run};
use staffroom_bench::{
    BoxError, login, median_f64, ms, parse_sizes, percentile, scim_token, verdict,
};
use staffroom_domain::{Email, LicencePlan, PersonName, Profession, UserId, UserType};
use staffroom_persistence::DbConnection;
use staffroom_persistence::invitations::NewInvitation;
use staffroom_persistence::testing::{self, TestDatabase};
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::usecase::{self, together};
use staffroom_persistence::users::{CreateUser, CreatorScope, NewUser};

/// Staffroom's creates per second over `scim2-server`'s, at least.
const CREATE_RATIO: f64 = 10.0;
/// Creates per transaction when the floor groups them.
const GROUP: usize = 50;
/// Latency at the largest size over the smallest, at most.
const SCALING: f64 = 1.3;
const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The bearer token `scim2-server` is started with.
const PYTHON_TOKEN: &str = "bench-scim2-server-token";
/// Names of the created users, in turn.
const GIVEN_NAMES: [&str; 5] = ["Aoife", "Sean", "Maria", "Tomas", "Grace"];
const FAMILY_NAMES: [&str; 7] = [
    "Okafor", "Murphy", "Kelly", "Walsh", "Nowak", "Dubois", "Rossi",
];

struct Options {
    sizes: Vec<usize>,
    seconds: u64,
    rounds: usize,
    creates: usize,
    concurrency: usize,
    workers: usize,
    connections: u32,
    scim2_server: Option<PathBuf>,
}

const USAGE: &str = "flags: --sizes 1000,100000 --seconds 5 --rounds 3 --creates 2000 \
                     --concurrency 8 --workers 2 --connections 8 --scim2-server PATH \
                     (or STAFFROOM_BENCH_SCIM2_SERVER); --creates 0 or --sizes none skips a part";

impl Options {
    fn parse() -> Result<Self, BoxError> {
        let mut options = Self {
            sizes: vec![1_000, 100_000],
            seconds: 5,
            rounds: 3,
            creates: 2_000,
            concurrency: 8,
            workers: 2,
            connections: 8,
            scim2_server: std::env::var_os("STAFFROOM_BENCH_SCIM2_SERVER").map(PathBuf::from),
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
            match flag.as_str() {
                "--sizes" if value == "none" => options.sizes.clear(),
                "--sizes" => options.sizes = parse_sizes(&value)?,
                "--seconds" => options.seconds = value.parse()?,
                "--rounds" => options.rounds = value.parse::<usize>()?.max(1),
                "--creates" => options.creates = value.parse()?,
                "--concurrency" => options.concurrency = value.parse::<usize>()?.max(1),
                "--workers" => options.workers = value.parse()?,
                "--connections" => options.connections = value.parse()?,
                "--scim2-server" => options.scim2_server = Some(PathBuf::from(value)),
                _ => return Err(format!("unknown flag {flag}; {USAGE}").into()),
            }
        }
        Ok(options)
    }

    fn load<'a>(&self, url: &'a str, headers: &'a [String], script: Option<&'a Path>) -> Load<'a> {
        Load {
            url,
            threads: 2,
            connections: self.connections,
            duration: Duration::from_secs(self.seconds),
            headers,
            script,
        }
    }
}

/// A backend to measure: a fresh database of it per site.
#[derive(Clone)]
enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    fn all() -> Vec<Self> {
        let mut backends = vec![Self::Sqlite];
        backends.extend(testing::postgres_server().map(Self::Postgres));
        backends
    }

    fn database(&self) -> Result<TestDatabase, BoxError> {
        Ok(match self {
            Self::Sqlite => TestDatabase::sqlite()?,
            Self::Postgres(server) => TestDatabase::postgres(server)?,
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

fn main() -> ExitCode {
    process::main_of("scim", run)
}

async fn run() -> Result<(), BoxError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = Options::parse()?;
    if !options.sizes.is_empty() {
        wrk::check_installed()?;
    }
    let python = if options.creates > 0 {
        Some(SCIM2_SERVER.executable(options.scim2_server.clone(), &python::venv_dir()?)?)
    } else {
        None
    };
    let work = std::env::temp_dir().join(format!("staffroom-scim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = measure(&options, python.as_deref(), &work).await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

async fn measure(options: &Options, python: Option<&Path>, work: &Path) -> Result<(), BoxError> {
    println!(
        "staffroom scim benchmark: {} build, server {} HTTP workers, load average {}",
        if cfg!(debug_assertions) {
            "DEBUG (measure with --release)"
        } else {
            "release"
        },
        options.workers,
        load_average(),
    );
    for backend in Backend::all() {
        if let Some(python) = python {
            creates(options, &backend, python, work).await?;
        }
        if !options.sizes.is_empty() {
            let rows = reads(options, &backend, work).await?;
            print_scaling(&backend, &rows);
        }
    }
    println!("\nload average at the end: {}", load_average());
    Ok(())
}

/// `/proc/loadavg`'s three averages: how busy the shared machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

// ---- 1. POST /Users against scim2-server ----

/// One server's creates of one round.
struct CreateRound {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
    first_error: Option<String>,
}

impl From<&Outcome> for CreateRound {
    fn from(outcome: &Outcome) -> Self {
        Self {
            per_second: outcome.requests_per_second(),
            p50: percentile(&outcome.times, 50.0),
            p99: percentile(&outcome.times, 99.0),
            errors: outcome.errors,
            first_error: outcome.first_error.clone(),
        }
    }
}

/// A SCIM server the creates go to: its `/Users` URL and bearer token.
struct Target {
    name: String,
    users_url: String,
    token: String,
}

async fn creates(
    options: &Options,
    backend: &Backend,
    python: &Path,
    work: &Path,
) -> Result<(), BoxError> {
    let db = backend.database()?;
    // Every created user is active and needs a licence on `flex`: enough for all of them.
    let needed = options.creates * (options.rounds + 1) + 1;
    let licences = u32::try_from(needed)
        .ok()
        .filter(|n| *n <= LicencePlan::MAX_LICENCES)
        .ok_or("--creates × (--rounds + 1) is more users than a site may licence")?;
    seed::site(&db.pool(2)?, LicencePlan::Flex { licences })?;
    let url = seed::url_text(&db.url);
    let server =
        process::start_server(&url, &work.join("data-creates"), options.workers, &[]).await?;
    let http = reqwest::Client::new();
    let admin = login(&http, &server.base, ADMIN_EMAIL, PASSWORD).await?;
    let staffroom_token = scim_token(&http, &server.base, &admin).await?;
    let scim2 = process::start_scim2_server(python, PYTHON_TOKEN).await?;
    let targets = [
        Target {
            name: format!("staffroom ({})", backend.name()),
            users_url: format!("{}/scim/v2/Users", server.base),
            token: staffroom_token,
        },
        Target {
            name: format!("{} {}", SCIM2_SERVER.name, SCIM2_SERVER.version),
            users_url: format!("{}/v2/Users", scim2.base),
            token: PYTHON_TOKEN.to_owned(),
        },
    ];
    println!(
        "\n== {} — POST /Users: {} creates per server per round, {} clients, {} rounds \
         interleaved (after a warm-up round of {}); medians of the rounds",
        backend.name(),
        options.creates,
        options.concurrency,
        options.rounds,
        options.creates.min(200),
    );
    // Round 0 warms both servers up (connections, caches, Python's first imports).
    let mut measured: [Vec<CreateRound>; 2] = [Vec::new(), Vec::new()];
    for round in 0..=options.rounds {
        let count = if round == 0 {
            options.creates.min(200)
        } else {
            options.creates
        };
        for (i, target) in targets.iter().enumerate() {
            let outcome = send_creates(&http, target, round, count, options.concurrency).await?;
            if round > 0 {
                measured[i].push(CreateRound::from(&outcome));
            }
        }
    }
    let python_rate = print_creates(&targets, &measured);
    drop((server, scim2));
    print_floor(&write_floor(backend, options.creates)?, python_rate);
    Ok(())
}

/// `count` creates of distinct users (`c{round}-{i}@bench.test`) to `target`.
async fn send_creates(
    http: &reqwest::Client,
    target: &Target,
    round: usize,
    count: usize,
    concurrency: usize,
) -> Result<Outcome, BoxError> {
    let (http, url, token) = (http.clone(), target.users_url.clone(), target.token.clone());
    clients::send_all(count, concurrency, StatusCode::CREATED, move |i| {
        http.post(&url)
            .bearer_auth(&token)
            .header("Content-Type", "application/scim+json")
            .body(user_body(round, i).to_string())
    })
    .await
}

/// A SCIM User as an identity provider creates it.
fn user_body(round: usize, i: usize) -> Value {
    let email = format!("c{round}-{i}@bench.test");
    json!({
        "schemas": [USER_URN],
        "userName": email,
        "name": {
            "givenName": GIVEN_NAMES[i % GIVEN_NAMES.len()],
            "familyName": FAMILY_NAMES[i % FAMILY_NAMES.len()],
        },
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true,
    })
}

/// Prints both servers' rounds and the ratio; returns `scim2-server`'s rate.
fn print_creates(targets: &[Target; 2], measured: &[Vec<CreateRound>; 2]) -> f64 {
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>7}   rounds (req/s)",
        "server", "req/s", "p50 ms", "p99 ms", "errors"
    );
    let mut rates = [0.0; 2];
    for (i, (target, rounds)) in targets.iter().zip(measured).enumerate() {
        rates[i] = median_f64(rounds.iter().map(|r| r.per_second).collect());
        let p50: Vec<Duration> = rounds.iter().map(|r| r.p50).collect();
        let p99: Vec<Duration> = rounds.iter().map(|r| r.p99).collect();
        let each: Vec<String> = rounds
            .iter()
            .map(|r| format!("{:.0}", r.per_second))
            .collect();
        println!(
            "{:<22} {:>9.0} {:>9.2} {:>9.2} {:>7}   {}",
            target.name,
            rates[i],
            ms(staffroom_bench::median(&p50)),
            ms(staffroom_bench::median(&p99)),
            rounds.iter().map(|r| r.errors).sum::<usize>(),
            each.join(", "),
        );
        if let Some(first) = rounds.iter().find_map(|r| r.first_error.as_deref()) {
            println!(
                "  first error: {}",
                first.chars().take(300).collect::<String>()
            );
        }
    }
    let ratio = rates[0] / rates[1].max(1e-9);
    let clean = measured.iter().flatten().all(|r| r.errors == 0);
    println!(
        "ratio {} / {}: {ratio:.2}× (target ≥ {CREATE_RATIO}×: {})",
        targets[0].name,
        targets[1].name,
        verdict(ratio >= CREATE_RATIO && clean),
    );
    rates[1]
}

/// What the writes of one create cost alone: one transaction per create, then
/// [`GROUP`] per transaction.
struct Floor {
    each: Duration,
    grouped: Duration,
}

/// Runs `count` creates through the `CreateUser` use-case as a SCIM create without a
/// password runs it (the user, its grants and search rows, the audit event, the invitation
/// and its email job), on one connection of a fresh site, one per transaction; then
/// `count` more, [`GROUP`] per transaction. No HTTP, JSON or authentication: what is left
/// is the database's share of a create, which a site's writers take in turn (the site
/// lock; on SQLite also the database's one writer).
/// It runs on a thread of its own, `write-floor`, which a profile can pick out
/// (`perf report --comm write-floor`).
fn write_floor(backend: &Backend, count: usize) -> Result<Floor, BoxError> {
    let backend = backend.clone();
    std::thread::Builder::new()
        .name("write-floor".to_owned())
        .spawn(move || floor_on(&backend, count))?
        .join()
        .map_err(|_| "the write floor's thread panicked")?
}

fn floor_on(backend: &Backend, count: usize) -> Result<Floor, BoxError> {
    let db = backend.database()?;
    let pool = db.pool(1)?;
    let licences = u32::try_from(2 * count + 1)?;
    let site = seed::site(&pool, LicencePlan::Flex { licences })?.site_id;
    let mut conn = pool.get()?;
    let ctx = AuditContext::system(site);
    let started = Instant::now();
    for i in 0..count {
        create_alone(&mut conn, &ctx, &format!("f{i}@bench.test"))?;
    }
    let each = started.elapsed() / u32::try_from(count.max(1))?;
    let started = Instant::now();
    for group in (0..count).collect::<Vec<_>>().chunks(GROUP) {
        together(&mut conn, &ctx, |conn| {
            group
                .iter()
                .try_for_each(|i| create_alone(conn, &ctx, &format!("g{i}@bench.test")).map(drop))
        })?;
    }
    let grouped = started.elapsed() / u32::try_from(count.max(1))?;
    Ok(Floor { each, grouped })
}

/// One user created as `POST /scim/v2/Users` creates it, with its invitation.
fn create_alone(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    email: &str,
) -> Result<UserId, BoxError> {
    let new = NewUser {
        title: None,
        first_name: PersonName::parse(GIVEN_NAMES[email.len() % GIVEN_NAMES.len()])?,
        last_name: PersonName::parse(FAMILY_NAMES[email.len() % FAMILY_NAMES.len()])?,
        email: Email::parse(email)?,
        user_type: UserType::NonClinical,
        profession: Profession::Other,
        permissions: Vec::new(),
        clinic_ids: Vec::new(),
        default_clinic_id: None,
        password_hash: None,
        external_id: None,
        user_name: None,
        email_primary: Some(true),
    };
    let token = password::random_token(32);
    let expires_at = staffroom_persistence::tx::now() + Duration::from_secs(7 * 86_400);
    let invitation = NewInvitation {
        token_hash: password::digest(&token),
        expires_at,
        subject: "You are invited to Staffroom".to_owned(),
        body: format!(
            "Hello,\n\nAn administrator of your practice has created your Staffroom account. \
             Choose your password here:\n\nhttp://127.0.0.1/accept-invitation?token={token}\n"
        ),
    };
    let create = CreateUser {
        creator: CreatorScope::site_admin(),
        new,
        invitation: Some(invitation),
    };
    usecase::run(conn, ctx, create, |user| user.id, None)
        .map_err(|e| format!("the floor's create of {email} failed: {e}").into())
}

fn print_floor(floor: &Floor, python_rate: f64) {
    let per_second = |d: Duration| 1.0 / d.as_secs_f64().max(1e-9);
    let needed = CREATE_RATIO * python_rate;
    println!(
        "the writes of one create alone (CreateUser with its invitation, one connection, no \
         HTTP):\n  one transaction each: {:>7.0} µs (at most {:.0} creates/s)\n  {GROUP} per \
         transaction:   {:>7.0} µs (at most {:.0} creates/s)\n  {CREATE_RATIO}× scim2-server is \
         {needed:.0} creates/s: at most {:.0} µs per create, everything included",
        floor.each.as_secs_f64() * 1e6,
        per_second(floor.each),
        floor.grouped.as_secs_f64() * 1e6,
        per_second(floor.grouped),
        1e6 / needed.max(1e-9),
    );
    let most = per_second(floor.grouped) / python_rate.max(1e-9);
    if most < CREATE_RATIO {
        println!(
            "  the writes alone, grouped, allow at most {most:.1}× scim2-server on this machine: \
             the {CREATE_RATIO}× target is out of their reach"
        );
    }
}

// ---- 2. Read latency across site sizes ----

/// The medians of one size's rounds: the filter, then the first page.
struct SizeRow {
    size: usize,
    filter: Run,
    page: Run,
}

const PAGE: &str = "/scim/v2/Users?startIndex=1&count=50";

async fn reads(
    options: &Options,
    backend: &Backend,
    work: &Path,
) -> Result<Vec<SizeRow>, BoxError> {
    println!(
        "\n== {} — reads: wrk -t2 -c{}, {} rounds of {} s per request, interleaved; medians",
        backend.name(),
        options.connections,
        options.rounds,
        options.seconds,
    );
    println!(
        "{:>8} {:>9}  {:>10} {:>8} {:>8}  {:>10} {:>8} {:>8}",
        "users", "seeded s", "filter/s", "p50 ms", "p99 ms", "page/s", "p50 ms", "p99 ms"
    );
    let mut rows = Vec::new();
    for &size in &options.sizes {
        let db = backend.database()?;
        let started = Instant::now();
        let pool = db.pool(4)?;
        seed::site_with_users(&pool, size)?;
        if matches!(backend, Backend::Postgres(_)) {
            // What autovacuum does after a bulk load: without statistics PostgreSQL takes
            // the site for a few rows and sorts all of them for the first page.
            diesel::sql_query("ANALYZE").execute(&mut *pool.get()?)?;
        }
        let seeded = started.elapsed();
        let url = seed::url_text(&db.url);
        let data_dir = work.join(format!("data-{size}"));
        let server = process::start_server(&url, &data_dir, options.workers, &[]).await?;
        let row = read_size(options, &server, size, work).await?;
        println!(
            "{size:>8} {:>9.1}  {:>10.0} {:>8.2} {:>8.2}  {:>10.0} {:>8.2} {:>8.2}{}",
            seeded.as_secs_f64(),
            row.filter.requests_per_second,
            ms(row.filter.p50),
            ms(row.filter.p99),
            row.page.requests_per_second,
            ms(row.page.p50),
            ms(row.page.p99),
            match row.filter.failures + row.page.failures {
                0 => String::new(),
                n => format!("  ({n} failed answers)"),
            },
        );
        rows.push(row);
    }
    Ok(rows)
}

/// Checks both requests answer what they should, then drives them alternately.
async fn read_size(
    options: &Options,
    server: &Child,
    size: usize,
    work: &Path,
) -> Result<SizeRow, BoxError> {
    let http = reqwest::Client::new();
    let admin = login(&http, &server.base, ADMIN_EMAIL, PASSWORD).await?;
    let token = scim_token(&http, &server.base, &admin).await?;
    let one = format!("{}?filter={}", "/scim/v2/Users", filter_of(size / 2));
    expect_total(&server.base, &one, &token, 1).await?;
    // The administrator is a user of the site too.
    expect_total(&server.base, PAGE, &token, size + 1).await?;
    let script = work.join(format!("filter-{size}.lua"));
    std::fs::write(&script, filter_script(size))?;
    let headers = [format!("Authorization: Bearer {token}")];
    let users_url = format!("{}/scim/v2/Users", server.base);
    let page_url = format!("{}{PAGE}", server.base);
    let (mut filters, mut pages) = (Vec::new(), Vec::new());
    for _ in 0..options.rounds {
        filters.push(options.load(&users_url, &headers, Some(&script)).run()?);
        pages.push(options.load(&page_url, &headers, None).run()?);
    }
    Ok(SizeRow {
        size,
        filter: Run::median(&filters),
        page: Run::median(&pages),
    })
}

/// `userName eq "u{n}@bench.test"`, URL-encoded.
fn filter_of(n: usize) -> String {
    format!("userName%20eq%20%22u{n}%40bench.test%22")
}

/// A `wrk` script asking for a random seeded user each request (each thread its own seed).
fn filter_script(size: usize) -> String {
    format!(
        r#"local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args)
  math.randomseed(seed * 7919)
end
function request()
  local n = math.random(0, {last})
  return wrk.format("GET", "/scim/v2/Users?filter=userName%20eq%20%22u" .. n .. "%40bench.test%22")
end
"#,
        last = size.saturating_sub(1),
    )
}

/// Fails unless `GET path` answers `200` with `totalResults` `total`.
async fn expect_total(base: &str, path: &str, token: &str, total: usize) -> Result<(), BoxError> {
    let (_, body) = process::fetch(base, path, token).await?;
    let body: Value = serde_json::from_str(&body)?;
    if body["totalResults"].as_u64() == u64::try_from(total).ok() {
        Ok(())
    } else {
        Err(format!(
            "GET {path}: expected totalResults {total}, got {}",
            body["totalResults"]
        )
        .into())
    }
}

/// Latency at the largest size over the smallest, for each request.
fn print_scaling(backend: &Backend, rows: &[SizeRow]) {
    let (Some(small), Some(large)) = (rows.first(), rows.last()) else {
        return;
    };
    if small.size == large.size {
        return;
    }
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    for (name, a, b) in [
        ("filter userName eq", &small.filter, &large.filter),
        ("page count=50", &small.page, &large.page),
    ] {
        let median = ratio(a.p50, b.p50);
        println!(
            "{} {name}: median {:.2} → {:.2} ms ({median:.2}×, target ≤ {SCALING}×: {}), \
             p99 {:.2} → {:.2} ms ({:.2}×), {} → {} users",
            backend.name(),
            ms(a.p50),
            ms(b.p50),
            verdict(median <= SCALING && a.failures + b.failures == 0),
            ms(a.p99),
            ms(b.p99),
            ratio(a.p99, b.p99),
            small.size,
            large.size,
        );
    }
}
