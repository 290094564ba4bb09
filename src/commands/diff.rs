//! `schemactl diff`: schema drift. Without arguments, the live database is
//! compared with the schema its applied migrations should have produced
//! (replayed on a scratch database up to the same versions); with two URLs,
//! two databases are compared.

use super::dump::history_tables;
use super::{connect, dev_target, Notice};
use crate::config::{ColumnOrderPolicy, Settings};
use crate::postgres::executor;
use crate::postgres::scratch::ScratchDatabase;
use crate::postgres::DatabaseTarget;
use crate::schema::compare::unified_diff;
use crate::schema::{catalog, compare, Difference, DifferenceKind};
use crate::source::{Directory, MigrationSource};
use crate::Error;

/// The drift found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DiffReport {
    /// What the expected side is.
    pub expected: String,
    /// What the actual side is.
    pub actual: String,
    /// Objects that differ and count as drift.
    pub differences: Vec<Difference>,
    /// Differences tolerated by the column-order policy.
    pub warnings: Vec<Difference>,
    /// Unified diff, expected (-) against actual (+).
    pub diff: String,
}

/// Compares the live database with a replay of its applied migrations.
pub async fn drift(
    settings: &Settings,
    notify: &mut dyn FnMut(Notice),
) -> Result<DiffReport, Error> {
    let local = Directory::from_settings(settings).load()?;
    let live = connect(settings, notify).await?;
    let applied = settings.history.read(&live.client).await?;
    let mut missing = Vec::new();
    let mut replay = Vec::new();
    for record in applied.iter().filter(|r| r.success) {
        match local.iter().find(|m| m.version == record.version) {
            Some(m) => replay.push(m),
            None => missing.push(format!("{} ({})", record.version, record.name)),
        }
    }
    if !missing.is_empty() {
        return Err(Error::Refused(format!(
            "cannot replay the live history: applied versions without files: {}; restore them first (`schemactl validate` lists every disagreement)",
            missing.join(", ")
        )));
    }
    let excluded = history_tables(settings);
    let actual = catalog::snapshot(&live.client, &excluded).await?;
    let dev = dev_target(settings, notify).await?;
    let scratch = ScratchDatabase::create(&dev).await?;
    let expected = async {
        let client = scratch.target().connect().await?;
        settings.history.ensure(&client).await?;
        let writer = settings.history.writer(&client).await?;
        for migration in &replay {
            executor::apply(&client, &writer, migration, &settings.execution)
                .await
                .map_err(Error::MigrationFailed)?;
        }
        catalog::snapshot(&client, &excluded).await
    }
    .await;
    let dropped = scratch.drop_database().await;
    let expected = expected?;
    dropped?;
    let label = format!("{} migrations replayed", replay.len());
    Ok(report(
        settings.column_order,
        label,
        live.target,
        &expected,
        &actual,
    ))
}

/// Compares two databases.
pub async fn between(settings: &Settings, a: &str, b: &str) -> Result<DiffReport, Error> {
    let (a, b) = (
        DatabaseTarget::parse(a)?.with_connect_timeout(settings.connect_timeout),
        DatabaseTarget::parse(b)?.with_connect_timeout(settings.connect_timeout),
    );
    let excluded = history_tables(settings);
    let (client_a, client_b) = (a.connect().await?, b.connect().await?);
    let expected = catalog::snapshot(&client_a, &excluded).await?;
    let actual = catalog::snapshot(&client_b, &excluded).await?;
    Ok(report(
        settings.column_order,
        a.display().to_string(),
        b.display().to_string(),
        &expected,
        &actual,
    ))
}

fn report(
    policy: ColumnOrderPolicy,
    expected_label: String,
    actual_label: String,
    expected: &crate::schema::Snapshot,
    actual: &crate::schema::Snapshot,
) -> DiffReport {
    let (order, mut differences): (Vec<Difference>, Vec<Difference>) = compare(expected, actual)
        .into_iter()
        .partition(|d| d.kind == DifferenceKind::ColumnOrder);
    let warnings = match policy {
        ColumnOrderPolicy::Error => {
            differences.extend(order);
            Vec::new()
        }
        ColumnOrderPolicy::Warning => order,
        ColumnOrderPolicy::Ignore => Vec::new(),
    };
    let diff = if differences.is_empty() && warnings.is_empty() {
        String::new()
    } else {
        unified_diff(expected, actual, &expected_label, &actual_label)
    };
    DiffReport {
        expected: expected_label,
        actual: actual_label,
        differences,
        warnings,
        diff,
    }
}
