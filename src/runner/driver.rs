//! The seam between the [`crate::Migrator`] (what to run, in which order,
//! what to refuse) and a database (how to lock it, where its history is,
//! how a script runs). Transactions are the driver's business: each method
//! either completes or changes nothing, except a migration whose script
//! ends its own transaction, which [`crate::MigrationFailure`] reports as such.
//!
//! [`crate::postgres::PostgresDriver`] implements it.

use crate::model::adoption::{Recorded, Tool, Unadopted};
use crate::model::backfill::BatchMark;
use crate::model::history::{AppliedMigration, EventKind};
use crate::model::identifier::Identifier;
use crate::model::plan::StatusRow;
use crate::model::Version;
use crate::model::{Checksum, Direction, Migration};
use crate::runner::contention::InvalidIndex;
use crate::runner::notice::Notice;
use crate::{Error, LockHolder};
use std::collections::BTreeMap;
use std::time::Duration;

/// One migration `baseline` records as applied without running it.
#[derive(Debug, Clone)]
pub struct BaselineEntry<'a> {
    /// The migration.
    pub migration: &'a Migration,
    /// What its audit event says (where the record comes from).
    pub detail: String,
    /// When another tool applied it, as that tool recorded it; `None`: now.
    pub applied_at: Option<String>,
}

/// A change to one history row, made by `repair`.
#[derive(Debug, Clone, Copy)]
pub enum HistoryEdit<'a> {
    /// Delete the row.
    Delete,
    /// Mark a failed row applied.
    MarkApplied {
        /// The duration recorded when it failed.
        execution_ms: i64,
    },
    /// Record new checksums for the row.
    AcceptChecksum {
        /// The up script's.
        up: &'a Checksum,
        /// The down script's, when it has one.
        down: Option<&'a Checksum>,
        /// The down script's text, stored for a rollback without its file.
        down_script: Option<&'a str>,
    },
}

/// The audit event written with a history change.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// What happened.
    pub kind: EventKind,
    /// The migration's version.
    pub version: Version,
    /// The migration's name.
    pub name: &'a str,
    /// The up script's checksum, when there is a file.
    pub checksum: Option<&'a Checksum>,
    /// What was done, in words.
    pub detail: &'a str,
}

/// What the runner needs from a database. Used through generics (never as
/// a trait object), so its `async fn`s need no boxing.
#[allow(async_fn_in_trait)]
pub trait Driver {
    /// Takes the migration lock, waiting up to `wait`; `on_wait` hears who
    /// holds it when it is not free at once.
    async fn lock(
        &mut self,
        wait: Duration,
        on_wait: &mut (dyn FnMut(&[LockHolder]) + Send),
    ) -> Result<(), Error>;

    /// Releases the migration lock; `false` when the run no longer held it
    /// (a script released it, or a lease was taken over).
    async fn unlock(&mut self) -> Result<bool, Error>;

    /// The recorded history; empty when there is none yet (nothing is
    /// created). Read in one round trip when it reads as it is.
    async fn read_history(&self) -> Result<Vec<AppliedMigration>, Error>;

    /// The recorded history as it reads in one round trip, without the
    /// lock; `None` when it cannot be read as it is (missing, of an older
    /// format, not schemactl's, corrupt): then only a read under the lock
    /// may decide. For telling that there is nothing to do.
    async fn peek_history(&self) -> Result<Option<Vec<AppliedMigration>>, Error>;

    /// The down scripts the history stored when `versions` were applied,
    /// as `(version as recorded, script)`; for `rollback` without files.
    async fn stored_downs(&self, versions: &[Version]) -> Result<Vec<(String, String)>, Error>;

    /// The phases the history recorded for `versions`, as `(version as
    /// recorded, phase)`; for a database ahead of the directory.
    async fn recorded_phases(&self, versions: &[Version]) -> Result<Vec<(String, String)>, Error>;

    /// The releases the team declared live or retired; none when none was.
    async fn releases(&self) -> Result<Vec<crate::model::release::Release>, Error>;

    /// Declares release `label` live or retired.
    async fn mark_release(&mut self, label: &str, live: bool) -> Result<(), Error>;

    /// The indexes a failed concurrent build left INVALID (`status` and
    /// `validate` name them; `repair --mark-applied` refuses while any is).
    async fn invalid_indexes(&self) -> Result<Vec<InvalidIndex>, Error>;

