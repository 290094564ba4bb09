//! The `diff` report: drift between two schemas.

use schemactl::catalog::DataClass;
use schemactl::verify::DiffReport;
use std::fmt::Write;

/// The `diff` report.
pub fn diff(report: &DiffReport, colour: bool) -> String {
    let mut out = String::new();
    if report.differences.is_empty() && report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "No drift: {} matches {}.",
            report.actual, report.expected
        );
        return out;
    }
    if report.differences.is_empty() {
        let _ = writeln!(
            out,
            "No drift besides the warnings below: {} matches {}.",
            report.actual, report.expected
        );
    } else {
        let _ = writeln!(
            out,
            "Drift: {} differs from {}:",
            report.actual, report.expected
        );
    }
    let _ = writeln!(out, "{}", list(&report.differences));
    for warning in &report.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    for note in &report.formatting {
        let _ = writeln!(out, "  note: {note} (not drift)");
    }
    out.push_str(&diff_text(&report.diff, colour));
    out
}

pub(super) fn data_class(class: DataClass) -> &'static str {
    match class {
        DataClass::Reversible => "reversible",
        DataClass::Lossy => "lossy",
        DataClass::Irreversible => "irreversible",
    }
}

pub(super) fn list(differences: &[schemactl::catalog::Difference]) -> String {
    differences
        .iter()
        .map(|d| format!("  - {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn diff_text(diff: &str, colour: bool) -> String {
    if colour {
        colour_diff(diff)
    } else {
        diff.to_string()
    }
}

/// Colours a unified diff for a terminal.
fn colour_diff(diff: &str) -> String {
    diff.lines()
        .map(|line| match line.chars().next() {
            Some('+') if !line.starts_with("+++") => format!("\x1b[32m{line}\x1b[0m"),
            Some('-') if !line.starts_with("---") => format!("\x1b[31m{line}\x1b[0m"),
            Some('@') => format!("\x1b[36m{line}\x1b[0m"),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
