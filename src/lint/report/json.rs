//! Findings as one JSON document.

use crate::lint::baseline::Applied;
use crate::lint::{Finding, Severity};

/// `{"findings": [...], "errors": N, "warnings": N}`, and with a baseline
/// `"baselined": N, "stale_baseline": [...]`.
pub fn render(findings: &[Finding], baseline: Option<&Applied>) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let mut document = serde_json::json!({
        "findings": findings,
        "errors": errors,
        "warnings": findings.len() - errors,
    });
    if let Some(applied) = baseline {
        document["baselined"] = applied.baselined.into();
        document["stale_baseline"] = serde_json::to_value(&applied.stale).unwrap_or_default();
    }
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
