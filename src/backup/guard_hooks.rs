//! [`DataGuard`] as the driver's [`ScriptHooks`]: before a migration that
//! destroys data, the statements that keep it (in its transaction); after
//! a down script, those that put it back; once the transaction committed,
//! the kept data written to the store and the events to record.

use super::capture;
use super::data_restore::{self, PreparedRestore};
use super::guard::DataGuard;
use super::report::DataBackupTaken;
use crate::model::history::{EventKind, HistoryTable};
use crate::model::{Direction, Migration, Version};
use crate::postgres::executor::Surrounding;
use crate::postgres::hooks::{AroundScript, HookEvent, ScriptHooks};
use crate::runner::notice::Notice;
use crate::Error;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio_postgres::Client;

impl ScriptHooks for DataGuard {
    fn before_run<'a, 'f>(
        &'a self,
        client: &'f Client,
        history: &'f HistoryTable,
        notify: &'f mut (dyn FnMut(Notice) + Send),
    ) -> BoxFuture<'f, Vec<HookEvent>>
    where
        'a: 'f,
    {
        Box::pin(async move {
            if !self.keeps_destroyed_data() {
                return Vec::new();
            }
            self.export_staged(client, history, notify).await
        })
    }

    fn around<'a, 'f>(
        &'a self,
        client: &'f Client,
        history: &'f HistoryTable,
        migration: &'f Migration,
        direction: Direction,
        in_transaction: bool,
        notify: &'f mut (dyn FnMut(Notice) + Send),
    ) -> BoxFuture<'f, Result<Option<Box<dyn AroundScript + 'a>>, Error>>
    where
        'a: 'f,
    {
        async move {
            match direction {
                Direction::Up if self.keeps_destroyed_data() => {
                    self.capture(client, history, migration, in_transaction, notify)
                        .await
                }
                Direction::Down if self.restore_with.is_some() => {
                    self.restore(client, history, migration, in_transaction, notify)
                        .await
                }
                _ => Ok(None),
            }
        }
        .boxed()
    }
}

impl DataGuard {
    /// The statements that keep what `migration` destroys.
    async fn capture<'a>(
        &'a self,
        client: &Client,
        history: &HistoryTable,
        migration: &Migration,
        in_transaction: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Option<Box<dyn AroundScript + 'a>>, Error> {
        let destroyed = crate::lint::DestroyedData::in_script(&migration.up);
        let before = capture::statements(client, history, migration, &destroyed).await?;
        if before.is_empty() {
            return Ok(None);
        }
        if !in_transaction {
            notify(Notice::Warning(&format!(
                "{}: destroys data, and runs outside a transaction: its data is not kept (take a full backup first: `schemactl backup create`)",
                migration.label()
            )));
            return Ok(None);
        }
        Ok(Some(Box::new(Capturing {
            guard: self,
            surrounding: Surrounding::new(before, Vec::new()),
        })))
    }

    /// The statements that put back what `migration` destroyed, its
    /// backup loaded first.
    async fn restore<'a>(
        &'a self,
        client: &Client,
        history: &HistoryTable,
        migration: &Migration,
        in_transaction: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Option<Box<dyn AroundScript + 'a>>, Error> {
        let recorded = data_restore::recorded_backup(client, history, &migration.version).await?;
        let Some(backup) = recorded else {
            notify(Notice::Info(&format!(
                "{}: no data backup is recorded for it (`migrate --backup auto` found nothing it destroys, or ran without a store): only its structure is rolled back",
                migration.label()
            )));
            return Ok(None);
        };
        if !in_transaction {
            return Err(Error::InvalidArgument(format!(
                "{}: its down script runs outside a transaction, so the data of backup {backup} cannot be restored with it: \
                 roll back without --restore-data, then restore from `schemactl backup export {backup}`",
                migration.label()
            )));
        }
        let identities = self.restore_with.as_ref().and_then(|k| k.0.as_ref());
        let prepared = data_restore::prepare(client, &self.store, identities, &backup).await?;
        Ok(Some(Box::new(Restoring {
            guard: self,
            prepared,
            version: migration.version.clone(),
            name: migration.name.clone(),
            label: migration.label(),
        })))
    }

    /// Writes every staged table into the store: the events to record
    /// (a failure leaves them staged, and is said).
    pub(crate) async fn export_staged(
        &self,
        client: &Client,
        history: &HistoryTable,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Vec<HookEvent> {
        let exported = capture::export(client, &self.store, &self.encryption, history).await;
        let exported = match exported {
            Ok(exported) => exported,
            Err(error) => {
                notify(Notice::Warning(&format!(
                    "the data a migration destroyed is kept in the staging tables schemactl_data_* beside the history, \
                     and could not be written to {}: {error}. The next `schemactl migrate` that applies a migration writes them",
                    self.store.label()
                )));
                return Vec::new();
            }
        };
        let mut events = Vec::new();
        for backup in exported {
            let tables: Vec<String> = backup
                .tables
                .iter()
                .map(|t| match t.lost_columns.is_empty() {
                    true => format!("{} ({} rows)", t.table, t.rows),
                    false => format!(
                        "{} ({} rows: columns {})",
                        t.table,
                        t.rows,
                        t.lost_columns.join(", ")
                    ),
                })
                .collect();
            let detail = format!("backup {}: {}", backup.backup, tables.join("; "));
            notify(Notice::Info(&format!(
                "{}_{}: kept what it destroys in {detail}",
                backup.version, backup.migration
            )));
            events.push(HookEvent {
                kind: EventKind::DataBackup,
                version: Version::parse(&backup.version),
                name: backup.migration.clone(),
                detail,
            });
            if let Ok(mut outcome) = self.outcome.lock() {
                outcome.backups.push(DataBackupTaken {
                    backup: backup.backup,
                    version: backup.version,
                    tables,
                });
            }
        }
        events
    }
}

