//! `schemactl verify`: prove on a scratch database that every down script
//! undoes its up script. For each migration k: snapshot S(k-1), apply up k,
//! snapshot S(k), apply down k, compare with S(k-1), apply up k again,
//! compare with S(k). The database in `DATABASE_URL` is never touched.

use super::dump::history_tables;
use super::{dev_target, Notice};
use crate::config::{ColumnOrderPolicy, Settings};
use crate::migration::Migration;
use crate::migration::Version;
use crate::postgres::executor;
use crate::postgres::history_table::HistoryWriter;
use crate::postgres::scratch::ScratchDatabase;
use crate::schema::compare::unified_diff;
use crate::schema::{catalog, compare, Difference, DifferenceKind, Snapshot};
use crate::source::MigrationSource;
use crate::{Error, MigrationFailure};
use std::time::Instant;
use tokio_postgres::Client;

/// What verification found for one migration.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Down restored the schema and up re-applied cleanly.
    Ok,
    /// No down script: the up was applied and checking went on.
    NoDown,
    /// The up script failed (verification stops here).
    UpFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// The down script failed.
    DownFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// After the down script, the schema differs from before the up script.
    DownDoesNotRestore {
        /// The objects that differ.
        differences: Vec<Difference>,
        /// Before the up (-) against after the down (+).
        diff: String,
    },
    /// The up script failed when applied again after its down.
    ReapplyFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// Applied again after its down, the up gives another schema than the first time.
    ReapplyDiffers {
        /// The objects that differ.
        differences: Vec<Difference>,
        /// After the first up (-) against after the second (+).
        diff: String,
    },
}

/// One migration's verification.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationResult {
    /// The version.
    pub version: Version,
    /// `0003_add_orders`.
    pub label: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Differences reported but tolerated (columns in another order, by default).
    pub warnings: Vec<Difference>,
}

impl MigrationResult {
    /// Whether this migration fails verification.
    pub fn failed(&self) -> bool {
        !matches!(self.outcome, Outcome::Ok | Outcome::NoDown)
    }
}

/// The whole run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// The scratch database (password removed).
    pub scratch: String,
    /// Migrations applied without verification (`--from`).
    pub applied_plainly: usize,
    /// One result per verified migration.
    pub results: Vec<MigrationResult>,
    /// Wall time.
    pub total_ms: i64,
}

impl VerifyReport {
    /// Whether any migration failed.
    pub fn failed(&self) -> bool {
        self.results.iter().any(MigrationResult::failed)
    }
}

/// Progress of a run, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Migrations done.
    pub done: usize,
    /// Migrations to verify.
    pub total: usize,
}

/// Verifies the configured directory's migrations from `from` (all when
/// `None`); [`crate::verify::Verifier`] verifies any source.
pub async fn verify(
    settings: &Settings,
    from: Option<Version>,
    notify: &mut dyn FnMut(Notice),
    progress: &mut dyn FnMut(Progress),
) -> Result<VerifyReport, Error> {
    let local = crate::source::Directory::from_settings(settings).load()?;
    verify_migrations(settings, local, from, notify, progress).await
}

/// Verifies `local` (read from a source) on a scratch database.
pub(crate) async fn verify_migrations(
    settings: &Settings,
    local: Vec<Migration>,
    from: Option<Version>,
    notify: &mut dyn FnMut(Notice),
    progress: &mut dyn FnMut(Progress),
) -> Result<VerifyReport, Error> {
    let started = Instant::now();
    let dev = dev_target(settings, notify).await?;
    let scratch = ScratchDatabase::create(&dev).await?;
    let result = async {
        let client = scratch.target().connect().await?;
        let excluded = history_tables(settings);
        let empty = catalog::snapshot(&client, &excluded).await?;
        if !empty.is_empty() {
            return Err(Error::Refused(format!(
                "the scratch database {} is not empty (its template has objects); point --dev-url at another server",
                scratch.target().display()
            )));
        }
        settings.history.ensure(&client).await?;
        let writer = settings.history.writer(&client).await?;
        let (plain, checked): (Vec<&Migration>, Vec<&Migration>) =
            local.iter().partition(|m| from.as_ref().is_some_and(|f| &m.version < f));
        for migration in &plain {
            executor::apply(&client, &writer, migration, &settings.execution)
                .await
                .map_err(Error::MigrationFailed)?;
        }
        let mut run = Run { client: &client, writer: &writer, settings, excluded: &excluded };
        let mut before = if plain.is_empty() { empty } else { run.snapshot().await? };
        let mut results = Vec::new();
        for (done, migration) in checked.iter().enumerate() {
            let (result, next) = run.check(migration, before).await?;
            let stop = matches!(result.outcome, Outcome::UpFailed { .. } | Outcome::ReapplyFailed { .. });
            results.push(result);
            progress(Progress { done: done + 1, total: checked.len() });
            let Some(next) = next else { break };
            if stop {
                break;
            }
            before = next;
        }
        Ok(VerifyReport {
            scratch: scratch.target().display().to_string(),
            applied_plainly: plain.len(),
            results,
            total_ms: 0,
        })
    }
    .await;
    let dropped = scratch.drop_database().await;
    let mut report = result?;
    dropped?;
    report.total_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    Ok(report)
}

