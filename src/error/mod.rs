//! The library's error type. Each variant names a situation a user has to
//! act on, carries what they need to act, and maps to one documented exit
//! code.

pub mod ahead;
pub mod backup_problem;
pub(crate) mod exit_code;
pub mod refusal;
pub(crate) mod unfinished_run;

use crate::model::text_position::TextPosition;
use crate::model::SourceProblem;
use crate::model::Version;
use crate::model::{Checksum, Direction};
use exit_code::ExitCode;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
pub use unfinished_run::UnfinishedRun;

/// Everything that can stop a schemactl command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The migrations directory does not exist.
    #[error("the migrations directory {} does not exist; create it with `schemactl new <name>`, or point `--migrations-dir` (or `migrations_dir` in schemactl.toml) at it", path.display())]
    MigrationsDirMissing {
        /// The directory that was looked for.
        path: PathBuf,
    },
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Files of the migrations directory that cannot be used as they are.
    #[error("{}", list_grouped("the migrations cannot be used as they are:", .0))]
    InvalidMigrations(Vec<SourceProblem>),
    /// The recorded history disagrees with the files.
    #[error("{}", list("the database history does not match the migration files:", .0))]
    HistoryMismatch(Vec<Problem>),
    /// Migrations newer than every file of the directory are applied (an
    /// application rolled back to an older release); nothing was changed.
    #[error("{0}")]
    DatabaseAhead(Box<ahead::Ahead>),
    /// The history table has rows schemactl cannot trust (NULLs, versions
    /// recorded twice); nothing was changed.
    #[error("{}", list(&format!("the history in {table} cannot be trusted as it is; nothing was changed:"), problems))]
    CorruptHistory {
        /// The history table.
        table: String,
        /// Each bad row and its fix.
        problems: Vec<String>,
    },
    /// A command refused to start because doing so would be unsafe;
    /// nothing was changed. Its kind is for programs to match on.
    #[error("{0}")]
    Refused(crate::error::refusal::Refusal),
    /// A migration failed while it ran.
    #[error("{0}")]
    MigrationFailed(Box<MigrationFailure>),
    /// Replaying the applied migrations on a scratch database (for `diff`
    /// and `fleet diff`) failed; nothing ran on the live database.
    #[error("{}", replay_failed_message(.0))]
    ReplayFailed(Box<MigrationFailure>),
    /// The migration lock was not free within the wait timeout.
    #[error("{}", lock_timeout_message(*waited, holders))]
    LockTimeout {
        /// How long schemactl waited.
        waited: Duration,
        /// The sessions holding the lock, from `pg_stat_activity`.
        holders: Vec<LockHolder>,
    },
    /// The MongoDB migration lock was not free within the wait timeout.
    #[error("the MongoDB migration lock of database {database} was held by {holder} for longer than {} s; nothing was changed. \
             Wait for that run and retry, or raise --lock-wait; if it died, the lock frees itself when it expires \
             (or delete the document {{_id: \"migrate\"}} from {database}.schema_versions_lock)", waited.as_secs_f64())]
    MongoLockTimeout {
        /// The database whose lock it is.
        database: String,
        /// How long schemactl waited.
        waited: Duration,
        /// Who holds it.
        holder: String,
    },
    /// The database could not be reached or refused the login.
    #[error("cannot connect to {target}: {message}")]
    Connect {
        /// The target, with its password removed.
        target: String,
        /// Why.
        message: String,
    },
    /// A query of schemactl's own failed.
    #[error("{context}: {message}")]
    Database {
        /// What schemactl was doing.
        context: String,
        /// The server's message.
        message: String,
        /// PostgreSQL's SQLSTATE, when the server sent one (`"sqlstate"`
        /// in the JSON error's details), for programs to tell errors apart.
        sqlstate: Option<String>,
    },
    /// TLS could not be set up as asked.
    #[error("TLS: {0}")]
    Tls(String),
    /// The configuration is wrong.
    #[error("{}: {message}", path.display())]
    Config {
        /// The configuration file, or the flag or variable.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Several configuration values are wrong; each is an
    /// [`Error::Config`] naming its flag, variable or file and key.
    #[error("{}", list("the configuration has several problems; nothing was done:", .0))]
    ConfigProblems(Vec<Error>),
    /// No database was given, and the embedded development server was not
    /// asked for.
    #[error("no database to work on: set DATABASE_URL (or --database-url, or `[postgres] url` in schemactl.toml); \
             to use schemactl's own development PostgreSQL instead, pass --dev (or set `[dev] enabled = true`). \
             Without --dev it is used only on a terminal outside CI, so that a deploy without its URL fails instead of migrating a throwaway database")]
    NoDatabase,
    /// An argument is wrong.
    #[error("{0}")]
    InvalidArgument(String),
    /// A backup cannot be made, read or trusted.
    #[error("{0}")]
    Backup(Box<backup_problem::BackupProblem>),
    /// The embedded development PostgreSQL could not be set up or started.
    #[error("embedded PostgreSQL: {0}")]
    EmbeddedServer(String),
}

impl Error {
    /// A refusal of `kind`, explained by `message`.
    pub fn refused(kind: crate::error::refusal::RefusalKind, message: String) -> Self {
        Error::Refused(crate::error::refusal::Refusal::new(kind, message))
    }

    /// A refusal of `kind` about the migrations `versions`, explained by
    /// `message`.
    pub fn refused_about(
        kind: crate::error::refusal::RefusalKind,
        versions: impl IntoIterator<Item = Version>,
        message: String,
    ) -> Self {
        Error::Refused(crate::error::refusal::Refusal::new(kind, message).about(versions))
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::HistoryMismatch(_) | Error::Refused(_) | Error::CorruptHistory { .. } => {
                ExitCode::ProblemsFound
            }
            Error::MigrationFailed(failure) if failure.is_blocked_by_locks() => {
                ExitCode::BlockedByLocks
            }
            Error::MigrationFailed(_) => ExitCode::MigrationFailed,
            Error::ReplayFailed(_) => ExitCode::ReplayFailed,
            Error::DatabaseAhead(_) => ExitCode::DatabaseAhead,
            Error::Backup(problem) if problem.is_finding() => ExitCode::ProblemsFound,
            Error::LockTimeout { .. } | Error::MongoLockTimeout { .. } => ExitCode::LockTimeout,
            _ => ExitCode::Error,
        }
    }
}

