//! `request-path`: the request path against its ceiling. For each site size it seeds a fresh
//! database, starts `staffroom serve` (its own process, 2 HTTP workers, no rate limit) and a
//! bare actix-web server answering the same bytes from memory (the ceiling), drives both
//! with `wrk`, interleaved round by round, and prints each request's throughput, p99 and
//! ratio, and the same for a second server that renders every answer (its read cache off);
//! then the peak resident memory of the server under 16 concurrent logins, the search
//! latency across sizes, bulk dry runs beside writes, and a soak on fixed data. See
//! `bench/README.md`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use staffroom_bench::process::{self, Child};
use staffroom_bench::seed::{self, ADMIN_EMAIL, PASSWORD, Seeded};
use staffroom_bench::wrk::{self, Load, Run};
use staffroom_bench::{BoxError, fit, login, ms, parse_sizes, verdict};
use staffroom_persistence::testing::TestDatabase;

/// What the performance issue asks, printed beside each figure.
const LIST_RATIO: f64 = 0.25;
const LIST_P99: Duration = Duration::from_millis(5);
const GET_RATIO: f64 = 0.40;
const SEARCH_RATIO: f64 = 0.10;
const SEARCH_SCALING: f64 = 1.3;
const MEMORY_MIB: f64 = 128.0;
const LOGINS_PER_CORE: f64 = 30.0;
const SOAK_GROWTH_MB: f64 = 1.0;

struct Options {
    sizes: Vec<usize>,
    seconds: u64,
    rounds: usize,
    soak_minutes: u64,
    workers: usize,
    connections: u32,
}

impl Options {
    fn parse() -> Result<Self, BoxError> {
        let mut options = Self {
            sizes: vec![1_000, 10_000, 100_000],
            seconds: 5,
            rounds: 3,
            soak_minutes: 10,
            workers: 2,
            connections: 8,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--sizes" => options.sizes = parse_sizes(&value)?,
                "--seconds" => options.seconds = value.parse()?,
                "--rounds" => options.rounds = value.parse()?,
                "--soak-minutes" => options.soak_minutes = value.parse()?,
                "--workers" => options.workers = value.parse()?,
                "--connections" => options.connections = value.parse()?,
                _ => {
                    return Err(format!(
                        "unknown flag {flag}; flags: --sizes 1000,10000,100000 --seconds 5 \
                         --rounds 3 --soak-minutes 10 --workers 2 --connections 8"
                    )
                    .into());
                }
            }
        }
        Ok(options)
    }

    fn load<'a>(&self, url: &'a str, headers: &'a [String]) -> Load<'a> {
        Load {
            url,
            threads: 2,
            connections: self.connections,
            duration: Duration::from_secs(self.seconds),
            headers,
            script: None,
        }
    }
}

/// One measured request: its name, its path, and its target ratio.
struct Request {
    name: String,
    path: String,
    target: f64,
}

/// The medians of one request over the rounds.
struct Row {
    name: String,
    server: Run,
    /// The server with its read cache off: every answer rendered from the database.
    rendered: Run,
    ceiling: Run,
    target: f64,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.ratio_of(&self.server)
    }

    fn ratio_of(&self, run: &Run) -> f64 {
        if self.ceiling.requests_per_second > 0.0 {
            run.requests_per_second / self.ceiling.requests_per_second
        } else {
            0.0
        }
    }
}

fn main() -> ExitCode {
    process::main_of("request-path", run)
}

