//! `schemactl diff`: schema drift. Without arguments, the live database is
//! compared with the schema its applied migrations should have produced
//! (replayed on a scratch database up to the same versions); with two URLs,
//! two databases are compared.

use crate::catalog::compare::unified_diff;
use crate::catalog::dump::history_tables;
use crate::catalog::{compare, reading, Difference, Snapshot, Tolerance};
use crate::config::Settings;
use crate::model::history::AppliedMigration;
use crate::model::Migration;
use crate::postgres::executor;
use crate::postgres::scratch::ScratchDatabase;
use crate::postgres::DatabaseTarget;
use crate::runner::session::{connect, dev_target};
use crate::runner::Notice;
use crate::Error;

/// The drift found.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct DiffReport {
    /// What the expected side is.
    pub expected: String,
    /// What the actual side is.
    pub actual: String,
    /// Objects that differ and count as drift.
    pub differences: Vec<Difference>,
    /// Differences tolerated by the column-order and volatile-literal
    /// policies.
    pub warnings: Vec<Difference>,
    /// Definitions that differ only in formatting (not drift).
    pub formatting: Vec<Difference>,
    /// Unified diff, expected (-) against actual (+).
    pub diff: String,
}

/// Compares the live database with a replay of its applied migrations.
pub(crate) async fn drift(
    settings: &Settings,
    local: Vec<crate::model::Migration>,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<DiffReport, Error> {
    let live = connect(&settings.connection, notify).await?;
    let applied = settings.run.history.read(&live.client).await?;
    let replay = replay_of(&local, &applied)?;
    let excluded = history_tables(settings);
    let actual = reading::snapshot(&live.client, &excluded)
        .await?
        .without(&settings.verify.ignore, &settings.verify.exclude);
    let dev = dev_target(&settings.verify, &settings.connection, notify).await?;
    let scratch = ScratchDatabase::create(&dev).await?;
    let expected = async {
        let client = scratch.target().connect().await?;
        replay_onto(&client, settings, &replay).await?;
        Ok(reading::snapshot(&client, &excluded)
            .await?
            .without(&settings.verify.ignore, &settings.verify.exclude))
    }
    .await;
    let dropped = scratch.drop_database().await;
    let expected = expected?;
    dropped?;
    let label = format!("{} migrations replayed", replay.len());
    Ok(report(
        Tolerance::of(&settings.verify),
        label,
        live.target,
        &expected,
        &actual,
    ))
}

/// The migrations that produced a live history, in the order their layout
/// gives them (the order `migrate` applies them, never the text order of
/// the recorded versions: `10` comes after `9`): the files of its
/// successful rows. Refused when an applied version has no file.
pub(crate) fn replay_of<'a>(
    local: &'a [Migration],
    applied: &[AppliedMigration],
) -> Result<Vec<&'a Migration>, Error> {
    let succeeded: Vec<&AppliedMigration> = applied.iter().filter(|r| r.success).collect();
    let missing: Vec<String> = succeeded
        .iter()
        .filter(|record| !local.iter().any(|m| m.version == record.version))
        .map(|record| format!("{} ({})", record.version, record.name))
        .collect();
    if !missing.is_empty() {
        return Err(Error::refused(crate::error::refusal::RefusalKind::Plan, format!(
            "cannot replay the live history: applied versions without files: {}; restore them first (`schemactl validate` lists every disagreement)",
            missing.join(", ")
        )));
    }
    Ok(local
        .iter()
        .filter(|m| succeeded.iter().any(|record| record.version == m.version))
        .collect())
}

/// Applies `replay` in order on `client` (a scratch database), recording
/// each in the history as `migrate` would.
pub(crate) async fn replay_onto(
    client: &tokio_postgres::Client,
    settings: &Settings,
    replay: &[&Migration],
) -> Result<(), Error> {
    settings.run.history.ensure(client).await?;
    let writer = settings.run.history.writer(client, None, true).await?;
    for migration in replay {
        executor::apply(client, &writer, migration, &settings.run.execution)
            .await
            .map_err(Error::ReplayFailed)?;
    }
    Ok(())
}

impl DiffReport {
    /// Compares two databases.
    pub async fn between(settings: &Settings, a: &str, b: &str) -> Result<DiffReport, Error> {
        let (a, b) = (
            DatabaseTarget::parse(a)?.with_connect_timeout(settings.connection.connect_timeout),
            DatabaseTarget::parse(b)?.with_connect_timeout(settings.connection.connect_timeout),
        );
        let excluded = history_tables(settings);
        let (client_a, client_b) = (a.connect().await?, b.connect().await?);
        let expected = reading::snapshot(&client_a, &excluded)
            .await?
            .without(&settings.verify.ignore, &settings.verify.exclude);
        let actual = reading::snapshot(&client_b, &excluded)
            .await?
            .without(&settings.verify.ignore, &settings.verify.exclude);
        Ok(report(
            Tolerance::of(&settings.verify),
            a.display().to_string(),
            b.display().to_string(),
            &expected,
            &actual,
        ))
    }
}

pub(crate) fn report(
    tolerance: Tolerance,
    expected_label: String,
    actual_label: String,
    expected: &Snapshot,
    actual: &Snapshot,
) -> DiffReport {
    let sorted = tolerance.sort(compare(expected, actual));
    let diff = if sorted.errors.is_empty() && sorted.warnings.is_empty() {
        String::new()
    } else {
        unified_diff(expected, actual, &expected_label, &actual_label)
    };
    DiffReport {
        expected: expected_label,
        actual: actual_label,
        differences: sorted.errors,
        warnings: sorted.warnings,
        formatting: sorted.notes,
        diff,
    }
}
