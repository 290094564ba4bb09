//! Finding `initdb` and `pg_ctl`.

use crate::Error;
use std::path::{Path, PathBuf};

/// A directory holding PostgreSQL's server programs.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    dir: PathBuf,
}

impl PgBinaries {
    /// Looks in `SCHEMACTL_PG_BINDIR`, then `PATH`, then the usual install
    /// locations (Debian/Ubuntu, RHEL, Homebrew, source builds); the newest
    /// version wins where several are installed.
    pub fn locate() -> Result<Self, Error> {
        candidate_dirs()
            .into_iter()
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
            .map(|dir| Self { dir })
            .ok_or_else(|| {
                Error::EmbeddedServer(
                    "no PostgreSQL server programs (initdb, pg_ctl) were found on PATH or in the usual places. \
                     Install them (`apt-get install postgresql` on Debian/Ubuntu, `dnf install postgresql-server` on Fedora/RHEL, \
                     `brew install postgresql@17` on macOS), set SCHEMACTL_PG_BINDIR to their directory, \
                     or give a database with --database-url / DATABASE_URL"
                        .into(),
                )
            })
    }

    /// The path of one program: in the directory `initdb` was found in,
    /// or, when that holds only links to the server programs (a
    /// `/usr/local/bin` with `initdb` and `pg_ctl` linked), beside the
    /// real `initdb`.
    pub fn program(&self, name: &str) -> PathBuf {
        let here = self.dir.join(name);
        if here.is_file() {
            return here;
        }
        std::fs::canonicalize(self.dir.join("initdb"))
            .ok()
            .and_then(|initdb| Some(initdb.parent()?.join(name)))
            .filter(|beside| beside.is_file())
            .unwrap_or(here)
    }
}

/// Where PostgreSQL's programs may be, in the order they are looked for:
/// `SCHEMACTL_PG_BINDIR`, then `PATH`, then the usual install locations
/// (Debian/Ubuntu, RHEL, Homebrew, source builds), newest version first.
pub(crate) fn candidate_dirs() -> Vec<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("SCHEMACTL_PG_BINDIR") {
        candidates.push(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    for pattern in [
        "/usr/lib/postgresql",
        "/usr/local/opt",
        "/opt/homebrew/opt",
        "/usr",
    ] {
        candidates.extend(versioned_dirs(Path::new(pattern)));
    }
    candidates.extend(
        [
            "/usr/local/pgsql/bin",
            "/opt/homebrew/bin",
            "/usr/local/bin",
        ]
        .map(PathBuf::from),
    );
    candidates
}

/// `<root>/<version>/bin` (Debian), `<root>/postgresql@<version>/bin`
/// (Homebrew), `<root>/pgsql-<version>/bin` (RHEL), newest first.
fn versioned_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name
                .strip_prefix("postgresql@")
                .or_else(|| name.strip_prefix("pgsql-"))
                .or_else(|| name.strip_prefix("postgresql-"))
                .unwrap_or(&name);
            let major: u32 = version.split('.').next()?.parse().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    found.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    found.into_iter().map(|(_, dir)| dir).collect()
}
