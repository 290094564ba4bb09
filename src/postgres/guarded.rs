//! The driver's part of [`DataGuard`]: the statements that keep a
//! migration's destroyed data (or put it back) in its own transaction,
//! and what follows once that transaction committed: the export into the
//! store, the `data-backup` / `data-restored` events, the notices.

use super::driver::PostgresDriver;
use super::executor::Surrounding;
use super::history_table::NewEvent;
use crate::backup::data_restore::{self, PreparedRestore};
use crate::backup::{capture, DataBackupTaken, DataGuard, RestoredTable};
use crate::model::history::EventKind;
use crate::model::{Direction, Migration};
use crate::runner::notice::Notice;
use crate::Error;

/// What runs around one script.
pub(super) enum Guarded {
    /// Nothing.
    Nothing,
    /// The destroyed data is kept before the script.
    Capture(Surrounding),
    /// The destroyed data is put back after the down script.
    Restore(Box<PreparedRestore>),
}

impl Guarded {
    /// The statements around the script.
    pub(super) fn surrounding(&self) -> Option<&Surrounding> {
        match self {
            Guarded::Nothing => None,
            Guarded::Capture(surrounding) => Some(surrounding),
            Guarded::Restore(prepared) => Some(&prepared.surrounding),
        }
    }
}

/// What the guard did in a run.
#[derive(Debug, Default)]
pub struct GuardOutcome {
    /// Pre-migration backups taken.
    pub backups: Vec<DataBackupTaken>,
    /// Data put back by `rollback --restore-data`.
    pub restored: Vec<RestoredTable>,
}

impl PostgresDriver<'_> {
    /// What runs around `migration`'s script in `direction`.
    pub(super) async fn guard(
        &self,
        guard: Option<&DataGuard>,
        migration: &Migration,
        direction: Direction,
        in_transaction: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Guarded, Error> {
        let Some(guard) = guard else {
            return Ok(Guarded::Nothing);
        };
        let client = self.client();
        match direction {
            Direction::Up if guard.keeps_destroyed_data() => {
                let before = capture::statements(client, self.history(), migration).await?;
                if before.is_empty() {
                    return Ok(Guarded::Nothing);
                }
                if !in_transaction {
                    notify(Notice::Warning(&format!(
                        "{}: destroys data, and runs outside a transaction: its data is not kept (take a full backup first: `schemactl backup create`)",
                        migration.label()
                    )));
                    return Ok(Guarded::Nothing);
                }
                Ok(Guarded::Capture(Surrounding::new(before, Vec::new())))
            }
            Direction::Down => {
                let Some(keys) = &guard.restore_with else {
                    return Ok(Guarded::Nothing);
                };
                let recorded =
                    data_restore::recorded_backup(client, self.history(), &migration.version)
                        .await?;
                let Some(backup) = recorded else {
                    notify(Notice::Info(&format!(
                        "{}: no data backup is recorded for it (`migrate --backup auto` found nothing it destroys, or ran without a store): only its structure is rolled back",
                        migration.label()
                    )));
                    return Ok(Guarded::Nothing);
                };
                if !in_transaction {
                    return Err(Error::InvalidArgument(format!(
                        "{}: its down script runs outside a transaction, so the data of backup {backup} cannot be restored with it: \
                         roll back without --restore-data, then restore from `schemactl backup export {backup}`",
                        migration.label()
                    )));
                }
                let prepared =
                    data_restore::prepare(client, &guard.store, keys.0.as_ref(), &backup).await?;
                Ok(Guarded::Restore(Box::new(prepared)))
            }
            Direction::Up => Ok(Guarded::Nothing),
        }
    }

    /// After `migration` committed: the kept data into the store (a
    /// failure leaves it staged, exported by the next run, and is said),
    /// or the restored data reported.
    pub(super) async fn guarded(
        &mut self,
        guard: Option<&DataGuard>,
        guarded: Guarded,
        migration: &Migration,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) {
        let Some(guard) = guard else { return };
        match guarded {
            Guarded::Nothing => {}
            Guarded::Capture(_) => self.export_staged(guard, notify).await,
            Guarded::Restore(prepared) => {
                let restored = prepared.finish(self.client()).await;
                for table in &restored {
                    let detail = format!(
                        "backup {}: {} rows of {} put back ({}{} rows in the backup)",
                        table.backup,
                        table.rows_restored,
                        table.table,
                        if table.columns.is_empty() {
                            String::new()
                        } else {
                            format!("columns {}; ", table.columns.join(", "))
                        },
                        table.rows_in_backup
                    );
                    self.record(EventKind::DataRestored, migration, &detail)
                        .await;
                    notify(Notice::Info(&format!("{}: {detail}", migration.label())));
                }
                self.outcome.restored.extend(restored);
            }
        }
    }

    /// Exports every staged table into the store, recording a
    /// `data-backup` event for each backup.
    pub(crate) async fn export_staged(
        &mut self,
        guard: &DataGuard,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) {
        let exported = capture::export(
            self.client(),
            &guard.store,
            &guard.encryption,
            self.history(),
        )
        .await;
        let exported = match exported {
            Ok(exported) => exported,
            Err(error) => {
                notify(Notice::Warning(&format!(
                    "the data a migration destroyed is kept in the staging tables schemactl_data_* beside the history, \
                     and could not be written to {}: {error}. The next `schemactl migrate` with a backup store writes them",
                    guard.store.label()
                )));
                return;
            }
        };
        for backup in exported {
            let tables: Vec<String> = backup
                .tables
                .iter()
                .map(|t| {
                    if t.lost_columns.is_empty() {
                        format!("{} ({} rows)", t.table, t.rows)
                    } else {
                        format!(
                            "{} ({} rows: columns {})",
                            t.table,
                            t.rows,
                            t.lost_columns.join(", ")
                        )
                    }
                })
                .collect();
            let detail = format!("backup {}: {}", backup.backup, tables.join("; "));
            let event = NewEvent {
                kind: EventKind::DataBackup,
                version: crate::model::Version::parse(&backup.version),
                name: &backup.migration,
                checksum: None,
                execution_ms: None,
                detail: Some(&detail),
            };
            let client = self.client();
            if let Ok(writer) = self.history_writer().await {
                let _ = writer.event(client, &event).await;
            }
            notify(Notice::Info(&format!(
                "{}: kept what it destroys in {}",
                backup.version, detail
            )));
            self.outcome.backups.push(DataBackupTaken {
                backup: backup.backup,
                version: backup.version,
                tables,
            });
        }
    }

    /// Records an event of `migration`.
    async fn record(&mut self, kind: EventKind, migration: &Migration, detail: &str) {
        let event = NewEvent {
            kind,
            version: migration.version.clone(),
            name: &migration.name,
            checksum: None,
            execution_ms: None,
            detail: Some(detail),
        };
        let client = self.client();
        if let Ok(writer) = self.history_writer().await {
            let _ = writer.event(client, &event).await;
        }
    }
}
