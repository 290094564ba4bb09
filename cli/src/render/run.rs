//! The text of `migrate` and `rollback`: what ran, how long, what is left.

use schemactl::runner::RunReport;
use std::fmt::Write;

/// The text of a `migrate` or `rollback` report.
pub fn run_report(report: &RunReport, verb_done: &str, nothing: &str) -> String {
    let mut out = String::new();
    let at = report.current_version.as_ref().map_or_else(
        || "no migration applied".to_string(),
        |v| format!("at version {v}"),
    );
    if report.dry_run {
        let _ = writeln!(
            out,
            "Dry run on {} ({}): {} script(s) would run; nothing was changed.",
            report.database,
            report.history,
            report.planned.len()
        );
        for script in &report.planned {
            let mode = script.execution.describe();
            let _ = writeln!(
                out,
                "\n-- {} ({}, {mode}, lock_timeout {}, statement_timeout {})\n{}",
                script.label,
                script.path,
                script.lock_timeout,
                script.statement_timeout,
                script.sql.trim_end()
            );
        }
        return out;
    }
    if report.executed.is_empty() {
        // "… is at version 7" / "… has no migration applied".
        let verb = if report.current_version.is_some() {
            "is"
        } else {
            "has"
        };
        let _ = writeln!(
            out,
            "{nothing}: {} {verb} {at} ({}).",
            report.database, report.history
        );
    } else {
        let _ = writeln!(
            out,
            "{verb_done} {} migration(s) on {} in {} ms; now {at}.",
            report.executed.len(),
            report.database,
            report.total_ms
        );
    }
    out
}
