//! The samples each report gives. Every run says when it ended, how long
//! it took and whether it succeeded (`command` and `database` labels); a
//! successful run also says when it last succeeded, a failed one adds to
//! the failures counter.

use super::Sample;
use schemactl::backup::{BackupCreated, BackupRestored};
use schemactl::fleet::FleetReport;
use schemactl::RunReport;
use std::time::{Duration, SystemTime};

/// A database as a label: `host:port/name` (no scheme, user, password
/// or parameters), short and stable across runs.
pub fn database_label(display: &str) -> String {
    let rest = display.split_once("://").map_or(display, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split('?').next().unwrap_or_default().to_string()
}

/// Seconds since the Unix epoch, now.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// The samples every run gives: `command` (`migrate`, `backup create`, …)
/// on `database` (no password) ended now after `duration`, and whether it
/// succeeded.
pub fn of_outcome(command: &str, database: &str, duration: Duration, success: bool) -> Vec<Sample> {
    let database = database_label(database);
    let labels = [("command", command), ("database", database.as_str())];
    let mut samples = vec![
        Sample::gauge(
            "schemactl_run_last_timestamp_seconds",
            "When the last run of the command ended (Unix time).",
            &labels,
            now(),
        ),
        Sample::gauge(
            "schemactl_run_last_duration_seconds",
            "How long the last run of the command took.",
            &labels,
            duration.as_secs_f64(),
        ),
        Sample::gauge(
            "schemactl_run_last_success",
            "Whether the last run of the command succeeded (1) or failed (0).",
            &labels,
            if success { 1.0 } else { 0.0 },
        ),
    ];
    if success {
        samples.push(Sample::gauge(
            "schemactl_run_last_success_timestamp_seconds",
            "When a run of the command last succeeded (Unix time).",
            &labels,
            now(),
        ));
    } else {
        samples.push(Sample::counter(
            "schemactl_run_failures_total",
            "Runs of the command that failed.",
            &labels,
            1.0,
        ));
    }
    samples
}

/// A `migrate` or `rollback` that succeeded: the migrations it ran, the
/// database's version after it (when it is a number) and, for `migrate`,
/// what is still pending.
pub fn of_run(command: &str, report: &RunReport) -> Vec<Sample> {
    let database = database_label(&report.database);
    let labels = [("command", command), ("database", database.as_str())];
    let mut samples = vec![Sample::gauge(
        "schemactl_run_last_migrations",
        "Migrations the last run of the command applied (or rolled back).",
        &labels,
        report.executed.len() as f64,
    )];
    let database = [("database", database.as_str())];
    if let Some(version) = report
        .current_version
        .as_ref()
        .and_then(|v| v.to_string().parse::<f64>().ok())
    {
        samples.push(Sample::gauge(
            "schemactl_database_version",
            "The newest migration version applied to the database (when it is a number).",
            &database,
            version,
        ));
    }
    if let Some(pending) = report.pending {
        samples.push(Sample::gauge(
            "schemactl_pending_migrations",
            "Migrations in the directory not applied to the database after the last run.",
            &database,
            pending as f64,
        ));
    }
    samples
}

/// A fleet run: its targets by state.
pub fn of_fleet(command: &str, report: &FleetReport) -> Vec<Sample> {
    let summary = &report.summary;
    [
        ("done", summary.done),
        ("failed", summary.failed),
        ("not_run", summary.not_run),
        ("skipped", summary.skipped),
    ]
    .into_iter()
    .map(|(state, count)| {
        Sample::gauge(
            "schemactl_fleet_targets",
            "Targets of the last fleet run of the command, by state.",
            &[("command", command), ("state", state)],
            count as f64,
        )
    })
    .collect()
}

/// A backup made: when, how big, how long.
pub fn of_backup_created(report: &BackupCreated) -> Vec<Sample> {
    let labels = [
        ("database", report.backup.database.as_str()),
        ("store", report.store.as_str()),
    ];
    vec![
        Sample::gauge(
            "schemactl_backup_last_success_timestamp_seconds",
            "When the last backup that succeeded was made (Unix time): alert on its age.",
            &labels,
            report.backup.created_at.unix_timestamp() as f64,
        ),
        Sample::gauge(
            "schemactl_backup_last_size_bytes",
            "The stored size of the last backup.",
            &labels,
            report.backup.size_bytes as f64,
        ),
        Sample::gauge(
            "schemactl_backup_last_duration_seconds",
            "How long making the last backup took.",
            &labels,
            report.duration_ms as f64 / 1000.0,
        ),
    ]
}

/// A backup verified by restoring it: whether it matched its manifest.
pub fn of_backup_verified(report: &BackupRestored) -> Vec<Sample> {
    let labels = [("store", report.store.as_str())];
    vec![
        Sample::gauge(
            "schemactl_backup_last_verify_success",
            "Whether the last backup verified restored and matched its manifest (1) or not (0).",
            &labels,
            if report.ok { 1.0 } else { 0.0 },
        ),
        Sample::gauge(
            "schemactl_backup_last_verify_timestamp_seconds",
            "When a backup was last verified (Unix time).",
            &labels,
            now(),
        ),
        Sample::gauge(
            "schemactl_backup_last_restore_seconds",
            "How long the last verify's restore took: the measured recovery time.",
            &labels,
            report.restore_ms as f64 / 1000.0,
        ),
    ]
}

#[cfg(test)]
mod tests {
    /// The monitoring page's table lists exactly the families this file
    /// writes (every `schemactl_…` name in its code); the integration tests
    /// check the written file and the dashboard against the same table.
    #[test]
    fn the_monitoring_page_lists_every_family_and_no_other() {
        let page = include_str!("../../../docs/monitoring.md");
        let mut documented: Vec<&str> = page
            .lines()
            .filter_map(|line| line.strip_prefix("| `")?.split_once('`'))
            .map(|(name, _)| name)
            .filter(|name| name.starts_with("schemactl_"))
            .collect();
        documented.sort_unstable();
        let code = include_str!("of_reports.rs");
        let code = &code[..code.find("#[cfg(test)]").unwrap_or(code.len())];
        let mut written: Vec<&str> = code
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|text| {
                text.strip_prefix("schemactl_").is_some_and(|rest| {
                    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
            })
            .collect();
        written.sort_unstable();
        written.dedup();
        assert!(written.len() >= 15, "{written:?}");
        assert_eq!(documented, written);
    }
}