fn replay_failed_message(failure: &MigrationFailure) -> String {
    format!(
        "cannot replay the applied migrations on a scratch database; nothing ran on the live database and nothing was changed.\n\
         {failure}\n\
         The live history records this migration as applied, but its file does not run on the scratch server as it is: \
         it was edited after it was applied (`schemactl validate` says), or it needs what the scratch server lacks \
         (a newer PostgreSQL, an extension, a role); point --dev-url at a server like the live one"
    )
}

/// Like [`list`], with the problems that say the same of several files
/// (names no layout reads, most often) in one line naming a few of them.
fn list_grouped(title: &str, problems: &[SourceProblem]) -> String {
    let mut groups: Vec<(&str, Vec<&SourceProblem>)> = Vec::new();
    for problem in problems {
        match groups
            .iter_mut()
            .find(|(message, _)| problem.position.is_none() && *message == problem.message)
        {
            Some((_, members)) => members.push(problem),
            None => groups.push((&problem.message, vec![problem])),
        }
    }
    let lines: Vec<String> = groups
        .into_iter()
        .flat_map(|(message, members)| {
            if members.len() < 3 || members.iter().any(|p| p.position.is_some()) {
                return members.iter().map(|p| p.to_string()).collect::<Vec<_>>();
            }
            let named: Vec<String> = members
                .iter()
                .take(3)
                .map(|p| p.path.display().to_string())
                .collect();
            vec![format!(
                "{} files ({}{}): {message}",
                members.len(),
                named.join(", "),
                if members.len() > 3 { ", …" } else { "" }
            )]
        })
        .collect();
    list(title, &lines)
}

fn list<T: fmt::Display>(title: &str, items: &[T]) -> String {
    let mut out = title.to_string();
    for item in items {
        out.push_str("\n  - ");
        out.push_str(&item.to_string().replace('\n', "\n    "));
    }
    out
}

