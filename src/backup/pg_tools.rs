//! PostgreSQL's own `pg_dump` and `pg_restore`: found where the server's
//! programs are looked for, checked against the server's version, and
//! started with the connection in libpq's variables (never a password on
//! the command line).

use crate::error::backup_problem::BackupProblem;
use crate::postgres::DatabaseTarget;
use crate::Error;
use std::path::PathBuf;
use std::process::Command;

/// A PostgreSQL client program and its version.
#[derive(Debug, Clone)]
pub(crate) struct PgProgram {
    pub(crate) name: &'static str,
    pub(crate) path: PathBuf,
    /// As it prints it (`pg_dump (PostgreSQL) 15.14`).
    pub(crate) version: String,
}

impl PgProgram {
    /// The first `name` that is at least the server's major version:
    /// `pg_dump` refuses newer servers, and `pg_restore` reads only the
    /// archives of its version and older.
    pub(crate) fn locate(name: &'static str, server_major: u32) -> Result<Self, Error> {
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut older: Vec<Self> = Vec::new();
        for dir in crate::devserver::binaries::candidate_dirs() {
            let path = dir.join(name);
            let Ok(real) = path.canonicalize() else {
                continue;
            };
            if seen.contains(&real) {
                continue;
            }
            seen.push(real);
            let Some((version, major)) = version_of(&path) else {
                continue;
            };
            let program = Self {
                name,
                path,
                version,
            };
            if major >= server_major {
                return Ok(program);
            }
            older.push(program);
        }
        let message = match older.first() {
            Some(found) => format!(
                "{} at {} is older than the server (PostgreSQL {server_major}), which it cannot read: install PostgreSQL \
                 {server_major}'s client programs (`apt-get install postgresql-client-{server_major}` on Debian/Ubuntu) \
                 or point SCHEMACTL_PG_BINDIR at their directory",
                found.version,
                found.path.display()
            ),
            None => format!(
                "not found on PATH or where PostgreSQL is usually installed: install PostgreSQL {server_major}'s client \
                 programs (`apt-get install postgresql-client-{server_major}` on Debian/Ubuntu) or point \
                 SCHEMACTL_PG_BINDIR at their directory"
            ),
        };
        Err(Error::Backup(Box::new(BackupProblem::Tool {
            program: name.into(),
            message,
        })))
    }

    /// A command running it against `target`: libpq's variables of the
    /// parent are dropped (they would fill what the target leaves out) and
    /// the target's are set, password included; it never prompts.
    pub(crate) fn against(&self, target: &DatabaseTarget) -> Command {
        let mut command = Command::new(&self.path);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PG") {
                command.env_remove(name);
            }
        }
        command
            .envs(target.libpq_environment())
            .arg("--no-password");
        command
    }

    /// A failure of this program, with the end of what it printed.
    pub(crate) fn failed(&self, status: std::process::ExitStatus, stderr: &str) -> Error {
        let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = said[said.len().saturating_sub(6)..].join("\n  ");
        Error::Backup(Box::new(BackupProblem::Tool {
            program: self.name.into(),
            message: format!("failed ({status}):\n  {tail}"),
        }))
    }
}

/// `(the version line, its major)` of `program --version`.
fn version_of(program: &std::path::Path) -> Option<(String, u32)> {
    let output = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let number = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let major = number.split(['.', ' ']).next()?.parse().ok()?;
    Some((text, major))
}

/// The server's major version.
pub(crate) async fn server_major(client: &tokio_postgres::Client) -> Result<(u32, String), Error> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int, current_setting('server_version')",
            &[],
        )
        .await
        .map_err(|e| {
            crate::postgres::history_table::database("cannot read the server's version", &e)
        })?;
    let number: i32 = row.get(0);
    Ok(((number / 10000) as u32, row.get(1)))
}
