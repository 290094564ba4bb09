//! The `verify` report: one verdict per migration, with what differed.

use super::diff::{data_class, diff_text, list};
use super::duration;
use schemactl::catalog::{DataClass, DifferenceKind};
use schemactl::verify::{Outcome, VerifyReport};
use std::fmt::Write;

/// The `verify` report.
pub fn verify(report: &VerifyReport, verbose: bool, colour: bool) -> String {
    let mut out = String::new();
    let paint = |code: &'static str| if colour { code } else { "" };
    let _ = writeln!(
        out,
        "Verified on a scratch database ({}, dropped afterwards){}:",
        report.scratch,
        if report.applied_plainly > 0 {
            format!(
                "; {} older migration(s) applied without checks",
                report.applied_plainly
            )
        } else {
            String::new()
        }
    );
    for result in &report.results {
        verify_result(&mut out, result, verbose, colour);
    }
    for table in &report.unfillable {
        let _ = writeln!(
            out,
            "note: no rows could be generated for {}: {} (its rows are not checked)",
            table.table, table.reason
        );
    }
    if let Some(stopped) = &report.stopped {
        let _ = writeln!(
            out,
            "{}STOPPED{} at {} ({}): {}",
            paint("\x1b[1;31m"),
            paint("\x1b[0m"),
            stopped.migration,
            stopped.step,
            stopped.error
        );
        if !stopped.not_verified.is_empty() {
            let _ = writeln!(
                out,
                "     not verified: {}. Fix {} and run verify again.",
                stopped.not_verified.join(", "),
                stopped.migration
            );
        }
    }
    let failed = report.results.iter().filter(|r| r.failed()).count();
    let not_verified = report.stopped.as_ref().map_or(0, |s| s.not_verified.len());
    let _ = writeln!(
        out,
        "{} migration(s) verified in {}: {} ok, {} failed{}.",
        report.results.len(),
        duration(report.total_ms),
        report.results.len() - failed,
        failed,
        if not_verified > 0 {
            format!(", {not_verified} not verified")
        } else {
            String::new()
        }
    );
    if report.data {
        let count = |class| {
            report
                .results
                .iter()
                .filter(|r| r.data.as_ref().is_some_and(|d| d.class == class))
                .count()
        };
        let _ = writeln!(
            out,
            "Data: {} reversible, {} lossy, {} irreversible.",
            count(DataClass::Reversible),
            count(DataClass::Lossy),
            count(DataClass::Irreversible)
        );
    }
    out
}

/// How one migration's verdict is tagged, and what follows its label.
fn verify_outcome(outcome: &Outcome, colour: bool) -> (&'static str, String) {
    match outcome {
        Outcome::Ok => ("ok  ", String::new()),
        Outcome::NoDown => (
            "skip",
            ": no down script; applied its up and went on".to_string(),
        ),
        // On the scratch database: where and why, no advice about a
        // live history.
        Outcome::UpFailed { failure } => (
            "FAIL",
            format!(": the up script failed\n{}", failure.on_scratch()),
        ),
        Outcome::DownFailed { failure } => (
            "FAIL",
            format!(": the down script failed\n{}", failure.on_scratch()),
        ),
        Outcome::DownDoesNotRestore { differences, diff } => (
            "FAIL",
            format!(
                ": the down script does not restore the schema\n{}\n{}",
                list(differences),
                diff_text(diff, colour)
            ),
        ),
        Outcome::ReapplyFailed { failure } => (
            "FAIL",
            format!(
                ": the up script cannot be applied again after its down\n{}",
                failure.on_scratch()
            ),
        ),
        Outcome::ReapplyDiffers { differences, diff } => (
            "FAIL",
            format!(
                ": applied again after its down, the up script gives another schema\n{}\n{}",
                list(differences),
                diff_text(diff, colour)
            ),
        ),
    }
}

/// One migration's lines of the `verify` report.
fn verify_result(
    out: &mut String,
    result: &schemactl::verify::MigrationResult,
    verbose: bool,
    colour: bool,
) {
    let paint = |code: &'static str| if colour { code } else { "" };
    let (tag, what) = verify_outcome(&result.outcome, colour);
    let code = if tag == "FAIL" {
        "\x1b[1;31m"
    } else if tag == "skip" {
        "\x1b[33m"
    } else {
        "\x1b[32m"
    };
    let data = match &result.data {
        Some(verdict) => format!(" [data: {}]", data_class(verdict.class)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{}{tag}{} {}{data}{}",
        paint(code),
        paint("\x1b[0m"),
        result.label,
        what.replace('\n', "\n     ")
    );
    for warning in &result.warnings {
        let why = match warning.kind {
            DifferenceKind::VolatileLiteral => "a timestamp such as 'now' is frozen when the object is created; set --volatile-literal error to fail on it",
            _ => "a dropped column re-added at the end; set --column-order error to fail on it",
        };
        let _ = writeln!(out, "     warning: {warning} ({why})");
    }
    if verbose {
        for note in &result.formatting {
            let _ = writeln!(out, "     ok: {note} (token by token)");
        }
    }
    if let Some(verdict) = result.data.as_ref().filter(|v| v.class == DataClass::Lossy) {
        for table in &verdict.tables {
            let _ = writeln!(
                out,
                "     rows of {} not restored: {} before the up, {} after the down{}",
                table.table,
                table.rows_before,
                table.rows_after,
                if table.columns.is_empty() {
                    String::new()
                } else {
                    format!("; values differ in {}", table.columns.join(", "))
                }
            );
        }
    }
    for table in result.locks.iter().flat_map(|l| &l.tables) {
        let what = match (table.rewritten, table.scanned) {
            (true, _) => " (rewrote the table)",
            (false, true) => " (scanned the whole table under it)",
            (false, false) => "",
        };
        let (tag, code) = if table.blocks_writes() {
            ("warning: lock", "\x1b[33m")
        } else {
            ("lock", "")
        };
        let _ = writeln!(
            out,
            "     {}{tag}{}: {} on {} at {}{what}",
            paint(code),
            paint(if code.is_empty() { "" } else { "\x1b[0m" }),
            table.mode,
            table.table,
            table.statement
        );
    }
    if result.rebuilt {
        let _ = writeln!(
            out,
            "     the scratch database was rebuilt from the up scripts so that the next migration starts clean"
        );
    }
}