/// A disagreement between the migration files and the recorded history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Problem {
    /// An applied migration's file was edited after it was applied.
    Modified {
        /// The version.
        version: Version,
        /// The file.
        path: PathBuf,
        /// The checksum recorded when it was applied.
        recorded: String,
        /// The checksum of the file now.
        current: String,
    },
    /// An applied migration's file is gone.
    Missing {
        /// The version.
        version: Version,
        /// The name recorded when it was applied.
        name: String,
    },
    /// A migration failed or was interrupted and left a failed row.
    Failed {
        /// The version.
        version: Version,
        /// The name recorded.
        name: String,
        /// The error recorded with it.
        error: Option<String>,
        /// For a row its run started and did not finish (a `no-transaction`
        /// script): whether that run is still going, as the server says.
        /// `None`: the row records a failure.
        #[serde(skip_serializing_if = "Option::is_none")]
        unfinished: Option<UnfinishedRun>,
    },
    /// A pending migration is older than the newest applied one.
    OutOfOrder {
        /// The pending version.
        version: Version,
        /// Its file.
        path: PathBuf,
        /// The newest applied version.
        highest_applied: Version,
    },
}

impl Problem {
    /// The version the problem is about.
    pub fn version(&self) -> &Version {
        match self {
            Problem::Modified { version, .. }
            | Problem::Missing { version, .. }
            | Problem::Failed { version, .. }
            | Problem::OutOfOrder { version, .. } => version,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Modified { version, path, recorded, current } => write!(
                f,
                "{} was edited after it was applied (applied sha256 {}, file sha256 {}).\n\
                 Restore the file as it was applied (`git log -p -- {}`) and put the change in a new migration; \
                 if the edit is only cosmetic, record the new checksum with `schemactl repair {}`.",
                path.display(),
                Checksum::from_recorded(recorded.clone()).short(),
                Checksum::from_recorded(current.clone()).short(),
                path.display(),
                version_flag("--accept-checksum", version)
            ),
            Problem::Missing { version, name } => write!(
                f,
                "version {version} ({name}) is applied but its file is missing from the migrations directory.\n\
                 Restore the file; if it was removed on purpose, drop its record with `schemactl repair {}`.",
                version_flag("--forget", version)
            ),
            Problem::Failed {
                version,
                name,
                error,
                unfinished,
            } => failed(f, version, name, error.as_deref(), unfinished.as_ref()),
            Problem::OutOfOrder { version, path, highest_applied } => write!(
                f,
                "{} (version {version}) is pending but version {highest_applied} is already applied.\n\
                 Renumber it above {highest_applied} (`schemactl new <name>` picks the next number), \
                 or apply it anyway with `schemactl migrate --allow-out-of-order`.",
                path.display()
            ),
        }
    }
}

/// What a failed or unfinished migration's problem says: what the server
/// knows of its run, then how to recover (never while the run is going).
fn failed(
    f: &mut fmt::Formatter<'_>,
    version: &Version,
    name: &str,
    error: Option<&str>,
    unfinished: Option<&UnfinishedRun>,
) -> fmt::Result {
    match unfinished {
        Some(UnfinishedRun::Going { holders }) => {
            let lease = holders.first().is_some_and(LockHolder::is_lease);
            let why = if lease {
                "the lease of the run that started it is live"
            } else {
                "the server session that runs its script is still there"
            };
            write!(f, "version {version} ({name}) is being applied right now: {why}")?;
            for holder in holders {
                write!(f, "\n  {}", holder_text(holder))?;
            }
            return match holders.first() {
                Some(_) if lease => write!(
                    f,
                    "\nWait for it to finish and look again (`schemactl status`). If that run died, its lease ends at the time shown \
                     (`--lock-ttl`); then check the database before `schemactl repair`."
                ),
                first => write!(
                    f,
                    "\nWait for it to finish and look again (`schemactl status`). If that run's process is gone, its server session may still be \
                     running the script: end it with `SELECT pg_terminate_backend({})`, then check the database before `schemactl repair`.",
                    first.map(|h| h.pid).unwrap_or_default()
                ),
            };
        }
        Some(UnfinishedRun::Ended) => write!(
            f,
            "version {version} ({name}) was interrupted: the run that started it ended without finishing it"
        )?,
        _ => write!(
            f,
            "version {version} ({name}) failed or was interrupted{}",
            error.map(|e| format!(": {e}")).unwrap_or_default()
        )?,
    }
    write!(
        f,
        ".\nSome of its statements may have been applied: check the database (an index built CONCURRENTLY that failed \
         stays behind as INVALID: drop it), complete or undo them by hand, then run `schemactl repair {}` if it is now complete, \
         or `schemactl repair {}` so that the next `migrate` runs it again.",
        version_flag("--mark-applied", version),
        version_flag("--remove-failed", version)
    )
}

