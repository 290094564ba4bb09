//! Installing what the tests and benchmarks need on a fresh machine.

use anyhow::{bail, Context, Result};
use schemactl::embedded::binaries::PgBinaries;
use std::process::Command;

/// Makes sure `initdb` and `pg_ctl` can be found; installs Debian's
/// `postgresql` package when they cannot and we may (root with apt-get).
pub fn ensure_postgres() -> Result<()> {
    if PgBinaries::locate().is_ok() {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if !is_root || Command::new("apt-get").arg("--version").output().is_err() {
        bail!("the tests need the PostgreSQL server programs (initdb, pg_ctl): install them (e.g. `apt-get install postgresql`) or set SCHEMACTL_PG_BINDIR");
    }
    eprintln!("xtask: installing PostgreSQL (apt-get install postgresql)");
    let install = || {
        Command::new("apt-get")
            .args([
                "install",
                "-y",
                "--no-install-recommends",
                "postgresql",
                "postgresql-client",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
    };
    if !install().context("run apt-get")?.success() {
        Command::new("apt-get")
            .arg("update")
            .status()
            .context("run apt-get update")?;
        if !install().context("run apt-get")?.success() {
            bail!("apt-get install postgresql failed");
        }
    }
    PgBinaries::locate()
        .map(drop)
        .context("PostgreSQL was installed but initdb/pg_ctl are still not found")
}

/// The pinned SecantusDB (a MongoDB-wire server) the MongoDB tests run against.
const SECANTUSDB: &str = "secantusdb==0.7.0b3";

/// Installs SecantusDB into `target/secantus-venv` when it is not there, and
/// returns the path of its server program.
pub fn ensure_secantus() -> Result<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let venv = root.join("target/secantus-venv");
    let server = venv.join("bin/secantusd-py");
    if server.is_file() {
        return Ok(server);
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .context("the MongoDB tests need python3 to install SecantusDB")?;
    let make_venv = || {
        Command::new(python)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
    };
    if !make_venv()?.success() {
        eprintln!("xtask: installing python3-venv");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "python3-venv"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        if !make_venv()?.success() {
            bail!("cannot create a Python virtualenv for SecantusDB (install python3-venv)");
        }
    }
    eprintln!("xtask: installing {SECANTUSDB} into {}", venv.display());
    let pip = venv.join("bin/pip");
    if !Command::new(&pip)
        .args(["install", "--quiet", SECANTUSDB])
        .status()?
        .success()
    {
        bail!("pip install {SECANTUSDB} failed");
    }
    Ok(server)
}
