//! [`Driver`] for PostgreSQL: the advisory lock, the history tables and the
//! executor, over one connection. Every transaction the runner needs is
//! opened and closed here.

use super::advisory_lock::MigrationLock;
use super::attempts::{run_once, Attempts};
use super::executor;
use super::history_table::{database, HistoryWriter, NewEvent, NewRow, UpgradeLimits};
use super::hooks::{HookEvent, ScriptHooks};
use super::invalid_indexes;
use super::lease_lock::{Heartbeat, LeaseLock};
use super::started_session::StartedSession;
use super::DatabaseTarget;
use crate::config::{ExecutionSettings, LockMode};
use crate::error::UnfinishedRun;
use crate::model::history::{AppliedMigration, EventKind, HistoryTable};
use crate::model::identifier::Identifier;
use crate::model::phase::Phase;
use crate::model::Version;
use crate::model::{Direction, Migration};
use crate::postgres::foreign_import::{Recorded, Tool};
use crate::postgres::{InvalidIndex, Unadopted};
use crate::runner::driver::{apply_told, AuditEvent, BaselineEntry, Driver, HistoryEdit};
use crate::runner::notice::Notice;
use crate::{Error, LockHolder};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// The PostgreSQL driver over one open connection.
pub struct PostgresDriver<'a> {
    client: &'a Client,
    history: &'a HistoryTable,
    execution: &'a ExecutionSettings,
    lock: MigrationLock,
    lease: Option<LeaseLock>,
    heartbeat_target: Option<&'a DatabaseTarget>,
    heartbeat: Option<Heartbeat>,
    writer: Option<HistoryWriter>,
    /// Whether the server archives WAL, so that a named restore point
    /// before each migration lets a point-in-time recovery stop there
    /// (`None`: not asked yet; `false` also once creating one failed).
    restore_points: Option<bool>,
    /// Set once a one-message read found the history unreadable as it is
    /// (missing, older): later reads go the careful way at once, rather
    /// than fail the same way (and log the same server error) again.
    peek_unreadable: std::sync::atomic::AtomicBool,
    /// What runs around each script (`migrate --backup`, `rollback --restore-data`).
    hooks: Option<&'a dyn ScriptHooks>,
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
            lease: None,
            heartbeat_target: None,
            heartbeat: None,
            writer: None,
            restore_points: None,
            peek_unreadable: std::sync::atomic::AtomicBool::new(false),
            hooks: None,
        }
    }

    /// With `hooks` choosing what runs around each script.
    pub fn with_hooks(mut self, hooks: Option<&'a dyn ScriptHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// Records events the hooks handed back (a failure to record one is
    /// not the migration's: it is left out).
    pub(crate) async fn record_events(&mut self, events: &[HookEvent]) {
        let client = self.client;
        let Ok(writer) = self.writer().await else {
            return;
        };
        for event in events {
            let event = NewEvent {
                kind: event.kind,
                version: event.version.clone(),
                name: &event.name,
                checksum: None,
                execution_ms: None,
                detail: Some(&event.detail),
            };
            let _ = writer.event(client, &event).await;
        }
    }

    /// The history tables.
    pub fn history(&self) -> &'a HistoryTable {
        self.history
    }

    /// Where the lease lock (`--lock-mode table`) opens the connection that
    /// renews it while a migration runs; without one the lease is renewed
    /// only before each migration, so `--lock-ttl` must exceed the longest.
    pub fn with_heartbeat_target(mut self, target: Option<&'a DatabaseTarget>) -> Self {
        self.heartbeat_target = target;
        self
    }

    /// The connection.
    pub fn client(&self) -> &'a Client {
        self.client
    }

    /// The history statements; [`Driver::ensure_history`] first.
    /// On a server that archives WAL, creates the restore point
    /// `schemactl_<version>` just before `migration` runs up, and records
    /// it as an event of the migration. Without the privilege (superuser,
    /// or EXECUTE on `pg_create_restore_point`) it says so once and goes on.
    async fn restore_point(
        &mut self,
        migration: &Migration,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) {
        let client = self.client;
        if self.restore_points.is_none() {
            let archives = client
                .query_typed(
                    "SELECT current_setting('archive_mode') <> 'off' AND current_setting('wal_level') <> 'minimal' \
                     AND NOT pg_is_in_recovery()",
                    &[],
                )
                .await
                .map(|rows| rows.first().is_some_and(|row| row.get::<_, bool>(0)));
            self.restore_points = Some(archives.unwrap_or(false));
        }
        if self.restore_points != Some(true) {
            return;
        }
        // Restore point names are at most 63 bytes.
        let mut name = format!("schemactl_{}", migration.version);
        while name.len() > 63 {
            name.pop();
        }
        let lsn = client
            .query_typed(
                "SELECT pg_create_restore_point($1)::text",
                &[(&name, tokio_postgres::types::Type::TEXT)],
            )
            .await
            .map(|rows| {
                rows.first()
                    .map(|row| row.get::<_, String>(0))
                    .unwrap_or_default()
            });
        let detail = match lsn {
            Ok(lsn) => format!(
                "restore point {name} at {lsn}: a point-in-time recovery with recovery_target_name = '{name}' stops just before this migration"
            ),
            Err(error) => {
                self.restore_points = Some(false);
                notify(Notice::Warning(&format!(
                    "the server archives WAL, but no restore point could be created before each migration \
                     (it needs superuser or EXECUTE on pg_create_restore_point): {}",
                    super::describe(&error)
                )));
                return;
            }
        };
        let event = NewEvent {
            kind: EventKind::RestorePoint,
            version: migration.version.clone(),
            name: &migration.name,
            checksum: Some(&migration.up.checksum),
            execution_ms: None,
            detail: Some(&detail),
        };
        if let Ok(writer) = self.writer().await {
            let _ = writer.event(client, &event).await;
        }
        notify(Notice::Info(&format!("{}: {detail}", migration.label())));
    }

    async fn writer(&mut self) -> Result<&HistoryWriter, Error> {
        // Under the advisory lock, the writes that end a migration check
        // that the session still holds it.
        let lock = (self.execution.lock_mode != LockMode::Table).then_some(&self.lock);
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => {
                self.history
                    .writer(self.client, lock, lock.is_some())
                    .await?
            }
        };
        Ok(self.writer.insert(writer))
    }
}