async fn run() -> Result<(), BoxError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    wrk::check_installed()?;
    let options = Options::parse()?;
    let work = std::env::temp_dir().join(format!("staffroom-request-path-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = measure(&options, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

async fn measure(options: &Options, work: &Path) -> Result<(), BoxError> {
    let mut search_latency: Vec<Searches> = Vec::new();
    let mut sites: Vec<RenderingSite> = Vec::new();
    let soak_size = if options.sizes.contains(&10_000) {
        10_000
    } else {
        options.sizes[options.sizes.len() / 2]
    };
    for &size in &options.sizes {
        let db = TestDatabase::create()?;
        let started = Instant::now();
        let seeded = seed::site_with_users(&db.pool(4)?, size)?;
        println!(
            "\n== {} — {size} users (seeded in {:.1} s); server {} HTTP workers, wrk -t2 -c{}, \
             {} rounds of {} s, interleaved; medians{}",
            db.backend(),
            started.elapsed().as_secs_f64(),
            options.workers,
            options.connections,
            options.rounds,
            options.seconds,
            if cfg!(debug_assertions) {
                " — DEBUG BUILD, measure with --release"
            } else {
                ""
            },
        );
        let data_dir = work.join(format!("data-{size}"));
        let url = seed::url_text(&db.url);
        let server = process::start_server(&url, &data_dir, options.workers, &[]).await?;
        let rendering = process::start_server(
            &url,
            &work.join(format!("data-{size}-rendered")),
            options.workers,
            &["--read-cache-kib", "0"],
        )
        .await?;
        let token = login(&reqwest::Client::new(), &server.base, ADMIN_EMAIL, PASSWORD).await?;
        let requests = requests(&seeded, size);
        let rows = compare(options, [&server, &rendering], &token, &requests, work).await?;
        print_rows(&rows);
        let p50 = |name: &str| {
            rows.iter()
                .find(|r| r.name == name)
                .map_or(Latency::default(), |r| Latency {
                    kept: r.server.p50,
                    rendered: r.rendered.p50,
                })
        };
        search_latency.push(Searches {
            size,
            one_match: p50("search u987@"),
            issue_query: p50("search u9987@"),
            okafor: p50("search okafor"),
        });
        let (_, peak_kib) = server.memory_kib().unwrap_or_default();
        let logins = logins(options, &server, work)?;
        let (_, peak_after_logins) = server.memory_kib().unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        #[allow(clippy::cast_precision_loss)]
        let per_core = logins.requests_per_second / cores as f64;
        println!(
            "16 concurrent logins for 10 s: {:.1} logins/s ({per_core:.1}/s per core, target \
             ≥ {LOGINS_PER_CORE}: {}), {} failed (503 or time-out)",
            logins.requests_per_second,
            verdict(per_core >= LOGINS_PER_CORE),
            logins.failures,
        );
        let peak = mib(peak_kib.max(peak_after_logins));
        println!(
            "server peak resident memory: {:.1} MiB after the requests, {:.1} MiB after the \
             logins (target ≤ {MEMORY_MIB} MiB: {})",
            mib(peak_kib),
            mib(peak_after_logins),
            verdict(peak <= MEMORY_MIB),
        );
        if size == soak_size {
            dry_runs_beside_writes(options, &server, &seeded, work).await?;
        }
        drop(server);
        if size == soak_size && options.soak_minutes > 0 {
            let server = process::start_server(&url, &data_dir, options.workers, &[]).await?;
            let wal = match &db.url {
                staffroom_persistence::DatabaseUrl::Sqlite(path) => {
                    Some(PathBuf::from(format!("{}-wal", path.display())))
                }
                _ => None,
            };
            soak(options, &server, &seeded, wal.as_deref(), work).await?;
        }
        sites.push(RenderingSite {
            size,
            rendering,
            token,
            _db: db,
        });
    }
    print_scaling(&search_latency);
    one_connection_scaling(options, &sites)?;
    Ok(())
}

/// A site kept to the end, with its server that renders every answer, for the search's
/// latency across sizes. The server is declared first so that it stops before its
/// database is dropped.
struct RenderingSite {
    size: usize,
    rendering: Child,
    token: String,
    _db: TestDatabase,
}

/// The search with one match (`q=u987@`) on every site's rendering server from one
/// connection, the sizes in turn within each round, `rounds` rounds: the median latency of
/// the search itself at each size, without the queueing of 8 connections on 2 cores and
/// measured side by side rather than minutes apart. The target is judged on the largest
/// size over the smallest.
fn one_connection_scaling(options: &Options, sites: &[RenderingSite]) -> Result<(), BoxError> {
    let (Some(small), Some(large)) = (sites.first(), sites.last()) else {
        return Ok(());
    };
    if small.size == large.size {
        return Ok(());
    }
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); sites.len()];
    for _ in 0..options.rounds {
        for (site, runs) in sites.iter().zip(&mut runs) {
            let headers = [format!("Authorization: Bearer {}", site.token)];
            let url = format!("{}/v1/users?q=u987%40", site.rendering.base);
            let load = Load {
                url: &url,
                threads: 1,
                connections: 1,
                duration: Duration::from_secs(options.seconds),
                headers: &headers,
                script: None,
            };
            runs.push(load.run()?);
        }
    }
    let medians: Vec<Run> = runs.iter().map(|r| Run::median(r)).collect();
    let (first, last) = (medians[0].p50, medians[medians.len() - 1].p50);
    let ratio = last.as_secs_f64() / first.as_secs_f64().max(1e-9);
    let each: Vec<String> = sites
        .iter()
        .zip(&medians)
        .map(|(site, run)| format!("{:.3} ms at {} users", ms(run.p50), site.size))
        .collect();
    println!(
        "search u987@ rendered every time, one connection, sizes side by side ({} rounds of \
         {} s): median latency {}; {} over {} users {ratio:.2}× (target ≤ {SEARCH_SCALING}×: \
         {}); {} failed",
        options.rounds,
        options.seconds,
        each.join(", "),
        large.size,
        small.size,
        verdict(ratio <= SEARCH_SCALING),
        medians.iter().map(|r| r.failures).sum::<u64>(),
    );
    Ok(())
}