/// What a failed script left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FailureOutcome {
    /// Nothing ran: the script could not be used as it is.
    NotStarted,
    /// Its transaction was rolled back: nothing of it remains, nothing is recorded.
    RolledBack,
    /// It ran outside a transaction: the statements before the failing one
    /// stay applied, and its history row is marked failed.
    FailedOutsideTransaction,
    /// The script ended the transaction the run opened for it, so part of it
    /// is committed; its history row is marked failed.
    PartiallyApplied,
    /// The connection broke while it was being committed: whether it was
    /// applied is unknown until `status` is run.
    Unknown,
    /// A backfill stopped at a batch: the batches before it are committed
    /// with their progress, that one was rolled back, and the migration is
    /// not recorded; the next run resumes after the last committed batch.
    BackfillInterrupted,
}

/// What PostgreSQL says became of the transaction schemactl opened for a
/// script that ended it itself (`pg_xact_status` of its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TransactionFate {
    /// The script committed it: what ran before that point is there.
    Committed,
    /// The script rolled it back: what ran before that point is undone.
    Aborted,
}

/// Everything known about a migration that failed while it ran.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct MigrationFailure {
    /// The version.
    pub version: Version,
    /// `0003_add_orders`.
    pub label: String,
    /// The script that failed.
    pub path: PathBuf,
    /// Up or down (`"direction": "up"` or `"down"` in JSON).
    pub direction: Direction,
    /// Whether it ran in a transaction.
    pub transactional: bool,
    /// How it ran (`"execution": "transaction"`, `"no-transaction"` or
    /// `"one-message"` in JSON).
    pub execution: crate::model::Execution,
    /// What of it remains in the database.
    pub outcome: FailureOutcome,
    /// When the script ended schemactl's transaction itself: what the
    /// server says became of it (`"own_transaction"` in JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_transaction: Option<TransactionFate>,
    /// Where in the file the error points, when PostgreSQL said.
    pub position: Option<TextPosition>,
    /// The line of the file at that position.
    pub source_line: Option<String>,
    /// The start of the failing statement.
    pub statement: String,
    /// Where the failing statement starts in the file.
    pub statement_position: Option<TextPosition>,
    /// PostgreSQL's message (or the client's, when the connection failed).
    pub message: String,
    /// PostgreSQL's SQLSTATE code.
    pub code: Option<String>,
    /// PostgreSQL's detail.
    pub detail: Option<String>,
    /// PostgreSQL's hint.
    pub hint: Option<String>,
    /// PostgreSQL's context (for errors inside functions).
    pub context: Option<String>,
    /// The version of the server that ran it (when the server reported the
    /// error): a migration written for a newer PostgreSQL fails on syntax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// Migrations this run applied before the failure; they stay applied.
    /// (For a `rollback`, always empty: see `rolled_back_before`.)
    pub applied_before: Vec<String>,
    /// Migrations this `rollback` undid before the failure; they stay undone
    /// (their history rows are gone).
    pub rolled_back_before: Vec<String>,
    /// Migrations of the plan after the failing one, which did not run:
    /// still pending (`migrate`) or still applied (`rollback`).
    pub not_reached: Vec<String>,
    /// When it timed out waiting for a lock (SQLSTATE 55P03): how many
    /// times it was tried, and the sessions holding the locks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_contention: Option<LockContention>,
    /// After a `no-transaction` script failed: the indexes left INVALID (an
    /// interrupted `CREATE INDEX CONCURRENTLY`), each with the statement
    /// that removes it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_indexes: Vec<crate::runner::contention::InvalidIndex>,
    /// For a script run statement by statement outside a transaction: how
    /// many of its statements ran before the failing one (0: its first
    /// statement failed, so nothing of it is applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statements_before: Option<usize>,
}