struct Run<'a> {
    client: &'a Client,
    writer: &'a HistoryWriter,
    settings: &'a Settings,
    excluded: &'a [String],
}

impl Run<'_> {
    async fn snapshot(&mut self) -> Result<Snapshot, Error> {
        catalog::snapshot(self.client, self.excluded).await
    }

    /// Checks one migration from the schema `before` it; returns its result
    /// and the schema to check the next one from (`None`: cannot go on).
    async fn check(
        &mut self,
        migration: &Migration,
        before: Snapshot,
    ) -> Result<(MigrationResult, Option<Snapshot>), Error> {
        let result = |outcome, warnings| MigrationResult {
            version: migration.version.clone(),
            label: migration.label(),
            outcome,
            warnings,
        };
        let execution = &self.settings.execution;
        if let Err(failure) = executor::apply(self.client, self.writer, migration, execution).await
        {
            return Ok((result(Outcome::UpFailed { failure }, Vec::new()), None));
        }
        let after = self.snapshot().await?;
        if migration.down.is_none() {
            return Ok((result(Outcome::NoDown, Vec::new()), Some(after)));
        }
        if let Err(failure) = executor::revert(self.client, self.writer, migration, execution).await
        {
            let transactional = failure.transactional;
            // A transactional down left the schema as the up made it.
            return Ok((
                result(Outcome::DownFailed { failure }, Vec::new()),
                transactional.then_some(after),
            ));
        }
        let restored = self.snapshot().await?;
        let (errors, mut warnings) = self.classify(compare(&before, &restored));
        if !errors.is_empty() {
            let diff = unified_diff(
                &before,
                &restored,
                "before the up script",
                "after the down script",
            );
            let outcome = Outcome::DownDoesNotRestore {
                differences: errors,
                diff,
            };
            // Go on from wherever the up leads now, if it still applies, so
            // that one run reports every broken down script.
            let next = match executor::apply(self.client, self.writer, migration, execution).await {
                Ok(_) => Some(self.snapshot().await?),
                Err(_) => None,
            };
            return Ok((result(outcome, warnings), next));
        }
        let no_op_down = migration
            .down
            .as_ref()
            .is_some_and(|d| d.statements().is_ok_and(|s| s.is_empty()));
        if no_op_down {
            // A no-op down after a data-only up is right, and the schema
            // says so; running the up again would only repeat its data.
            return Ok((result(Outcome::Ok, warnings), Some(restored)));
        }
        if let Err(failure) = executor::apply(self.client, self.writer, migration, execution).await
        {
            return Ok((result(Outcome::ReapplyFailed { failure }, warnings), None));
        }
        let again = self.snapshot().await?;
        let (errors, more) = self.classify(compare(&after, &again));
        warnings.extend(more);
        if !errors.is_empty() {
            let diff = unified_diff(
                &after,
                &again,
                "after the first up",
                "after down and up again",
            );
            return Ok((
                result(
                    Outcome::ReapplyDiffers {
                        differences: errors,
                        diff,
                    },
                    warnings,
                ),
                Some(again),
            ));
        }
        Ok((result(Outcome::Ok, warnings), Some(again)))
    }

    /// Splits differences into failures and tolerated warnings.
    fn classify(&self, differences: Vec<Difference>) -> (Vec<Difference>, Vec<Difference>) {
        let policy = self.settings.column_order;
        let (order, other): (Vec<Difference>, Vec<Difference>) = differences
            .into_iter()
            .partition(|d| d.kind == DifferenceKind::ColumnOrder);
        match policy {
            ColumnOrderPolicy::Error => (other.into_iter().chain(order).collect(), Vec::new()),
            ColumnOrderPolicy::Warning => (other, order),
            ColumnOrderPolicy::Ignore => (other, Vec::new()),
        }
    }
}
