//! The runner's seam from outside the crate: an application wraps the
//! PostgreSQL driver in its own [`Driver`] (here, one that keeps an audit
//! trail of what ran and when the lock was held) and the [`Migrator`] runs,
//! reports and rolls back through it, against a real server.

use crate::support::server;
use schemactl::config::RunOptions;
use schemactl::model::backfill::BatchMark;
use schemactl::model::history::AppliedMigration;
use schemactl::model::identifier::Identifier;
use schemactl::model::release::Release;
use schemactl::model::{Direction, Migration, Version};
use schemactl::postgres::{InvalidIndex, PostgresDriver, Recorded, Tool, Unadopted};
use schemactl::runner::driver::{AuditEvent, BaselineEntry, Driver, HistoryEdit};
use schemactl::runner::{MigrateOptions, Notice, RollbackTarget, State, StatusRow};
use schemactl::source::InMemory;
use schemactl::{Error, LockHolder, Migrator, UnfinishedRun};
use std::collections::BTreeMap;
use std::time::Duration;

/// The PostgreSQL driver, with every lock, unlock and script written down.
struct Audited<'a> {
    inner: PostgresDriver<'a>,
    trail: Vec<String>,
}

impl Driver for Audited<'_> {
    async fn lock(
        &mut self,
        wait: Duration,
        on_wait: &mut (dyn FnMut(&[LockHolder]) + Send),
    ) -> Result<(), Error> {
        self.trail.push("lock".into());
        self.inner.lock(wait, on_wait).await
    }
    async fn unlock(&mut self) -> Result<bool, Error> {
        self.trail.push("unlock".into());
        self.inner.unlock().await
    }
    async fn read_history(&self) -> Result<Vec<AppliedMigration>, Error> {
        self.inner.read_history().await
    }
    async fn peek_history(&self) -> Result<Option<Vec<AppliedMigration>>, Error> {
        self.inner.peek_history().await
    }
    async fn stored_downs(&self, versions: &[Version]) -> Result<Vec<(String, String)>, Error> {
        self.inner.stored_downs(versions).await
    }
    async fn recorded_phases(&self, versions: &[Version]) -> Result<Vec<(String, String)>, Error> {
        self.inner.recorded_phases(versions).await
    }
    async fn releases(&self) -> Result<Vec<Release>, Error> {
        self.inner.releases().await
    }
    async fn mark_release(&mut self, label: &str, live: bool) -> Result<(), Error> {
        self.inner.mark_release(label, live).await
    }
    async fn invalid_indexes(&self) -> Result<Vec<InvalidIndex>, Error> {
        self.inner.invalid_indexes().await
    }

    async fn unfinished_run(
        &self,
        version: &Version,
        holding_lock: bool,
    ) -> Result<UnfinishedRun, Error> {
        self.inner.unfinished_run(version, holding_lock).await
    }
    async fn unadopted(&self) -> Result<Option<Unadopted>, Error> {
        self.inner.unadopted().await
    }
    async fn other_tools(&self) -> Result<Vec<Tool>, Error> {
        self.inner.other_tools().await
    }
    async fn other_tool_history(&self, tool: Tool, table: &Identifier) -> Result<Recorded, Error> {
        self.inner.other_tool_history(tool, table).await
    }
    async fn backfill_marks(&self) -> BTreeMap<Version, (String, BatchMark)> {
        self.inner.backfill_marks().await
    }
    async fn recovery_points(&self, rows: &mut [StatusRow]) {
        self.inner.recovery_points(rows).await
    }
    async fn before_run(&mut self, notify: &mut (dyn FnMut(Notice) + Send)) {
        self.inner.before_run(notify).await
    }
    async fn ensure_history(&mut self) -> Result<(), Error> {
        self.inner.ensure_history().await
    }
    async fn apply(
        &mut self,
        migration: &Migration,
        direction: Direction,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<i64, Error> {
        let applied = self.inner.apply(migration, direction, notify).await;
        let outcome = if applied.is_ok() { "ok" } else { "failed" };
        self.trail
            .push(format!("{direction:?} {} {outcome}", migration.label()));
        applied
    }
    async fn record_baseline(&mut self, chosen: &[BaselineEntry<'_>]) -> Result<(), Error> {
        self.inner.record_baseline(chosen).await
    }
    async fn repair(
        &mut self,
        version: Version,
        edit: HistoryEdit<'_>,
        event: AuditEvent<'_>,
    ) -> Result<(), Error> {
        self.inner.repair(version, edit, event).await
    }
}

#[tokio::test]
async fn a_migrator_runs_reports_and_rolls_back_through_a_driver_the_application_wraps() {
    let db = server().database().await;
    let client = db.client().await;
    let source = InMemory::new("wrapped")
        .with_file("0001_a.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);")
        .with_file("0001_a.down.sql", "DROP TABLE a;")
        .with_file("0002_b.up.sql", "CREATE TABLE b (id bigint PRIMARY KEY);")
        .with_file("0002_b.down.sql", "DROP TABLE b;");
    let options = RunOptions::default();
    let migrator = Migrator::new(source, options.clone());
    let mut driver = Audited {
        inner: PostgresDriver::new(&client, &options.history, &options.execution),
        trail: Vec::new(),
    };
    let before = migrator
        .status_with(&driver, false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(before.count(State::Pending), 2);
    let report = migrator
        .run_with(&mut driver, MigrateOptions::default(), false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(report.executed.len(), 2);
    assert_eq!(
        driver.trail,
        ["lock", "Up 0001_a ok", "Up 0002_b ok", "unlock"],
        "every script ran through the wrapper, under the lock"
    );
    assert!(db.exists("b").await);
    // Nothing to do: decided without the lock, through the same driver.
    driver.trail.clear();
    let again = migrator
        .run_with(&mut driver, MigrateOptions::default(), false, &mut |_| {})
        .await
        .unwrap();
    assert!(again.executed.is_empty());
    assert!(driver.trail.is_empty(), "{:?}", driver.trail);
    let undone = migrator
        .undo_with(
            &mut driver,
            RollbackTarget::Steps(1),
            false,
            false,
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(undone.current_version, Some(1.into()));
    assert_eq!(driver.trail, ["lock", "Down 0002_b ok", "unlock"]);
    assert!(!db.exists("b").await);
    // status, through the same driver, agrees with what ran.
    let after = migrator
        .status_with(&driver, false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(after.count(State::Applied), 1);
    assert_eq!(after.count(State::Pending), 1);
}
