//! [`RunOptions`]: what the runner needs besides its source and its
//! connection — the history table, the session settings every migration
//! runs with, how long to wait for the migration lock. Every value is
//! parsed: an invalid timeout cannot be built.

use crate::model::duration::ServerTimeout;
use crate::model::history::HistoryTable;
use std::time::Duration;

/// What a run needs besides its migrations and its connection.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The history tables.
    pub history: HistoryTable,
    /// The session settings every migration runs with.
    pub execution: ExecutionSettings,
    /// How long to wait for another run's migration lock (default 60 s).
    pub lock_wait: Duration,
}

impl Default for RunOptions {
    /// History in `public.schema_versions`, `lock_timeout` 5 s, no
    /// `statement_timeout`, a 60 s wait for the migration lock.
    fn default() -> Self {
        Self {
            history: HistoryTable::default(),
            execution: ExecutionSettings::default(),
            lock_wait: Duration::from_secs(60),
        }
    }
}

/// Session settings every script runs with, unless its directives override them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionSettings {
    /// `lock_timeout` (default `5s`): a migration waiting longer than this
    /// for a table lock fails instead of queueing every other query behind it.
    pub lock_timeout: ServerTimeout,
    /// `statement_timeout` (default `0`, no limit).
    pub statement_timeout: ServerTimeout,
    /// How many times a transactional migration that timed out waiting for
    /// a lock is tried again (default 3), with a growing wait in between.
    pub lock_retries: u32,
    /// The most the retries of one migration may take together, waits and
    /// attempts (default 60 s).
    pub lock_retry_budget: Duration,
    /// What the migration lock is (default: a session advisory lock).
    pub lock_mode: LockMode,
    /// How long a lease of `--lock-mode table` lasts before another run may
    /// take it over (default 10 min); renewed before each migration.
    pub lock_ttl: Duration,
    /// The first `migrate` may run on a database that has tables (or
    /// another tool's history) but no schemactl history (`[postgres]
    /// allow_non_empty`); otherwise it refuses and names `baseline`.
    pub allow_non_empty: bool,
    /// How `-- schemactl:backfill` migrations run their batches.
    pub backfill: BackfillSettings,
}

/// How backfills run (`migrate --batch-size`, `--batch-sleep`,
/// `--replica-url`, `--max-replication-lag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillSettings {
    /// Keys per batch when the directive names none (default 10,000).
    pub batch_size: u64,
    /// A pause after each batch (default none), leaving the server room.
    pub batch_sleep: Duration,
    /// A streaming replica (its connection string, checked where it was
    /// given): before each batch, the backfill waits while it lags further
    /// behind than `max_replication_lag`.
    pub replica: Option<String>,
    /// How far behind the replica may be (default 10 s).
    pub max_replication_lag: Duration,
}

impl Default for BackfillSettings {
    fn default() -> Self {
        Self {
            batch_size: 10_000,
            batch_sleep: Duration::ZERO,
            replica: None,
            max_replication_lag: Duration::from_secs(10),
        }
    }
}

/// What the migration lock is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LockMode {
    /// A session advisory lock: released by the server when the session
    /// ends, however it ends. Needs a real session (not a transaction
    /// pooler).
    #[default]
    Advisory,
    /// A lease row in the history's schema, for connections through a
    /// transaction-pooling proxy.
    Table,
}

impl std::str::FromStr for LockMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "advisory" => Ok(Self::Advisory),
            "table" => Ok(Self::Table),
            other => Err(format!("`{other}` is not advisory or table")),
        }
    }
}

impl Default for ExecutionSettings {
    fn default() -> Self {
        Self {
            lock_timeout: ServerTimeout::default_lock_timeout(),
            statement_timeout: ServerTimeout::none(),
            lock_retries: 3,
            lock_retry_budget: Duration::from_secs(60),
            lock_mode: LockMode::Advisory,
            lock_ttl: Duration::from_secs(600),
            allow_non_empty: false,
            backfill: BackfillSettings::default(),
        }
    }
}
