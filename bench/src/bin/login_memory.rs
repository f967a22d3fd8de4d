//! Resident memory of a `staffroom serve` process under concurrent logins.
//!
//! Starts the `staffroom` binary (the one built next to this program, or `--binary PATH`)
//! as its own process on a fresh SQLite database in a temporary directory, bootstraps a
//! site, then keeps `--clients` (16) logins in flight for `--seconds` (10) and samples the
//! server's `/proc/PID/status` every 50 ms. Prints the logins per second, the answers by
//! status, and the resident memory: at rest after start-up, the largest sample under load,
//! at the end, and the kernel's high-water mark (`VmHWM`). Extra `STAFFROOM_*` settings for
//! the server (such as `STAFFROOM_PASSWORD_HASHING_PERMITS`) are passed through from the
//! environment.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use staffroom_bench::BoxError;

const EMAIL: &str = "admin@memory.test";
const PASSWORD: &str = "a long passphrase for the bench";

struct Settings {
    binary: PathBuf,
    clients: usize,
    seconds: u64,
}

fn settings() -> Result<Settings, BoxError> {
    let mut settings = Settings {
        binary: std::env::current_exe()?
            .parent()
            .ok_or("no directory for this program")?
            .join("staffroom"),
        clients: 16,
        seconds: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--binary" => settings.binary = PathBuf::from(value),
            "--clients" => settings.clients = value.parse()?,
            "--seconds" => settings.seconds = value.parse()?,
            other => {
                return Err(format!(
                    "unknown argument {other}; use --binary PATH, --clients N, --seconds N"
                )
                .into());
            }
        }
    }
    Ok(settings)
}

/// The server process; killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn staffroom(binary: &Path, data: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env("STAFFROOM_DATA_DIR", data)
        .env_remove("STAFFROOM_DATABASE_URL")
        .env("STAFFROOM_RATE_LIMIT", "0")
        .env("STAFFROOM_LOG", "warn");
    cmd
}

/// `VmRSS` and `VmHWM` of `pid`, in KiB.
fn memory_kib(pid: u32) -> Result<(u64, u64), BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64, BoxError> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or(format!("no {name} in /proc/{pid}/status"))?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .ok_or("empty field")?
            .parse()?)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn mib(kib: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mib = kib as f64 / 1024.0;
    format!("{mib:.1} MiB")
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = settings()?;
    let data = std::env::temp_dir().join(format!("staffroom-login-memory-{}", std::process::id()));
    std::fs::create_dir_all(&data)?;
    let bootstrapped = staffroom(&settings.binary, &data)
        .args(["bootstrap", "--site-name", "Memory", "--plan", "flex"])
        .args(["--licences", "10", "--admin-email", EMAIL])
        .args(["--admin-password", PASSWORD])
        .output()?;
    if !bootstrapped.status.success() {
        return Err(format!(
            "bootstrap failed: {}",
            String::from_utf8_lossy(&bootstrapped.stderr)
        )
        .into());
    }
    let mut child = staffroom(&settings.binary, &data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let pid = server.0.id();
    let mut first = String::new();
    let mut lines = BufReader::new(stdout);
    lines.read_line(&mut first)?;
    // Keep reading what the server prints: a closed pipe would fail its next line.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let base = first
        .trim()
        .strip_prefix("Staffroom is listening on ")
        .ok_or(format!("unexpected first line: {first}"))?
        .to_owned();
    let http = reqwest::Client::new();
    // One login first: start-up done, the dummy hash made.
    staffroom_bench::login(&http, &base, EMAIL, PASSWORD).await?;
    let (at_rest, _) = memory_kib(pid)?;

    let running = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let clients: Vec<_> = (0..settings.clients)
        .map(|_| {
            let (http, base, running) = (http.clone(), base.clone(), running.clone());
            tokio::spawn(async move {
                let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
                while running.load(Ordering::Relaxed) {
                    let status = http
                        .post(format!("{base}/v1/auth/login"))
                        .json(&json!({"email": EMAIL, "password": PASSWORD}))
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16());
                    *statuses.entry(status).or_default() += 1;
                }
                statuses
            })
        })
        .collect();
    let mut peak = 0;
    let deadline = started + Duration::from_secs(settings.seconds);
    while Instant::now() < deadline {
        peak = peak.max(memory_kib(pid)?.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.store(false, Ordering::Relaxed);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for client in clients {
        for (status, n) in client.await? {
            *statuses.entry(status).or_default() += n;
        }
    }
    let elapsed = started.elapsed();
    let (at_end, high_water) = memory_kib(pid)?;
    drop(server);
    let _ = std::fs::remove_dir_all(&data);

    let succeeded = statuses.get(&200).copied().unwrap_or_default();
    #[allow(clippy::cast_precision_loss)]
    let rate = succeeded as f64 / elapsed.as_secs_f64();
    let permits = std::env::var("STAFFROOM_PASSWORD_HASHING_PERMITS")
        .unwrap_or_else(|_| "default".to_owned());
    println!(
        "login-memory: {} ({}), {} clients for {:.1} s, hashing permits: {permits}",
        settings.binary.display(),
        if cfg!(debug_assertions) {
            "bench built in debug"
        } else {
            "bench built in release"
        },
        settings.clients,
        elapsed.as_secs_f64()
    );
    println!("  logins succeeded: {succeeded} ({rate:.1}/s)");
    println!("  answers by status: {statuses:?} (0: no answer)");
    println!("  resident at rest:  {}", mib(at_rest));
    println!("  resident peak:     {} (sampled every 50 ms)", mib(peak));
    println!("  resident at end:   {}", mib(at_end));
    println!("  VmHWM:             {}", mib(high_water));
    Ok(())
}
