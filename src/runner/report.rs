//! What a run reports: the scripts it ran (or, dry, would run), and the
//! state of every migration for `status` and `validate`.

use crate::config::ExecutionSettings;
use crate::model::adoption::ForeignHistory;
use crate::model::plan::{State, StatusRow};
use crate::model::Version;
use crate::model::{Layout, Migration, Script};
use crate::runner::contention::InvalidIndex;
use crate::Problem;

/// A script as a dry run shows it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct PlannedScript {
    /// The version.
    pub version: Version,
    /// `0003_add_orders`.
    pub label: String,
    /// The file.
    pub path: String,
    /// Whether it runs in a transaction.
    pub transactional: bool,
    /// How it runs: `transaction`, `no-transaction`, or `one-message` (the
    /// file as one message with its own transaction blocks, as
    /// golang-migrate sends it).
    pub execution: crate::model::Execution,
    /// The `lock_timeout` it runs with.
    pub lock_timeout: String,
    /// The `statement_timeout` it runs with.
    pub statement_timeout: String,
    /// Its SQL.
    pub sql: String,
}

impl PlannedScript {
    pub(crate) fn new(
        migration: &Migration,
        script: &Script,
        execution: &ExecutionSettings,
    ) -> Self {
        Self {
            version: migration.version.clone(),
            label: migration.label(),
            path: script.display_path(),
            transactional: script.execution() == crate::model::Execution::Transaction,
            execution: script.execution(),
            lock_timeout: script
                .directives
                .lock_timeout
                .as_ref()
                .unwrap_or(&execution.lock_timeout)
                .to_string(),
            statement_timeout: script
                .directives
                .statement_timeout
                .as_ref()
                .unwrap_or(&execution.statement_timeout)
                .to_string(),
            sql: script.sql.clone(),
        }
    }
}

/// A script that ran.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Executed {
    /// The version.
    pub version: Version,
    /// `0003_add_orders`.
    pub label: String,
    /// How long it took.
    pub execution_ms: i64,
}

/// What `migrate` or `rollback` did (or, in a dry run, would do).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct RunReport {
    /// The database, password removed.
    pub database: String,
    /// The history table.
    pub history: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// In a dry run, what would run.
    pub planned: Vec<PlannedScript>,
    /// What ran.
    pub executed: Vec<Executed>,
    /// The newest applied version afterwards.
    pub current_version: Option<Version>,
    /// Wall time of the whole run.
    pub total_ms: i64,
    /// `migrate`: the directory's migrations still not applied afterwards
    /// (held back by `--to` or `--phase expand`), or, dry, before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    /// The pre-migration backups `migrate --backup` took.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) data_backups: Vec<crate::backup::DataBackupTaken>,
    /// The full backup `migrate --backup always` took before the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_backup: Option<crate::backup::BackupId>,
    /// What `rollback --restore-data` put back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) restored_data: Vec<crate::backup::RestoredTable>,
}

/// Every migration with its state, and the problems that would stop `migrate`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct StatusReport {
    /// The layout the migrations directory was read in.
    pub layout: Layout,
    /// The database, password removed.
    pub database: String,
    /// The history table.
    pub history: String,
    /// One row per migration, by version.
    pub migrations: Vec<StatusRow>,
    /// What would stop `migrate`.
    pub problems: Vec<Problem>,
    /// Indexes left INVALID by a failed `CREATE INDEX CONCURRENTLY`
    /// (`validate` fails on them).
    pub invalid_indexes: Vec<InvalidIndex>,
    /// Another tool's history table, when schemactl has none of its own.
    pub foreign_history: Option<ForeignHistory>,
    /// Why the database is not new although schemactl has no history for
    /// it (another tool's history, or tables of its own): the first
    /// `migrate` refuses it, and `validate` fails while anything is pending.
    pub unadopted: Option<crate::model::adoption::Unadopted>,
}

impl StatusReport {
    /// How many migrations are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.migrations
            .iter()
            .filter(|row| row.state == state)
            .count()
    }

    /// The versions (as written) of the pending migrations.
    pub fn pending(&self) -> Vec<&str> {
        self.migrations
            .iter()
            .filter(|r| r.state == State::Pending)
            .map(|r| r.version_text.as_str())
            .collect()
    }
}

/// What `validate` concluded: `ok` when files and history agree, no index
/// is INVALID and (with `fail_on_pending`) nothing is pending.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Validation {
    /// Whether validation passed.
    pub ok: bool,
    /// What it is based on.
    pub report: StatusReport,
}