impl PostgresDriver<'_> {
    /// Runs `migration`'s script in `direction` with what `guarded` puts
    /// around it, trying again after a lock timeout while the budget lasts.
    async fn apply_script(
        &mut self,
        migration: &Migration,
        direction: Direction,
        surrounding: Option<&super::executor::Surrounding>,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<i64, Error> {
        let (client, execution) = (self.client, self.execution);
        let writer = self.writer().await?;
        let script = match direction {
            Direction::Up => Some(&migration.up),
            Direction::Down => migration.down.as_ref(),
        };
        if script.is_some_and(|s| s.execution() == crate::model::Execution::Backfill) {
            // Each batch retries its own lock timeouts.
            let mut progress = |status: &crate::model::backfill::BackfillProgress| {
                notify(Notice::Backfill(status))
            };
            return executor::backfill(
                client,
                writer,
                migration,
                direction,
                execution,
                &mut progress,
            )
            .await
            .map_err(Error::MigrationFailed);
        }
        let outside_transaction =
            script.is_some_and(|s| s.execution() != crate::model::Execution::Transaction);
        if outside_transaction {
            warn_of_invalid_indexes(client, migration, notify).await;
        }
        let started = Instant::now();
        let first = run_once(client, writer, migration, direction, execution, surrounding).await;
        let attempts = Attempts {
            client,
            writer,
            execution,
        };
        attempts
            .settle(migration, direction, surrounding, (started, first), notify)
            .await
    }
}

impl PostgresDriver<'_> {
    /// How many of `plan`'s first migrations can run chained (see
    /// [`super::pipeline`]): transactional scripts with nothing of the
    /// driver's own around them (no hooks, no lease to renew between them,
    /// no restore point before each; whether the server archives is known
    /// after the first migration up).
    fn chainable(&self, plan: &[&Migration], direction: Direction) -> usize {
        let around_each = self.hooks.is_some()
            || self.lease.is_some()
            || (direction == Direction::Up && self.restore_points != Some(false));
        if around_each {
            return 0;
        }
        plan.iter()
            .take_while(|migration| {
                let script = match direction {
                    Direction::Up => Some(&migration.up),
                    Direction::Down => migration.down.as_ref(),
                };
                script.is_some_and(|s| s.execution() == crate::model::Execution::Transaction)
            })
            .count()
    }
}

