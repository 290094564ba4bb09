//! [`Driver`] for PostgreSQL: the advisory lock, the history tables and the
//! executor, over one connection. Every transaction the runner needs is
//! opened and closed here.

use super::advisory_lock::MigrationLock;
use super::executor;
use super::history_table::{database, HistoryWriter, NewEvent, NewRow};
use crate::config::ExecutionSettings;
use crate::driver::{AuditEvent, Driver, HistoryEdit};
use crate::history::{AppliedMigration, EventKind, HistoryTable};
use crate::migration::{Direction, Migration};
use crate::{Error, LockHolder};
use std::time::Duration;
use tokio_postgres::Client;

/// The PostgreSQL driver over one open connection.
pub struct PostgresDriver<'a> {
    client: &'a Client,
    history: &'a HistoryTable,
    execution: &'a ExecutionSettings,
    lock: MigrationLock,
    writer: Option<HistoryWriter>,
}

impl<'a> PostgresDriver<'a> {
    /// A driver recording into `history`, running scripts with `execution`'s timeouts.
    pub fn new(
        client: &'a Client,
        history: &'a HistoryTable,
        execution: &'a ExecutionSettings,
    ) -> Self {
        Self {
            client,
            history,
            execution,
            lock: MigrationLock::for_history(history),
            writer: None,
        }
    }

    /// The connection.
    pub fn client(&self) -> &'a Client {
        self.client
    }

    /// The prepared history statements; [`Driver::ensure_history`] first.
    async fn writer(&mut self) -> Result<&HistoryWriter, Error> {
        if self.writer.is_none() {
            self.writer = Some(self.history.writer(self.client).await?);
        }
        Ok(self.writer.as_ref().expect("set just above"))
    }

    /// Runs `body` between `BEGIN` and `COMMIT`, rolling back when it fails.
    async fn in_transaction(
        &self,
        context: &str,
        body: impl AsyncFnOnce() -> Result<(), tokio_postgres::Error>,
    ) -> Result<(), Error> {
        let run = async {
            self.client.batch_execute("BEGIN").await?;
            body().await?;
            self.client.batch_execute("COMMIT").await
        };
        if let Err(e) = run.await {
            let _ = self.client.batch_execute("ROLLBACK").await;
            return Err(database(context, &e));
        }
        Ok(())
    }
}

impl Driver for PostgresDriver<'_> {
    async fn lock(
        &mut self,
        wait: Duration,
        on_wait: &mut dyn FnMut(&[LockHolder]),
    ) -> Result<(), Error> {
        self.lock.acquire(self.client, wait, on_wait).await
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        self.lock.release(self.client).await
    }

    async fn read_history(&mut self) -> Result<Vec<AppliedMigration>, Error> {
        self.history.read(self.client).await
    }

    async fn ensure_history(&mut self) -> Result<(), Error> {
        self.history.ensure(self.client).await?;
        self.writer().await.map(drop)
    }

    async fn apply(&mut self, migration: &Migration, direction: Direction) -> Result<i64, Error> {
        let (client, execution) = (self.client, self.execution);
        let writer = self.writer().await?;
        match direction {
            Direction::Up => executor::apply(client, writer, migration, execution).await,
            Direction::Down => executor::revert(client, writer, migration, execution).await,
        }
        .map_err(Error::MigrationFailed)
    }

    async fn record_baseline(&mut self, chosen: &[(&Migration, String)]) -> Result<(), Error> {
        self.writer().await?;
        let (client, writer) = (self.client, self.writer.as_ref().expect("prepared above"));
        self.in_transaction("cannot record the baseline", async || {
            for (m, detail) in chosen {
                let row = NewRow {
                    version: m.version,
                    name: &m.name,
                    checksum: &m.up.checksum,
                    down_checksum: m.down.as_ref().map(|d| &d.checksum),
                    execution_ms: Some(0),
                    success: true,
                    baselined: true,
                    error: None,
                };
                let event = NewEvent {
                    kind: EventKind::Baselined,
                    version: m.version,
                    name: &m.name,
                    checksum: Some(&m.up.checksum),
                    execution_ms: Some(0),
                    detail: Some(detail),
                };
                tokio::try_join!(writer.insert(client, &row), writer.event(client, &event))?;
            }
            Ok(())
        })
        .await
    }

    async fn repair(
        &mut self,
        version: i64,
        edit: HistoryEdit<'_>,
        event: AuditEvent<'_>,
    ) -> Result<(), Error> {
        self.writer().await?;
        let (client, writer) = (self.client, self.writer.as_ref().expect("prepared above"));
        self.in_transaction("cannot repair the history", async || {
            match edit {
                HistoryEdit::Delete => writer.delete(client, version).await?,
                HistoryEdit::MarkApplied { execution_ms } => {
                    writer
                        .finish(client, version, true, execution_ms, None)
                        .await?
                }
                HistoryEdit::AcceptChecksum { up, down } => {
                    writer.accept_checksum(client, version, up, down).await?
                }
            }
            let event = NewEvent {
                kind: event.kind,
                version: event.version,
                name: event.name,
                checksum: event.checksum,
                execution_ms: Some(0),
                detail: Some(event.detail),
            };
            writer.event(client, &event).await
        })
        .await
    }
}
