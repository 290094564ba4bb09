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