/// Keeping one migration's destroyed data.
struct Capturing<'g> {
    guard: &'g DataGuard,
    surrounding: Surrounding,
}

impl AroundScript for Capturing<'_> {
    fn surrounding(&self) -> &Surrounding {
        &self.surrounding
    }

    fn committed<'a>(
        self: Box<Self>,
        client: &'a Client,
        history: &'a HistoryTable,
        notify: &'a mut (dyn FnMut(Notice) + Send),
    ) -> BoxFuture<'a, Vec<HookEvent>>
    where
        Self: 'a,
    {
        async move { self.guard.export_staged(client, history, notify).await }.boxed()
    }

    fn failed<'a>(self: Box<Self>, _client: &'a Client) -> BoxFuture<'a, ()>
    where
        Self: 'a,
    {
        // The staging tables rolled back with the migration.
        async {}.boxed()
    }
}

/// Putting one migration's destroyed data back.
struct Restoring<'g> {
    guard: &'g DataGuard,
    prepared: PreparedRestore,
    version: Version,
    name: String,
    label: String,
}

impl AroundScript for Restoring<'_> {
    fn surrounding(&self) -> &Surrounding {
        &self.prepared.surrounding
    }

    fn committed<'a>(
        self: Box<Self>,
        client: &'a Client,
        _history: &'a HistoryTable,
        notify: &'a mut (dyn FnMut(Notice) + Send),
    ) -> BoxFuture<'a, Vec<HookEvent>>
    where
        Self: 'a,
    {
        async move {
            let restored = self.prepared.finish(client).await;
            let mut events = Vec::new();
            for table in &restored {
                let columns = match table.columns.is_empty() {
                    true => String::new(),
                    false => format!("columns {}; ", table.columns.join(", ")),
                };
                let detail = format!(
                    "backup {}: {} rows of {} put back ({columns}{} rows in the backup)",
                    table.backup, table.rows_restored, table.table, table.rows_in_backup
                );
                notify(Notice::Info(&format!("{}: {detail}", self.label)));
                events.push(HookEvent {
                    kind: EventKind::DataRestored,
                    version: self.version.clone(),
                    name: self.name.clone(),
                    detail,
                });
            }
            if let Ok(mut outcome) = self.guard.outcome.lock() {
                outcome.restored.extend(restored);
            }
            events
        }
        .boxed()
    }

    fn failed<'a>(self: Box<Self>, client: &'a Client) -> BoxFuture<'a, ()>
    where
        Self: 'a,
    {
        async move { self.prepared.discard(client).await }.boxed()
    }
}