fn requests(seeded: &Seeded, size: usize) -> Vec<Request> {
    vec![
        Request {
            name: "list limit=50".into(),
            path: "/v1/users?limit=50".into(),
            target: LIST_RATIO,
        },
        Request {
            name: "get one user".into(),
            path: format!("/v1/users/{}", seeded.users[size / 2]),
            target: GET_RATIO,
        },
        Request {
            name: "search okafor".into(),
            path: "/v1/users?q=okafor&limit=50".into(),
            target: SEARCH_RATIO,
        },
        // The issue's one-match search: one match at 10,000 and 100,000 users, none at 1,000.
        Request {
            name: "search u9987@".into(),
            path: "/v1/users?q=u9987%40".into(),
            target: SEARCH_RATIO,
        },
        // One match at every size (user 987 exists in each): the search across sizes.
        Request {
            name: "search u987@".into(),
            path: "/v1/users?q=u987%40".into(),
            target: SEARCH_RATIO,
        },
    ]
}

/// A median latency of the server and of the one that renders every answer.
#[derive(Debug, Default, Clone, Copy)]
struct Latency {
    kept: Duration,
    rendered: Duration,
}

/// The searches' median latencies at one site size.
struct Searches {
    size: usize,
    /// `u987@`: one match at every size, so its latency across sizes is the search's.
    one_match: Latency,
    /// `u9987@`: no match at 1,000 users, one from 10,000.
    issue_query: Latency,
    /// `okafor`: one user in 19 matches.
    okafor: Latency,
}

