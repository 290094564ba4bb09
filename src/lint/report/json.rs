//! Findings as one JSON document.

use crate::lint::baseline::Applied;
use crate::lint::table_sizes::Annotated;
use crate::lint::{Finding, Severity};

/// `{"findings": [...], "errors": N, "warnings": N}`; with a baseline
/// `"baselined": N, "stale_baseline": [...]`; with table sizes
/// `"below_min_table_rows": N`.
pub fn render(
    findings: &[Finding],
    baseline: Option<&Applied>,
    sized: Option<&Annotated>,
) -> String {
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
    if let Some(sized) = sized {
        document["below_min_table_rows"] = sized.below_threshold.into();
    }
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
