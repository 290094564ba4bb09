//! What the commands print: short text for people, JSON for programs.

use schemactl::commands::status::StatusReport;
use schemactl::commands::RunReport;
use schemactl::plan::State;
use std::fmt::Write;

/// The text of a `migrate` or `rollback` report.
pub fn run_report(report: &RunReport, verb_done: &str, nothing: &str) -> String {
    let mut out = String::new();
    let at = report.current_version.map_or_else(
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
            let mode = if script.transactional {
                "in a transaction"
            } else {
                "WITHOUT a transaction"
            };
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
        let _ = writeln!(
            out,
            "{nothing}: {} is {at} ({}).",
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

/// The `status` table.
pub fn status(report: &StatusReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Database  {}\nHistory   {}\n",
        report.database, report.history
    );
    if report.migrations.is_empty() {
        let _ = writeln!(out, "No migrations.");
        return out;
    }
    let header = [
        "VERSION",
        "NAME",
        "STATE",
        "APPLIED AT (UTC)",
        "DURATION",
        "APPLIED BY",
    ];
    let rows: Vec<[String; 6]> = report
        .migrations
        .iter()
        .map(|row| {
            [
                row.version_text.clone(),
                row.name.clone(),
                row.state.as_str().to_string(),
                row.applied_at
                    .map(|t| {
                        let t = t.to_offset(time::UtcOffset::UTC);
                        format!(
                            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                            t.year(),
                            u8::from(t.month()),
                            t.day(),
                            t.hour(),
                            t.minute(),
                            t.second()
                        )
                    })
                    .unwrap_or_default(),
                row.execution_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_default(),
                row.applied_by.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let _ = write!(text, "{cell:<width$}  ", width = widths[i]);
        }
        text.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    let counts: Vec<String> = [
        State::Applied,
        State::Baselined,
        State::Pending,
        State::Modified,
        State::Missing,
        State::Failed,
    ]
    .into_iter()
    .filter_map(|state| {
        let n = report.count(state);
        (n > 0).then(|| format!("{n} {}", state.as_str()))
    })
    .collect();
    let _ = writeln!(out, "\n{}.", counts.join(", "));
    if !report.problems.is_empty() {
        let _ = writeln!(out, "\n`schemactl migrate` would refuse to run:");
        for problem in &report.problems {
            let _ = writeln!(out, "  - {}", problem.to_string().replace('\n', "\n    "));
        }
    }
    out
}

/// The verdict of `validate`.
pub fn validate(report: &StatusReport, fail_on_pending: bool) -> (String, bool) {
    let mut out = String::new();
    let pending: Vec<&str> = report
        .migrations
        .iter()
        .filter(|r| r.state == State::Pending)
        .map(|r| r.version_text.as_str())
        .collect();
    let ok = report.problems.is_empty() && (!fail_on_pending || pending.is_empty());
    for problem in &report.problems {
        let _ = writeln!(out, "- {}", problem.to_string().replace('\n', "\n  "));
    }
    if fail_on_pending && !pending.is_empty() {
        let _ = writeln!(
            out,
            "- pending migrations (run `schemactl migrate`): {}",
            pending.join(", ")
        );
    }
    let applied = report.count(State::Applied) + report.count(State::Baselined);
    if ok {
        let _ = writeln!(
            out,
            "OK: files and history agree on {} ({applied} applied, {} pending).",
            report.database,
            pending.len()
        );
    } else {
        let _ = writeln!(
            out,
            "validate failed on {} ({}).",
            report.database, report.history
        );
    }
    (out, ok)
}

/// A duration in milliseconds as shown to people.
pub fn duration(ms: i64) -> String {
    match ms {
        0 => "<1 ms".to_string(),
        ms if ms < 10_000 => format!("{ms} ms"),
        ms => format!("{:.1} s", ms as f64 / 1000.0),
    }
}
