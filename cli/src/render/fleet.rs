//! The `fleet` report: one line per target, then the totals.

use super::{duration, wrap};
use std::fmt::Write;

/// The `fleet` report: one line per target, then the totals.
pub fn fleet(report: &schemactl::fleet::FleetReport) -> String {
    use schemactl::fleet::TargetState;
    let width = report
        .targets
        .iter()
        .map(|t| t.target.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let what = if report.verb == "rollback" {
        "ROLLED BACK"
    } else {
        "APPLIED"
    };
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:>11}  {:<16}  {:>8}  ERROR",
        "TARGET", "STATE", what, "VERSION", "TIME"
    );
    for target in &report.targets {
        let mut error_lines = target.error.as_deref().unwrap_or("").lines();
        let error = error_lines.next().unwrap_or("");
        let time = match target.state {
            TargetState::Done | TargetState::Failed => duration(target.duration_ms),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:>11}  {:<16}  {:>8}  {error}",
            target.target,
            target.state.as_str(),
            target.applied,
            target.version.as_deref().unwrap_or("-"),
            time
        );
        // The rest of the error's first paragraph (where, the server's
        // message, the fix), beneath the row.
        for line in error_lines.take_while(|l| !l.trim().is_empty()) {
            for piece in wrap(line, 100) {
                let _ = writeln!(out, "    {piece}");
            }
        }
        if let Some(note) = &target.note {
            let _ = writeln!(out, "    note: {note}");
        }
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\nfleet {} run {}{}: {} target(s): {} done, {} failed, {} not run, {} skipped; {} migration(s) {} in {}.",
        report.verb,
        report.run,
        report.shard.as_deref().map(|s| format!(" (shard {s})")).unwrap_or_default(),
        s.total,
        s.done,
        s.failed,
        s.not_run,
        s.skipped,
        s.migrations,
        match (report.verb.as_str(), report.dry_run) {
            (_, true) => "would run",
            ("rollback", false) => "rolled back",
            _ => "applied",
        },
        duration(report.total_ms)
    );
    if !report.versions.is_empty() {
        let versions: Vec<String> = report
            .versions
            .iter()
            .map(|(version, count)| format!("{version}: {count}"))
            .collect();
        let _ = writeln!(out, "versions: {}", versions.join(", "));
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            "Interrupted: the targets that were running finished; the {} not run start with `--resume {}`.",
            s.not_run, report.run
        );
    }
    if s.failed > 0 || s.not_run > 0 {
        let _ = writeln!(
            out,
            "The errors above are each target's own; fix them and go on with `schemactl fleet {} --resume {}` (finished targets are re-checked against the files and skipped when up to date). Ledger: {}",
            report.verb, report.run, report.ledger
        );
    }
    out
}