/// A migration that could not get its locks.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct LockContention {
    /// Attempts made (the first and the retries).
    pub attempts: u32,
    /// The sessions holding locks on the tables the statement names.
    pub blockers: Vec<crate::runner::contention::Blocker>,
}

impl MigrationFailure {
    /// Whether it waited for table locks on every attempt and gave up:
    /// its transaction was rolled back whole, and running it again when
    /// the blockers are gone is safe.
    pub fn is_blocked_by_locks(&self) -> bool {
        self.lock_contention.is_some() && self.is_retryable_lock_timeout()
    }

    /// Whether the history write failed because the script deallocated
    /// schemactl's prepared statements (SQLSTATE 26000) and its transaction
    /// was rolled back whole: running it again is safe.
    pub fn lost_history_statements(&self) -> bool {
        self.code.as_deref() == Some("26000")
            && self.transactional
            && self.outcome == FailureOutcome::RolledBack
    }

    /// Whether it timed out waiting for a lock inside its own transaction,
    /// which was rolled back whole: nothing of it remains, so running it
    /// again is safe.
    pub fn is_retryable_lock_timeout(&self) -> bool {
        self.code.as_deref() == Some("55P03")
            && self.transactional
            && self.outcome == FailureOutcome::RolledBack
    }
}

impl MigrationFailure {
    /// Where it failed (file:line, the line with a caret) and what the
    /// server said: the part of the message that holds on any database.
    fn write_where_and_why(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.position.or(self.statement_position);
        match at {
            Some(p) => writeln!(f, "  --> {}:{}:{}", self.path.display(), p.line, p.column)?,
            None => writeln!(f, "  --> {}", self.path.display())?,
        }
        if let (Some(p), Some(line)) = (self.position, &self.source_line) {
            let number = p.line.to_string();
            let pad = " ".repeat(number.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{number} | {line}")?;
            writeln!(f, "{pad} | {}^", " ".repeat(p.column.saturating_sub(1)))?;
        } else {
            writeln!(f, "  statement: {}", self.statement)?;
        }
        match &self.code {
            Some(code) => write!(f, "  = error: {} (SQLSTATE {code})", self.message)?,
            None => write!(f, "  = error: {}", self.message)?,
        }
        for (label, value) in [
            ("detail", &self.detail),
            ("hint", &self.hint),
            ("context", &self.context),
            (
                "server",
                &self
                    .server_version
                    .as_ref()
                    .map(|v| format!("PostgreSQL {v}")),
            ),
        ] {
            if let Some(value) = value {
                write!(f, "\n  = {label}: {value}")?;
            }
        }
        if let Some(contention) = &self.lock_contention {
            write!(
                f,
                "\n  = waited for a lock {} time(s), each up to lock_timeout",
                contention.attempts
            )?;
            if contention.blockers.is_empty() {
                write!(
                    f,
                    "\n  = no session holds a lock on its tables any more: run it again"
                )?;
            }
            for blocker in &contention.blockers {
                write!(
                    f,
                    "\n  = blocked by {blocker}\n    end it with: {}",
                    blocker.terminate_statement()
                )?;
            }
            write!(
                f,
                "\n  = nothing of it was applied, so running it again is safe; to wait longer for the locks, \
                 raise --lock-timeout (each wait) or --lock-retries (how many tries)"
            )?;
        }
        for index in &self.invalid_indexes {
            write!(
                f,
                "\n  = left INVALID: index {} on {}; remove it with: {}",
                index.index,
                index.table,
                index.drop_statement()
            )?;
        }
        Ok(())
    }

    /// The failure as it happened on a scratch database (`verify`): where
    /// and why, without what it means for a live history or how to
    /// repair one.
    pub fn on_scratch(&self) -> impl fmt::Display + '_ {
        struct OnScratch<'a>(&'a MigrationFailure);
        impl fmt::Display for OnScratch<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write_where_and_why(f)
            }
        }
        OnScratch(self)
    }
}