/// Warns of INVALID indexes before a script that runs outside a transaction:
/// its `CREATE INDEX … IF NOT EXISTS` would skip one an interrupted build
/// left behind.
async fn warn_of_invalid_indexes(
    client: &Client,
    migration: &Migration,
    notify: &mut (dyn FnMut(Notice) + Send),
) {
    for index in invalid_indexes::find(client).await.unwrap_or_default() {
        notify(Notice::Warning(&format!(
            "{}: index {} on {} is INVALID (an interrupted CREATE INDEX CONCURRENTLY); remove it with {} before building it again",
            migration.label(),
            index.index,
            index.table,
            index.drop_statement()
        )));
    }
}

impl Driver for PostgresDriver<'_> {
    async fn lock(
        &mut self,
        wait: Duration,
        on_wait: &mut (dyn FnMut(&[LockHolder]) + Send),
    ) -> Result<(), Error> {
        if self.execution.lock_mode == LockMode::Table {
            let lease = LeaseLock::for_history(self.history, self.execution.lock_ttl)?;
            lease.acquire(self.client, wait, on_wait).await?;
            if let Some(target) = self.heartbeat_target {
                // Without a second connection (max_connections reached, say)
                // the lease is still renewed before each migration.
                self.heartbeat = lease.heartbeat(target).await.ok();
            }
            self.lease = Some(lease);
            return Ok(());
        }
        // Through a transaction pooler the next statement may run in
        // another session, where the lock is not held: look twice.
        if !self
            .lock
            .acquire_and_check(self.client, wait, on_wait)
            .await?
        {
            let _ = self.lock.release(self.client).await;
            return Err(Error::refused(crate::error::refusal::RefusalKind::TransactionPooler,
                "the migration lock (a session advisory lock) is not held by the session that runs the next statement: \
                 this connection goes through a transaction-pooling proxy (PgBouncer with pool_mode = transaction, say), \
                 where session locks and settings do not hold; nothing was changed. Point DATABASE_URL at PostgreSQL itself \
                 (or a session-pooled PgBouncer) for migrations, or use --lock-mode table (a lease row)"
                    .into(),
            ));
        }
        Ok(())
    }

    async fn unlock(&mut self) -> Result<bool, Error> {
        self.heartbeat = None;
        match self.lease.take() {
            Some(lease) => lease.release(self.client).await,
            None => self.lock.release(self.client).await,
        }
    }

    async fn read_history(&self) -> Result<Vec<AppliedMigration>, Error> {
        // One message when the history reads as it is; else the careful
        // read, which says what is wrong with it.
        match self.peek_history().await? {
            Some(applied) => Ok(applied),
            None => self.history.read(self.client).await,
        }
    }

    async fn stored_downs(&self, versions: &[Version]) -> Result<Vec<(String, String)>, Error> {
        self.history.stored_downs(self.client, versions).await
    }

    async fn releases(&self) -> Result<Vec<crate::model::release::Release>, Error> {
        self.history.releases(self.client).await
    }

    async fn mark_release(&mut self, label: &str, live: bool) -> Result<(), Error> {
        self.history.mark_release(self.client, label, live).await
    }

    async fn recorded_phases(&self, versions: &[Version]) -> Result<Vec<(String, String)>, Error> {
        self.history.recorded_phases(self.client, versions).await
    }

    async fn peek_history(&self) -> Result<Option<Vec<AppliedMigration>>, Error> {
        use std::sync::atomic::Ordering;
        if self.peek_unreadable.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let peeked = self.history.peek(self.client).await?;
        if peeked.is_none() {
            self.peek_unreadable.store(true, Ordering::Relaxed);
        }
        Ok(peeked)
    }

    async fn invalid_indexes(&self) -> Result<Vec<InvalidIndex>, Error> {
        invalid_indexes::find(self.client).await
    }

    async fn unfinished_run(
        &self,
        version: &Version,
        holding_lock: bool,
    ) -> Result<UnfinishedRun, Error> {
        if self.execution.lock_mode == LockMode::Table {
            // Through a transaction pooler a server session is not the
            // run's: its lease is what says it is alive.
            if holding_lock {
                return Ok(UnfinishedRun::Ended);
            }
            let lease = LeaseLock::for_history(self.history, self.execution.lock_ttl)?;
            return match lease.live_holders(self.client).await {
                Ok(holders) => Ok(UnfinishedRun::from_holders(holders)),
                // No lease table yet: no run ever took a lease here.
                Err(Error::Database {
                    sqlstate: Some(ref code),
                    ..
                }) if code == "42P01" => Ok(UnfinishedRun::Ended),
                Err(other) => Err(other),
            };
        }
        Ok(
            match self.history.started_session(self.client, version).await? {
                StartedSession::Alive(session) => UnfinishedRun::Going {
                    holders: vec![session],
                },
                StartedSession::Gone => UnfinishedRun::Ended,
                // Not named (an older schemactl started it): the lock says.
                StartedSession::Unnamed if holding_lock => UnfinishedRun::Ended,
                StartedSession::Unnamed => {
                    UnfinishedRun::from_holders(self.lock.holders(self.client).await?)
                }
            },
        )
    }

    async fn unadopted(&self) -> Result<Option<Unadopted>, Error> {
        super::adoption::check(self.client, self.history).await
    }

    async fn other_tools(&self) -> Result<Vec<Tool>, Error> {
        super::foreign_import::detect(self.client).await
    }

    async fn other_tool_history(&self, tool: Tool, table: &Identifier) -> Result<Recorded, Error> {
        super::foreign_import::read(self.client, tool, table).await
    }

    async fn backfill_marks(
        &self,
    ) -> std::collections::BTreeMap<Version, (String, crate::model::backfill::BatchMark)> {
        super::backfill_standing::read(self.client, self.history).await
    }

    async fn recovery_points(&self, rows: &mut [crate::model::plan::StatusRow]) {
        use crate::model::plan::State;
        let points = super::recovery_points::read(self.client, self.history).await;
        for row in rows
            .iter_mut()
            .filter(|r| matches!(r.state, State::Applied | State::Modified | State::Missing))
        {
            if let Some(found) = points.get(&row.version) {
                row.restore_point.clone_from(&found.restore_point);
                row.data_backup.clone_from(&found.data_backup);
            }
        }
    }

    async fn before_run(&mut self, notify: &mut (dyn FnMut(Notice) + Send)) {
        let Some(hooks) = self.hooks else {
            return;
        };
        let events = hooks.before_run(self.client, self.history, notify).await;
        self.record_events(&events).await;
    }

    async fn ensure_history(&mut self) -> Result<(), Error> {
        let configured = self.execution.lock_timeout.millis();
        let limits = UpgradeLimits {
            // No limit configured: the default, never none.
            lock_timeout_ms: if configured == 0 {
                UpgradeLimits::default().lock_timeout_ms
            } else {
                configured
            },
            retries: self.execution.lock_retries,
        };
        self.history.ensure_within(self.client, &limits).await?;
        // The history is there now, as it reads: one-message reads again.
        self.peek_unreadable
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.writer().await.map(drop)
    }

    async fn apply(
        &mut self,
        migration: &Migration,
        direction: Direction,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<i64, Error> {
        let client = self.client;
        if let Some(lease) = &self.lease {
            lease.renew(client).await?;
        }
        if direction == Direction::Up {
            self.restore_point(migration, notify).await;
        }
        let script = match direction {
            Direction::Up => Some(&migration.up),
            Direction::Down => migration.down.as_ref(),
        };
        let outside_transaction =
            script.is_some_and(|s| s.execution() != crate::model::Execution::Transaction);
        let around = match self.hooks {
            Some(hooks) => {
                hooks
                    .around(
                        client,
                        self.history,
                        migration,
                        direction,
                        !outside_transaction,
                        notify,
                    )
                    .await?
            }
            None => None,
        };
        let surrounding = around.as_ref().map(|a| a.surrounding());
        let result = self
            .apply_script(migration, direction, surrounding, notify)
            .await;
        match (&result, around) {
            (Ok(_), Some(around)) => {
                let events = around.committed(client, self.history, notify).await;
                self.record_events(&events).await;
            }
            (Err(_), Some(around)) => around.failed(client).await,
            (_, None) => {}
        }
        result
    }

    async fn apply_in_order(
        &mut self,
        plan: &[&Migration],
        direction: Direction,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> (Vec<i64>, Result<(), Error>) {
        let mut done = Vec::with_capacity(plan.len());
        let mut next = 0;
        while next < plan.len() {
            let chained = self.chainable(&plan[next..], direction);
            if chained < 2 {
                match apply_told(self, plan[next], direction, notify).await {
                    Ok(execution_ms) => done.push(execution_ms),
                    Err(error) => return (done, Err(error)),
                }
                next += 1;
                continue;
            }
            let (client, execution) = (self.client, self.execution);
            let writer = match self.writer().await {
                Ok(writer) => writer,
                Err(error) => return (done, Err(error)),
            };
            let attempts = Attempts {
                client,
                writer,
                execution,
            };
            let stretch = &plan[next..next + chained];
            let (ran, result) =
                super::pipeline::apply_chained(&attempts, stretch, direction, notify).await;
            next += ran.len();
            done.extend(ran);
            if let Err(error) = result {
                return (done, Err(error));
            }
        }
        (done, Ok(()))
    }

    async fn record_baseline(&mut self, chosen: &[BaselineEntry<'_>]) -> Result<(), Error> {
        let client = self.client;
        let writer = self.writer().await?;
        in_transaction(client, "cannot record the baseline", async || {
            for entry in chosen {
                let (m, detail) = (entry.migration, &entry.detail);
                let row = NewRow {
                    version: m.version.clone(),
                    name: &m.name,
                    checksum: &m.up.checksum,
                    down_checksum: m.down.as_ref().map(|d| &d.checksum),
                    down_script: m.down.as_ref().map(|d| d.sql.as_str()),
                    phase: m.up.directives.phase.map(Phase::as_str),
                    execution_ms: Some(0),
                    success: true,
                    baselined: true,
                    error: None,
                };
                let event = NewEvent {
                    kind: EventKind::Baselined,
                    version: m.version.clone(),
                    name: &m.name,
                    checksum: Some(&m.up.checksum),
                    execution_ms: Some(0),
                    detail: Some(detail),
                };
                tokio::try_join!(writer.insert(client, &row), writer.event(client, &event))?;
                if let Some(at) = entry.applied_at.as_deref().and_then(parse_timestamp) {
                    writer.set_applied_at(client, m.version.clone(), at).await?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn repair(
        &mut self,
        version: Version,
        edit: HistoryEdit<'_>,
        event: AuditEvent<'_>,
    ) -> Result<(), Error> {
        let client = self.client;
        let writer = self.writer().await?;
        in_transaction(client, "cannot repair the history", async || {
            match edit {
                HistoryEdit::Delete => writer.delete(client, version).await?,
                HistoryEdit::MarkApplied { execution_ms } => {
                    writer
                        .finish(client, version, true, execution_ms, None)
                        .await?
                }
                HistoryEdit::AcceptChecksum {
                    up,
                    down,
                    down_script,
                } => {
                    writer
                        .accept_checksum(client, version, up, down, down_script)
                        .await?
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

/// A timestamp as other tools' tables print it: RFC 3339, or PostgreSQL's
/// text form with or without a zone (without one: UTC). `None` when it is
/// neither; the row then keeps the time of the import.
fn parse_timestamp(text: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let text = text.trim();
    if let Ok(at) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    let with_zone = format_description!(
        version = 2,
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]][offset_hour sign:mandatory][optional [:[offset_minute]]]"
    );
    if let Ok(at) = time::OffsetDateTime::parse(text, with_zone) {
        return Some(at);
    }
    let without_zone = format_description!(
        version = 2,
        "[year]-[month]-[day][first [ ][T]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    time::PrimitiveDateTime::parse(text, without_zone)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// Runs `body` between `BEGIN` and `COMMIT` on `client`, rolling back when
/// it fails.
async fn in_transaction(
    client: &Client,
    context: &str,
    body: impl AsyncFnOnce() -> Result<(), tokio_postgres::Error>,
) -> Result<(), Error> {
    let run = async {
        client.batch_execute("BEGIN").await?;
        body().await?;
        client.batch_execute("COMMIT").await
    };
    if let Err(e) = run.await {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(database(context, &e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn other_tools_timestamps_are_read() {
        for text in [
            "2024-01-02T00:00:00Z",
            "2024-01-02 10:11:12.123456+00",
            "2024-01-02 10:11:12+02:00",
            "2024-01-02 10:11:12.5",
            "2024-01-02 10:11:12",
        ] {
            assert!(parse_timestamp(text).is_some(), "{text}");
        }
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(
            parse_timestamp("2024-01-02 10:11:12+02:00").map(|t| t.unix_timestamp()),
            parse_timestamp("2024-01-02T08:11:12Z").map(|t| t.unix_timestamp())
        );
    }
}