/// Each request against the server, the server rendering every answer and the ceiling,
/// in turn, `rounds` times. The token (a user's) is good on both servers: they share the
/// database and the signing secret.
async fn compare(
    options: &Options,
    [server, rendering]: [&Child; 2],
    token: &str,
    requests: &[Request],
    work: &Path,
) -> Result<Vec<Row>, BoxError> {
    let mut answers = HashMap::new();
    for request in requests {
        let answer = process::fetch(&server.base, &request.path, token).await?;
        answers.insert(request.path.clone(), answer);
    }
    let ceiling =
        process::start_ceiling(&answers, &work.join("ceiling.json"), options.workers).await?;
    let headers = [format!("Authorization: Bearer {token}")];
    let mut rows = Vec::new();
    for request in requests {
        let server_url = format!("{}{}", server.base, request.path);
        let rendering_url = format!("{}{}", rendering.base, request.path);
        let ceiling_url = format!("{}{}", ceiling.base, request.path);
        let (mut ours, mut rendered, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..options.rounds {
            ours.push(options.load(&server_url, &headers).run()?);
            rendered.push(options.load(&rendering_url, &headers).run()?);
            theirs.push(options.load(&ceiling_url, &headers).run()?);
        }
        rows.push(Row {
            name: request.name.clone(),
            server: Run::median(&ours),
            rendered: Run::median(&rendered),
            ceiling: Run::median(&theirs),
            target: request.target,
        });
    }
    Ok(rows)
}

fn print_rows(rows: &[Row]) {
    println!(
        "{:<22} {:>12} {:>9} {:>12} {:>9} {:>7} {:>8}  met",
        "request", "staffroom/s", "p99 ms", "ceiling/s", "p99 ms", "ratio", "target"
    );
    for row in rows {
        let mut met = row.ratio() >= row.target && row.server.failures == 0;
        if row.name.starts_with("list") {
            met &= row.server.p99 <= LIST_P99;
        }
        println!(
            "{:<22} {:>12.0} {:>9.2} {:>12.0} {:>9.2} {:>7.3} {:>8}  {}{}",
            row.name,
            row.server.requests_per_second,
            ms(row.server.p99),
            row.ceiling.requests_per_second,
            ms(row.ceiling.p99),
            row.ratio(),
            if row.name.starts_with("list") {
                format!("≥{}&5ms", row.target)
            } else {
                format!("≥{}", row.target)
            },
            verdict(met),
            if row.server.failures > 0 {
                format!(" ({} failed answers)", row.server.failures)
            } else {
                String::new()
            },
        );
        println!(
            "{:<22} {:>12.0} {:>9.2} {:>12} {:>9} {:>7.3}{}",
            "  rendered every time",
            row.rendered.requests_per_second,
            ms(row.rendered.p99),
            "",
            "",
            row.ratio_of(&row.rendered),
            if row.rendered.failures > 0 {
                format!("           ({} failed answers)", row.rendered.failures)
            } else {
                String::new()
            },
        );
    }
}

/// 16 connections logging in for 10 s.
fn logins(options: &Options, server: &Child, work: &Path) -> Result<Run, BoxError> {
    let script = work.join("login.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{{\"email\": \"{ADMIN_EMAIL}\", \"password\": \
             \"{PASSWORD}\"}}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ),
    )?;
    let url = format!("{}/v1/auth/login", server.base);
    Load {
        connections: 16,
        duration: Duration::from_secs(10),
        script: Some(&script),
        ..options.load(&url, &[])
    }
    .run()
}

/// Lists, gets, patches and bulk dry runs from 8 connections on fixed data (the patches
/// alternate a title on and off), sampling the server's resident memory every 2 s, with
/// what it is made of: anonymous memory (of which SQLite's heap, from `GET /metrics`), file
/// mappings and shared memory (SQLite's WAL index), and the size of the WAL file.
async fn soak(
    options: &Options,
    server: &Child,
    seeded: &Seeded,
    wal: Option<&Path>,
    work: &Path,
) -> Result<(), BoxError> {
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, ADMIN_EMAIL, PASSWORD).await?;
    let script = script(work, "soak", &token, seeded, &[LIST, GET, PATCH, DRY_RUN])?;
    let minutes = options.soak_minutes;
    println!("\n== soak: {minutes} min of lists, gets, patches and dry runs from 8 connections");
    let url = server.base.clone();
    let load = std::thread::spawn(move || {
        Load {
            url: &url,
            threads: 2,
            connections: 8,
            duration: Duration::from_secs(minutes * 60),
            headers: &[],
            script: Some(&script),
        }
        .run()
        .map_err(|e| e.to_string())
    });
    let mut samples: Vec<Sample> = Vec::new();
    let started = Instant::now();
    while !load.is_finished() {
        tokio::time::sleep(SAMPLE_EVERY).await;
        if let Some(sample) = Sample::take(&client, server, wal, started.elapsed()).await {
            samples.push(sample);
        }
    }
    let run = load.join().map_err(|_| "the soak load panicked")??;
    println!("    min   resident (anon, SQLite heap, file, shared)   WAL");
    for sample in samples.iter().step_by(30) {
        println!(
            "  {:>5.1}  {:>7.1} MiB ({:.1}, {:.1}, {:.1}, {:.1})  {:>6.1} MiB",
            sample.at.as_secs_f64() / 60.0,
            mib(sample.kib[RSS]),
            mib(sample.kib[ANON]),
            mib(sample.kib[SQLITE]),
            mib(sample.kib[FILE]),
            mib(sample.kib[SHARED]),
            mib(sample.kib[WAL]),
        );
    }
    let half = Duration::from_secs(minutes * 30);
    let last: Vec<&Sample> = samples.iter().filter(|s| s.at >= half).collect();
    let trend = |i: usize| {
        let points: Vec<(f64, f64)> = last
            .iter()
            .map(|s| (s.at.as_secs_f64(), kib_to_mb(s.kib[i])))
            .collect();
        let span = points.last()?.0 - points.first()?.0;
        let line = fit(&points)?;
        Some(Trend {
            growth: line.slope * span,
            error: line.slope_error * span,
            span,
            first_to_last: points.last()?.1 - points.first()?.1,
        })
    };
    if let Some(rss) = trend(RSS) {
        let part = |i: usize| trend(i).map_or(0.0, |t| t.growth);
        println!(
            "{:.0} requests/s, {} failed; resident memory over the last {:.1} min: grew \
             {:.2} ± {:.2} MB (least-squares trend of {} samples ± its standard error; {:.2} MB \
             from the first sample to the last; anon {:.2}, of which SQLite's heap {:.2}; file \
             {:.2}; shared {:.2}) (target < {SOAK_GROWTH_MB} MB: {})",
            run.requests_per_second,
            run.failures,
            rss.span / 60.0,
            rss.growth,
            rss.error,
            last.len(),
            rss.first_to_last,
            part(ANON),
            part(SQLITE),
            part(FILE),
            part(SHARED),
            verdict(rss.growth < SOAK_GROWTH_MB && run.failures == 0),
        );
    }
    Ok(())
}