impl fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.direction {
            Direction::Up => "migration",
            Direction::Down => "rollback of",
        };
        let down = self.direction == Direction::Down;
        let outcome = match self.outcome {
            FailureOutcome::NotStarted if down => {
                "nothing of its down script ran: it is still applied, and recorded as applied"
            }
            FailureOutcome::RolledBack if down => {
                "the down script's transaction was rolled back: the migration is still applied, and still recorded as applied"
            }
            FailureOutcome::FailedOutsideTransaction
                if self.execution == crate::model::Execution::OneMessage =>
            {
                "it ran as one message with its own transaction blocks, as golang-migrate runs it: \
                 the blocks it committed before the error stay committed, the part that failed was rolled back, \
                 and the history marks it failed"
            }
            FailureOutcome::FailedOutsideTransaction
                if down && self.statements_before == Some(0) =>
            {
                "its down script ran outside a transaction and its first statement failed: nothing of it was undone, \
                 and the history marks the migration failed"
            }
            FailureOutcome::FailedOutsideTransaction if self.statements_before == Some(0) => {
                "it ran outside a transaction and its first statement failed: nothing of it is applied, and the history marks it failed"
            }
            FailureOutcome::FailedOutsideTransaction if down => {
                "its down script ran outside a transaction: statements before the failing one are undone, the rest are not, \
                 and the history marks the migration failed"
            }
            FailureOutcome::NotStarted => "nothing of it ran",
            FailureOutcome::RolledBack => {
                "its transaction was rolled back and nothing of it is recorded as applied"
            }
            FailureOutcome::FailedOutsideTransaction => {
                "it ran outside a transaction: statements before the failing one stay applied, and the history marks it failed"
            }
            FailureOutcome::PartiallyApplied
                if self.own_transaction == Some(TransactionFate::Aborted) =>
            {
                "it is PARTIALLY APPLIED: the script rolled back the transaction schemactl opened for it (PostgreSQL says so) and went on outside it, \
                 so what ran before that point is undone, statements after it that succeeded are committed, and the history marks it failed"
            }
            FailureOutcome::PartiallyApplied
                if self.own_transaction == Some(TransactionFate::Committed) =>
            {
                "it is PARTIALLY APPLIED: the script committed the transaction schemactl opened for it (PostgreSQL says so), \
                 so what ran before that point is committed, and so is any statement after it that succeeded; the history marks it failed"
            }
            FailureOutcome::PartiallyApplied => {
                "it is PARTIALLY APPLIED: the script ended the transaction schemactl opened for it, so what ran before that point \
                 (and any statement after it that succeeded) is committed, and the history marks it failed"
            }
            FailureOutcome::Unknown => {
                "the connection broke while it was being committed: run `schemactl status` to see whether it was applied"
            }
            FailureOutcome::BackfillInterrupted => {
                "it runs in batches: the batches before the failing one are committed and recorded as progress, the failing one was rolled back, \
                 and the migration is not recorded as done; fix the cause and run the same command again: it resumes after the last committed batch"
            }
        };
        writeln!(f, "{verb} {} failed; {outcome}", self.label)?;
        self.write_where_and_why(f)?;
        if !self.applied_before.is_empty() {
            write!(
                f,
                "\napplied before the failure (they stay applied): {}",
                abridged(&self.applied_before)
            )?;
        }
        if !self.rolled_back_before.is_empty() {
            write!(
                f,
                "\nrolled back before the failure (they stay rolled back): {}",
                abridged(&self.rolled_back_before)
            )?;
        }
        if !self.not_reached.is_empty() {
            let state = if down {
                "still applied"
            } else {
                "still pending"
            };
            write!(
                f,
                "\nnot reached ({state}): {}",
                abridged(&self.not_reached)
            )?;
        }
        if matches!(
            self.outcome,
            FailureOutcome::FailedOutsideTransaction | FailureOutcome::PartiallyApplied
        ) {
            write!(f, "\n{}", recovery_for_failed(self))?;
        }
        Ok(())
    }
}

/// The first and last few of a long list of migrations, and how many are
/// between: an error read during an incident stays a few lines long (the
/// JSON error carries every one).
fn abridged(labels: &[String]) -> String {
    const SHOWN: usize = 5;
    if labels.len() <= 2 * SHOWN + 1 {
        return labels.join(", ");
    }
    format!(
        "{}, … {} more …, {}",
        labels[..SHOWN].join(", "),
        labels.len() - 2 * SHOWN,
        labels[labels.len() - SHOWN..].join(", ")
    )
}

