//! The verdict of `validate`.

use super::status::invalid_indexes;
use schemactl::runner::State;
use schemactl::runner::Validation;
use std::fmt::Write;

/// The verdict of `validate`.
pub fn validate(validation: &Validation, fail_on_pending: bool) -> String {
    let (report, ok) = (&validation.report, validation.ok);
    let mut out = String::new();
    let pending = report.pending();
    for problem in &report.problems {
        let _ = writeln!(out, "- {}", problem.to_string().replace('\n', "\n  "));
    }
    out.push_str(&invalid_indexes(&report.invalid_indexes, "- "));
    if fail_on_pending && !pending.is_empty() {
        let _ = writeln!(
            out,
            "- pending migrations (run `schemactl migrate`): {}",
            pending.join(", ")
        );
    }
    for row in &report.migrations {
        if let Some(recorded) = &row.recorded_name {
            let _ = writeln!(
                out,
                "note: {} is recorded as `{recorded}`; its file is now named `{}` (same version{}): the history keeps the old name",
                row.version_text,
                row.name,
                if row.state == State::Modified { "" } else { ", same content" }
            );
        }
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
    out
}
