//! Findings as one JSON document.

use crate::lint::{Finding, Severity};

/// `{"findings": [...], "errors": N, "warnings": N}`.
pub fn render(findings: &[Finding]) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let document = serde_json::json!({
        "findings": findings,
        "errors": errors,
        "warnings": findings.len() - errors,
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