/// How often the soak samples the server's memory: its page caches are emptied and refilled
/// within seconds, so a trend needs many samples to stand out of the swings.
const SAMPLE_EVERY: Duration = Duration::from_secs(2);

/// A fitted memory trend over `span` seconds, in MB.
struct Trend {
    growth: f64,
    error: f64,
    span: f64,
    first_to_last: f64,
}

// The parts of a soak sample, as indices of `Sample::kib`.
const RSS: usize = 0;
const ANON: usize = 1;
const FILE: usize = 2;
const SHARED: usize = 3;
const SQLITE: usize = 4;
const WAL: usize = 5;

/// One soak sample: resident, anonymous, file and shared memory of the server, SQLite's
/// heap in it and the WAL file's size, all in KiB, at the indices above.
struct Sample {
    at: Duration,
    kib: [u64; 6],
}

impl Sample {
    async fn take(
        client: &reqwest::Client,
        server: &Child,
        wal: Option<&Path>,
        at: Duration,
    ) -> Option<Sample> {
        let status = server.status_kib(&["VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"])?;
        let [rss, anon, file, shared] = status[..] else {
            return None;
        };
        let metrics = client
            .get(format!("{}/metrics", server.base))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let sqlite_bytes: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("staffroom_sqlite_memory_bytes "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        let wal_bytes = wal
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len());
        Some(Sample {
            at,
            // In the order of the indices RSS … WAL.
            kib: [
                rss,
                anon,
                file,
                shared,
                sqlite_bytes / 1024,
                wal_bytes / 1024,
            ],
        })
    }
}

#[allow(clippy::cast_precision_loss)]
fn kib_to_mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

// The requests a load script cycles through.
const LIST: u8 = 0;
const GET: u8 = 1;
/// A title set or cleared, in turn.
const PATCH: u8 = 2;
/// A bulk dry run over 50 users, adding a permission.
const DRY_RUN: u8 = 3;

