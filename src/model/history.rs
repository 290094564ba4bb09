//! What the database says happened: the rows of `schema_versions` and the
//! append-only events beside it. Plain data, read and written by the driver.

use crate::model::identifier::Identifier;
use crate::model::Checksum;
use crate::model::Version;
use time::OffsetDateTime;

/// One row of the history table: a migration that was applied, baselined, or
/// that failed outside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The version.
    pub version: Version,
    /// The name, as it was when applied.
    pub name: String,
    /// Checksum of the up script as applied.
    pub checksum: Checksum,
    /// Checksum of the down script at the time, when there was one.
    pub down_checksum: Option<Checksum>,
    /// When it was applied.
    pub applied_at: OffsetDateTime,
    /// The database user and client host that applied it.
    pub applied_by: String,
    /// How long it ran, in milliseconds.
    pub execution_ms: i64,
    /// False for a failed or interrupted non-transactional migration.
    pub success: bool,
    /// Recorded by `baseline` without running.
    pub baselined: bool,
    /// The schemactl version that applied it.
    pub schemactl_version: String,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// What a run writes as the `error` of a `no-transaction` migration's row
/// when it starts the script; it stays there when the run does not finish.
pub(crate) const STARTED_NOTE: &str =
    "started and not finished: the run was interrupted or is still going";

/// [`STARTED_NOTE`] of a `no-transaction` down script.
pub(crate) const ROLLBACK_STARTED_NOTE: &str =
    "rollback started and not finished: the run was interrupted or is still going";

impl AppliedMigration {
    /// Whether a run started this migration's `no-transaction` script and
    /// has not finished it (interrupted, or still going).
    pub fn is_unfinished(&self) -> bool {
        !self.success
            && matches!(
                self.error.as_deref(),
                Some(STARTED_NOTE | ROLLBACK_STARTED_NOTE)
            )
    }
}

/// The kinds of entries of the append-only events table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A migration was applied.
    Applied,
    /// A migration failed (a transactional one left nothing else behind).
    Failed,
    /// A non-transactional migration started; a crash leaves this as the last word.
    Started,
    /// A migration was rolled back.
    RolledBack,
    /// A migration was recorded by `baseline`.
    Baselined,
    /// `repair --remove-failed` removed a failed row.
    RepairRemovedFailed,
    /// `repair --mark-applied` marked a failed row as applied.
    RepairMarkedApplied,
    /// `repair --accept-checksum` recorded a new checksum.
    RepairAcceptedChecksum,
    /// `repair --forget` removed the row of a migration whose file is gone.
    RepairForgot,
    /// A transactional migration timed out waiting for a lock and was rolled
    /// back; the detail says which attempt, the wait before the next and who
    /// held the locks.
    LockTimeout,
    /// A named restore point (`pg_create_restore_point`) was created just
    /// before the migration, on a server that archives WAL; the detail
    /// names it and its LSN.
    RestorePoint,
    /// The data the migration destroys was kept, in its transaction,
    /// before it ran (`migrate --backup`); the detail starts with
    /// `backup <id>:` and names the tables.
    DataBackup,
    /// `rollback --restore-data` put the destroyed data back; the detail
    /// names the backup, tables and rows.
    DataRestored,
    /// One batch of a backfill committed, with this event in its
    /// transaction; the detail (JSON) says where the next batch starts.
    BackfillBatch,
}

impl EventKind {
    /// The value stored in the `event` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Applied => "applied",
            EventKind::Failed => "failed",
            EventKind::Started => "started",
            EventKind::RolledBack => "rolled-back",
            EventKind::Baselined => "baselined",
            EventKind::RepairRemovedFailed => "repair-remove-failed",
            EventKind::RepairMarkedApplied => "repair-mark-applied",
            EventKind::RepairAcceptedChecksum => "repair-accept-checksum",
            EventKind::RepairForgot => "repair-forget",
            EventKind::LockTimeout => "lock-timeout",
            EventKind::RestorePoint => "restore-point",
            EventKind::DataBackup => "data-backup",
            EventKind::DataRestored => "data-restored",
            EventKind::BackfillBatch => "backfill-batch",
        }
    }
}

/// Where the history lives: `schema.table` and its events table (the
/// driver in [`crate::postgres`] reads and writes them).
#[derive(Debug, Clone)]
pub struct HistoryTable {
    pub(crate) schema: Identifier,
    pub(crate) table: Identifier,
    pub(crate) events: Identifier,
}

impl Default for HistoryTable {
    /// `public.schema_versions`, with its events in
    /// `public.schema_versions_events`.
    fn default() -> Self {
        Self {
            schema: Identifier::trusted("public"),
            table: Identifier::trusted("schema_versions"),
            events: Identifier::trusted("schema_versions_events"),
        }
    }
}

impl HistoryTable {
    /// The history in `schema.table`, with its events in `schema.table_events`.
    pub fn new(schema: Identifier, table: Identifier) -> Result<Self, String> {
        let events = Identifier::parse(&format!("{table}_events"))?;
        Ok(Self {
            schema,
            table,
            events,
        })
    }

    /// `public.schema_versions`, for messages.
    pub fn display(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// The schema name.
    pub fn schema(&self) -> &Identifier {
        &self.schema
    }

    /// The table name.
    pub fn table(&self) -> &Identifier {
        &self.table
    }
}