fn recovery_for_failed(failure: &MigrationFailure) -> String {
    let version = &failure.version;
    let nothing_ran = failure.outcome == FailureOutcome::FailedOutsideTransaction
        && failure.statements_before == Some(0);
    if nothing_ran {
        let (then, repair) = match failure.direction {
            Direction::Up => (
                "so that the next run applies it again",
                version_flag("--remove-failed", version),
            ),
            Direction::Down => (
                "the migration is still applied, as before",
                version_flag("--mark-applied", version),
            ),
        };
        return format!(
            "to recover: fix the failing statement (an index built CONCURRENTLY that failed stays behind as INVALID: \
             drop it with DROP INDEX CONCURRENTLY; `schemactl status` lists invalid indexes), then run `schemactl repair {repair}`: {then}"
        );
    }
    format!(
        "to recover: check what the statements before the failing one did, complete or undo them by hand \
         (an index built CONCURRENTLY that failed stays behind as INVALID: drop it with DROP INDEX CONCURRENTLY; \
         `schemactl status` lists invalid indexes), then run `schemactl repair {}` if it is now complete, \
         or `schemactl repair {}` so that the next run applies it again",
        version_flag("--mark-applied", version),
        version_flag("--remove-failed", version)
    )
}

/// `--flag 7`, or `--flag=-7` for a negative version, so that every command
/// schemactl prints parses as printed.
pub(crate) fn version_flag(flag: &str, version: &Version) -> String {
    if version.as_integer().is_some_and(|v| v < 0) {
        format!("{flag}={version}")
    } else {
        format!("{flag} {version}")
    }
}

/// A session that holds the migration lock.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct LockHolder {
    /// Its backend process id.
    pub pid: i32,
    /// The database user.
    pub user: Option<String>,
    /// Its `application_name`.
    pub application: Option<String>,
    /// The client address.
    pub client: Option<String>,
    /// When the session started.
    pub since: Option<String>,
    /// What it is doing.
    pub state: Option<String>,
}

/// One lock holder, as messages show it.
fn holder_text(holder: &LockHolder) -> String {
    format!(
        "pid {} (user {}, application {}, client {}, connected since {}, {})",
        holder.pid,
        holder.user.as_deref().unwrap_or("?"),
        holder
            .application
            .as_deref()
            .filter(|a| !a.is_empty())
            .unwrap_or("?"),
        holder.client.as_deref().unwrap_or("local socket"),
        holder.since.as_deref().unwrap_or("?"),
        holder.state.as_deref().unwrap_or("?"),
    )
}

impl LockHolder {
    /// Whether this is a run's lease row (`lock_mode = "table"`), not a
    /// server session holding the advisory lock.
    fn is_lease(&self) -> bool {
        self.application
            .as_deref()
            .is_some_and(|a| a.starts_with("schemactl run "))
    }
}

fn lock_timeout_message(waited: Duration, holders: &[LockHolder]) -> String {
    let mut out = format!(
        "another migration run held the migration lock for longer than {} s; nothing was changed",
        waited.as_secs_f64()
    );
    for holder in holders {
        out.push_str(&format!("\n  held by {}", holder_text(holder)));
    }
    match holders.first() {
        Some(lease) if lease.is_lease() => {
            out.push_str("\nWait for that run to finish and retry, or raise `--lock-wait`. If it died, its lease ends at the time shown (`--lock-ttl`), or delete the lease row by hand once you are sure it is gone");
        }
        Some(first) => out.push_str(&format!(
            "\nWait for that run to finish and retry, or raise `--lock-wait`. If it is stuck, end it with `SELECT pg_terminate_backend({});`",
            first.pid
        )),
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::abridged;

    #[test]
    fn a_long_list_of_migrations_is_abridged_in_the_middle() {
        let labels: Vec<String> = (1..=340).map(|n| format!("{n:05}_m")).collect();
        let text = abridged(&labels);
        assert!(text.starts_with("00001_m, 00002_m"), "{text}");
        assert!(text.contains("… 330 more …"), "{text}");
        assert!(text.ends_with("00339_m, 00340_m"), "{text}");
        let short: Vec<String> = labels[..11].to_vec();
        assert_eq!(abridged(&short), short.join(", "));
    }
}