/// A `wrk` script cycling through `kinds` (of the constants above), each over 200 of the
/// seeded users in turn, as `work/NAME.lua`.
fn script(
    work: &Path,
    name: &str,
    token: &str,
    seeded: &Seeded,
    kinds: &[u8],
) -> Result<PathBuf, BoxError> {
    let ids: Vec<String> = seeded
        .users
        .iter()
        .step_by((seeded.users.len() / 200).max(1))
        .map(|id| format!("\"{id}\""))
        .collect();
    let dry_run = format!(
        "{{\"dry_run\": true, \"user_ids\": [{}], \"add_permissions\": [\"view_reports\"]}}",
        ids[..ids.len().min(50)].join(", ")
    );
    let kinds: Vec<String> = kinds.iter().map(u8::to_string).collect();
    let script = format!(
        r#"local ids = {{ {ids} }}
local kinds = {{ {kinds} }}
local n = 0
local headers = {{ ["Authorization"] = "Bearer {token}", ["Content-Type"] = "application/json" }}
request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  local kind = kinds[(n % #kinds) + 1]
  if kind == {LIST} then
    return wrk.format("GET", "/v1/users?limit=50", headers)
  elseif kind == {GET} then
    return wrk.format("GET", "/v1/users/" .. id, headers)
  elseif kind == {PATCH} then
    local title = (math.floor(n / #kinds) % 2 == 0) and '"Dr"' or 'null'
    return wrk.format("PATCH", "/v1/users/" .. id, headers, '{{"title": ' .. title .. '}}')
  else
    return wrk.format("POST", "/v1/users/bulk-update", headers, '{dry_run}')
  end
end
"#,
        ids = ids.join(", "),
        kinds = kinds.join(", "),
    );
    let path = work.join(format!("{name}.lua"));
    std::fs::write(&path, script)?;
    Ok(path)
}

/// Bulk dry runs (4 connections) alone, then beside patches of the same site (4 more
/// connections), `rounds` times: a dry run reads a snapshot without the site lock, so the
/// site's writers should not hold it up.
async fn dry_runs_beside_writes(
    options: &Options,
    server: &Child,
    seeded: &Seeded,
    work: &Path,
) -> Result<(), BoxError> {
    let token = login(&reqwest::Client::new(), &server.base, ADMIN_EMAIL, PASSWORD).await?;
    let dry_runs = script(work, "dry-runs", &token, seeded, &[DRY_RUN])?;
    let patches = script(work, "patches", &token, seeded, &[PATCH])?;
    let load = |script: &Path| {
        Load {
            url: &server.base,
            threads: 1,
            connections: 4,
            duration: Duration::from_secs(options.seconds),
            headers: &[],
            script: Some(script),
        }
        .run()
    };
    let (mut alone, mut beside, mut writes) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..options.rounds {
        alone.push(load(&dry_runs)?);
        let (url, seconds, patches) = (server.base.clone(), options.seconds, patches.clone());
        let writer = std::thread::spawn(move || {
            Load {
                url: &url,
                threads: 1,
                connections: 4,
                duration: Duration::from_secs(seconds),
                headers: &[],
                script: Some(&patches),
            }
            .run()
            .map_err(|e| e.to_string())
        });
        beside.push(load(&dry_runs)?);
        writes.push(writer.join().map_err(|_| "the patch load panicked")??);
    }
    let (alone, beside, writes) = (
        Run::median(&alone),
        Run::median(&beside),
        Run::median(&writes),
    );
    println!(
        "bulk dry runs (50 users), 4 connections: alone {:.0}/s, p50 {:.2} ms, p99 {:.2} ms; \
         beside 4 connections of patches ({:.0} patches/s, p99 {:.2} ms): {:.0}/s, p50 \
         {:.2} ms, p99 {:.2} ms; {} failed",
        alone.requests_per_second,
        ms(alone.p50),
        ms(alone.p99),
        writes.requests_per_second,
        ms(writes.p99),
        beside.requests_per_second,
        ms(beside.p50),
        ms(beside.p99),
        alone.failures + beside.failures + writes.failures,
    );
    Ok(())
}

/// The median latency of the searches at the largest size over the smallest from the rounds
/// of 8 connections, as the server answers them and as it renders them (the search itself),
/// for context: each is 8 requests in flight on 2 cores, so it moves with the throughput of
/// a run minutes apart from the other size's (the target is judged by
/// [`one_connection_scaling`]). `u987@` has one match at every size; `u9987@` matches
/// nothing at 1,000 users, so its ratio also counts reading and rendering the one user it
/// finds from 10,000; `okafor`'s matches grow with the site.
fn print_scaling(searches: &[Searches]) {
    let (Some(small), Some(large)) = (searches.first(), searches.last()) else {
        return;
    };
    if small.size == large.size {
        return;
    }
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    println!();
    for (how, of) in [
        (
            "answered",
            (|l: &Latency| l.kept) as fn(&Latency) -> Duration,
        ),
        ("rendered every time", |l: &Latency| l.rendered),
    ] {
        let line = |name: &str, of_search: fn(&Searches) -> Latency| {
            let (a, b) = (of(&of_search(small)), of(&of_search(large)));
            (
                format!("{name} {:.2} → {:.2} ms", ms(a), ms(b)),
                ratio(a, b),
            )
        };
        let (one, one_ratio) = line("u987@", |s| s.one_match);
        let (issue, issue_ratio) = line("u9987@", |s| s.issue_query);
        let (okafor, okafor_ratio) = line("okafor", |s| s.okafor);
        println!(
            "{how}, 8 connections, median latency {} → {} users: search {one}, \
             {one_ratio:.2}×; {issue}, {issue_ratio:.2}× (0 then 1 match); {okafor}, \
             {okafor_ratio:.2}× (matches grow with the site)",
            small.size, large.size,
        );
    }
}

#[allow(clippy::cast_precision_loss)]
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
