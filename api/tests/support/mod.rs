//! What the process-level tests share: the database URL a `staffroom` child process is
//! given, and a child process whose stdout lines arrive on a channel, killed when dropped.
#![allow(dead_code, reason = "each test binary uses a part of it")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use staffroom_persistence::DatabaseUrl;
use staffroom_persistence::testing::TestDatabase;

/// The `STAFFROOM_DATABASE_URL` of a test database.
pub fn database_url(db: &TestDatabase) -> String {
    match &db.url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// The signing secret the `staffroom` processes of the tests share.
pub const SECRET: &str = "cli-test-secret-cli-test-secret-123456";

/// The imaging webhook secret the `staffroom` processes of the tests share.
pub const WEBHOOK_SECRET: &str = "whsec_Y2xpLXRlc3Qtd2ViaG9vay1zZWNyZXQtY2xpLXRlc3Q=";

/// The real binary with a clean environment: this database and data directory, one
/// token secret and one webhook secret, warnings only.
pub fn staffroom(db: &TestDatabase, data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_staffroom"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("STAFFROOM_DATABASE_URL", database_url(db))
        .env("STAFFROOM_DATA_DIR", data)
        .env("STAFFROOM_JWT_SECRET", SECRET)
        .env("STAFFROOM_IMAGING_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("STAFFROOM_LOG", "warn");
    cmd
}

/// A `staffroom` process (`serve` or `worker`), killed when dropped. Its stdout lines
/// arrive on `lines` (a thread drains the pipe); stderr goes to a file shown on failures.
pub struct Process {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    stderr: PathBuf,
    pub base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` with stdout on the process's channel and stderr in `data/{name}.stderr`.
pub fn spawn(mut cmd: Command, data: &Path, name: &str) -> Process {
    let stderr = data.join(format!("{name}.stderr"));
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    Process {
        child,
        lines,
        stderr,
        base: String::new(),
    }
}

impl Process {
    /// Waits for the first line of stdout, which must start with `prefix`.
    pub fn wait_first_line(&mut self, prefix: &str) -> String {
        let Ok(first) = self.lines.recv_timeout(Duration::from_secs(120)) else {
            let status = self.child.try_wait().ok().flatten();
            panic!(
                "the process did not start (exit: {status:?}): {}",
                self.log()
            );
        };
        assert!(first.starts_with(prefix), "{first}\n{}", self.log());
        first
    }

    /// Waits for `Staffroom is listening on http://ADDR`.
    pub fn wait_listening(&mut self) {
        let first = self.wait_first_line("Staffroom is listening on http://");
        self.base = first.split_whitespace().last().unwrap().to_owned();
    }

    /// Waits (bounded) for a later line of stdout that starts with `prefix` once trimmed, and
    /// returns the rest of it.
    pub fn line_after(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else {
                break;
            };
            if let Some(rest) = line.trim().strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
        panic!("no line starting with {prefix:?}: {}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the process did not stop on SIGTERM: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