    /// What the server says of the run that started `version`'s
    /// unfinished `no-transaction` script: still going, or ended.
    /// `holding_lock`: the caller holds the migration lock (then no other
    /// run does, though the session that ran the script may outlive it).
    async fn unfinished_run(
        &self,
        version: &Version,
        holding_lock: bool,
    ) -> Result<crate::error::UnfinishedRun, Error>;

    /// What makes a database without schemactl's history not new (another
    /// tool's history, tables where the migrations create theirs), if
    /// anything: the first `migrate` refuses it, `baseline` needs it.
    async fn unadopted(&self) -> Result<Option<Unadopted>, Error>;

    /// The other tools whose history tables are here (`baseline --from`
    /// without a tool).
    async fn other_tools(&self) -> Result<Vec<Tool>, Error>;

    /// What `tool` recorded in its history table `table`.
    async fn other_tool_history(&self, tool: Tool, table: &Identifier) -> Result<Recorded, Error>;

    /// Where each backfill an earlier run left part-way stands, with the
    /// checksum of the script that made it (by version); empty when there
    /// is no history yet. For `status`.
    async fn backfill_marks(&self) -> BTreeMap<Version, (String, BatchMark)>;

    /// Fills in what a point-in-time recovery or `rollback --restore-data`
    /// can go back to for each of `rows` (its latest restore point and
    /// pre-migration backup), as the history recorded them. For `status`.
    async fn recovery_points(&self, rows: &mut [StatusRow]);

    /// Before a run applies anything, under the lock: what the driver's
    /// script hooks left from an earlier run is finished (the data guard
    /// writes out the data it kept in the database and could not store)
    /// and recorded.
    async fn before_run(&mut self, notify: &mut (dyn FnMut(Notice) + Send));

    /// Creates the history where it is missing, before the first write.
    async fn ensure_history(&mut self) -> Result<(), Error>;

    /// Runs one script of `migration` and records it, atomically where the
    /// script allows. Returns its duration in milliseconds; a script that
    /// fails is an [`Error::MigrationFailed`] saying what of it remains.
    /// `notify` hears what the run does meanwhile (a retry after a lock
    /// timeout, say).
    async fn apply(
        &mut self,
        migration: &Migration,
        direction: Direction,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<i64, Error>;

    /// Runs `plan` in order in `direction`, as [`Driver::apply`] runs each,
    /// stopping at the first failure; `notify` hears each one start
    /// ([`Notice::Running`]) and end ([`Notice::Done`]), in plan order.
    /// Returns the durations of those that ran, in order, and what stopped
    /// the rest. A driver may overlap the migrations' round trips as long
    /// as each commits only after the one before it did.
    async fn apply_in_order(
        &mut self,
        plan: &[&Migration],
        direction: Direction,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> (Vec<i64>, Result<(), Error>) {
        let mut done = Vec::with_capacity(plan.len());
        for migration in plan {
            match apply_told(self, migration, direction, notify).await {
                Ok(execution_ms) => done.push(execution_ms),
                Err(error) => return (done, Err(error)),
            }
        }
        (done, Ok(()))
    }

    /// Records `chosen` as applied without running them, all or nothing;
    /// each with the detail its audit event carries and, when another tool
    /// applied it, that tool's time.
    async fn record_baseline(&mut self, chosen: &[BaselineEntry<'_>]) -> Result<(), Error>;

    /// Changes one history row and writes its audit event, both or neither.
    async fn repair(
        &mut self,
        version: Version,
        edit: HistoryEdit<'_>,
        event: AuditEvent<'_>,
    ) -> Result<(), Error>;
}

/// [`Driver::apply`], with the [`Notice::Running`] before it and the
/// [`Notice::Done`] after a success.
pub(crate) async fn apply_told(
    driver: &mut (impl Driver + ?Sized),
    migration: &Migration,
    direction: Direction,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<i64, Error> {
    let label = migration.label();
    notify(Notice::Running { label: &label });
    let execution_ms = driver.apply(migration, direction, notify).await?;
    notify(Notice::Done {
        action: direction.past_tense(),
        label: &label,
        execution_ms,
    });
    Ok(execution_ms)
}
