//! The processes a load benchmark measures: the real `staffroom serve`, and the ceiling — a
//! bare actix-web server answering the same bytes from memory. Both are this benchmark's own
//! executable started again with `STAFFROOM_BENCH_ROLE` set, so that each has its own
//! resident memory to read and the load generator measures nothing but them. And Python's
//! `scim2-server` (see [`crate::python`]), the SCIM server `scim` compares against.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};

use crate::BoxError;

const ROLE: &str = "STAFFROOM_BENCH_ROLE";
const CEILING_FILE: &str = "STAFFROOM_BENCH_CEILING_FILE";
const CEILING_LISTEN: &str = "STAFFROOM_BENCH_CEILING_LISTEN";
const CEILING_WORKERS: &str = "STAFFROOM_BENCH_CEILING_WORKERS";

/// When this process was started as a child role, runs it and says how it ended.
pub fn run_child_role() -> Option<ExitCode> {
    match std::env::var(ROLE).ok()?.as_str() {
        // `staffroom_api::cli` reads the arguments this process was started with.
        "server" => Some(staffroom_api::cli::main()),
        "ceiling" => Some(match ceiling() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ceiling: {e}");
                ExitCode::FAILURE
            }
        }),
        other => {
            eprintln!("unknown {ROLE}: {other}");
            Some(ExitCode::FAILURE)
        }
    }
}

/// The `main` of a benchmark whose servers are its own executable started again: runs the
/// child role this process was started as, if any, else `run` on a Tokio runtime, printing
/// its error after `name`.
pub fn main_of<F>(name: &str, run: impl FnOnce() -> F) -> ExitCode
where
    F: std::future::Future<Output = Result<(), BoxError>>,
{
    if let Some(code) = run_child_role() {
        return code;
    }
    let result = tokio::runtime::Runtime::new()
        .map_err(BoxError::from)
        .and_then(|runtime| runtime.block_on(run()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A child process, killed when dropped.
pub struct Child {
    child: std::process::Child,
    pub base: String,
}

impl Child {
    /// Resident and peak resident memory in KiB (`VmRSS`, `VmHWM` of `/proc/PID/status`).
    pub fn memory_kib(&self) -> Option<(u64, u64)> {
        match self.status_kib(&["VmRSS:", "VmHWM:"])?[..] {
            [rss, hwm] => Some((rss, hwm)),
            _ => None,
        }
    }

    /// The named fields of `/proc/PID/status` (`VmRSS:`, `RssAnon:`, …) in KiB, in order.
    pub fn status_kib(&self, fields: &[&str]) -> Option<Vec<u64>> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
        };
        fields.iter().map(|name| field(name)).collect()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_address() -> Result<String, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

/// The imaging webhook secret of benchmark servers (required with PostgreSQL).
const BENCH_WEBHOOK_SECRET: &str = "whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtYmVuY2gtd2ViaG9vaw==";

/// Starts `staffroom serve` on `database_url` with `workers` HTTP workers, no rate limit and
/// the given extra arguments, and waits until it is ready.
pub async fn start_server(
    database_url: &str,
    data_dir: &Path,
    workers: usize,
    extra: &[&str],
) -> Result<Child, BoxError> {
    let listen = free_address()?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .env(ROLE, "server")
        .env("STAFFROOM_LOG", "warn")
        .args(["--database-url", database_url])
        .args(["--data-dir", &data_dir.display().to_string()])
        .args(["serve", "--listen", &listen])
        .args(["--workers", &workers.to_string(), "--rate-limit", "0"])
        .args(["--jwt-secret", "bench-secret-bench-secret-bench-secret!!"])
        .args(["--imaging-webhook-secret", BENCH_WEBHOOK_SECRET])
        .args(extra);
    spawn_ready(command, format!("http://{listen}"), "/readyz").await
}

/// Starts Python's `scim2-server` (`executable`) on a free loopback port, accepting
/// `bearer_token` only, and waits until it answers; its SCIM base is `{base}/v2`.
pub async fn start_scim2_server(executable: &Path, bearer_token: &str) -> Result<Child, BoxError> {
    let listen = free_address()?;
    let (host, port) = listen.rsplit_once(':').ok_or("no port in the address")?;
    let mut command = Command::new(executable);
    command
        .args(["--hostname", host, "--port", port])
        .args(["--bearer-token", bearer_token])
        // It logs every request on stderr.
        .stderr(Stdio::null());
    spawn_ready(
        command,
        format!("http://{listen}"),
        "/v2/ServiceProviderConfig",
    )
    .await
}

/// Spawns `command` (its output discarded) as the server at `base`, and waits until
/// `base + ready_path` answers with success.
async fn spawn_ready(
    mut command: Command,
    base: String,
    ready_path: &str,
) -> Result<Child, BoxError> {
    let child = Child {
        child: command.stdout(Stdio::null()).spawn()?,
        base,
    };
    wait_ready(&format!("{}{ready_path}", child.base)).await?;
    Ok(child)
}

/// Starts the ceiling: `workers` actix-web workers answering each `path?query` of `answers`
/// (written to `file`) with its stored content type and body.
pub async fn start_ceiling(
    answers: &HashMap<String, (String, String)>,
    file: &Path,
    workers: usize,
) -> Result<Child, BoxError> {
    std::fs::write(file, serde_json::to_vec(answers)?)?;
    let listen = free_address()?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .env(ROLE, "ceiling")
        .env(CEILING_FILE, file)
        .env(CEILING_LISTEN, &listen)
        .env(CEILING_WORKERS, workers.to_string());
    spawn_ready(command, format!("http://{listen}"), "/healthz").await
}

async fn wait_ready(url: &str) -> Result<(), BoxError> {
    let started = Instant::now();
    let http = reqwest::Client::new();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(answer) = http.get(url).send().await
            && answer.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{url} did not answer within 60 s").into())
}

type Answers = HashMap<String, (String, Bytes)>;

async fn answer(request: HttpRequest, answers: web::Data<Answers>) -> HttpResponse {
    let key = match request.query_string() {
        "" => request.path().to_owned(),
        query => format!("{}?{query}", request.path()),
    };
    match answers.get(&key) {
        Some((content_type, body)) => HttpResponse::Ok()
            .content_type(content_type.as_str())
            .body(body.clone()),
        None if request.path() == "/healthz" => HttpResponse::Ok().finish(),
        None => HttpResponse::NotFound().finish(),
    }
}

fn ceiling() -> Result<(), BoxError> {
    let file = std::env::var(CEILING_FILE)?;
    let listen = std::env::var(CEILING_LISTEN)?;
    let workers: usize = std::env::var(CEILING_WORKERS)?.parse()?;
    let stored: HashMap<String, (String, String)> = serde_json::from_slice(&std::fs::read(file)?)?;
    let answers: Answers = stored
        .into_iter()
        .map(|(path, (content_type, body))| (path, (content_type, Bytes::from(body))))
        .collect();
    let answers = web::Data::new(answers);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(answers.clone())
                .default_service(web::to(answer))
        })
        .workers(workers)
        .bind(listen)?
        .run()
        .await
    })?;
    Ok(())
}

/// `GET base+path` with the bearer token: the content type and body the ceiling must answer.
pub async fn fetch(base: &str, path: &str, token: &str) -> Result<(String, String), BoxError> {
    let answer = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await?;
    if !answer.status().is_success() {
        return Err(format!("GET {path} answered {}", answer.status()).into());
    }
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    Ok((content_type, answer.text().await?))
}
