//! Python programs a benchmark compares against, installed from PyPI at a pinned version into
//! a virtual environment the benchmark owns (`target/bench-venv`, beside the binaries), so
//! that nothing is installed by hand: the first run creates it with `python3 -m venv` and
//! `pip install`, later runs find it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::BoxError;

/// A console script of a pinned PyPI package.
pub struct Package {
    /// The distribution name on PyPI.
    pub name: &'static str,
    pub version: &'static str,
    /// The console script it installs in the environment's `bin/`.
    pub script: &'static str,
}

/// The SCIM 2.0 server `scim` measures against: RFC 7643 Users and Groups held in memory,
/// served by Python's threaded WSGI server.
pub const SCIM2_SERVER: Package = Package {
    name: "scim2-server",
    version: "0.8.3",
    script: "scim2-server",
};

/// The benchmarks' virtual environment: `bench-venv` in the target directory this program
/// was built in (`target/release/scim` → `target/bench-venv`).
pub fn venv_dir() -> Result<PathBuf, BoxError> {
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot tell the target directory from this program's path")?;
    Ok(target.join("bench-venv"))
}

impl Package {
    /// The executable of the script: `explicit` when given (a flag or variable named it),
    /// else the one in `venv`, installed there first when it is missing or of another
    /// version.
    pub fn executable(&self, explicit: Option<PathBuf>, venv: &Path) -> Result<PathBuf, BoxError> {
        if let Some(path) = explicit {
            return if path.exists() {
                Ok(path)
            } else {
                Err(format!("{} does not exist", path.display()).into())
            };
        }
        let script = venv.join("bin").join(self.script);
        if script.exists() && self.installed_version(venv).as_deref() == Some(self.version) {
            return Ok(script);
        }
        self.install(venv)?;
        Ok(script)
    }

    fn installed_version(&self, venv: &Path) -> Option<String> {
        let output = Command::new(venv.join("bin").join("python"))
            .args([
                "-c",
                &format!(
                    "import importlib.metadata as m; print(m.version('{}'))",
                    self.name
                ),
            ])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    fn install(&self, venv: &Path) -> Result<(), BoxError> {
        let pinned = format!("{}=={}", self.name, self.version);
        eprintln!("installing {pinned} into {} …", venv.display());
        if !venv.join("bin").join("pip").exists() {
            run(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
        }
        run(Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &pinned,
        ]))
    }
}

fn run(command: &mut Command) -> Result<(), BoxError> {
    let output = command.output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into())
    }
}
