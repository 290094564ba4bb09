//! Findings as one JSON document.

use crate::lint::baseline::{Applied, Entry};
use crate::lint::table_sizes::Annotated;
use crate::lint::{Finding, Severity};

/// `lint --format json`: one document per run.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct LintDocument {
    /// Every finding not hidden by the baseline, by file and position.
    pub findings: Vec<Finding>,
    /// How many findings are errors.
    pub errors: usize,
    /// How many findings are warnings.
    pub warnings: usize,
    /// With a baseline: how many findings it hid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baselined: Option<usize>,
    /// With a baseline: its entries that match fewer findings than they record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_baseline: Option<Vec<Entry>>,
    /// With table sizes: findings dropped because their table is small.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub below_min_table_rows: Option<usize>,
}

/// The document as pretty JSON.
pub fn render(
    findings: &[Finding],
    baseline: Option<&Applied>,
    sized: Option<&Annotated>,
) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let document = LintDocument {
        findings: findings.to_vec(),
        errors,
        warnings: findings.len() - errors,
        baselined: baseline.map(|applied| applied.baselined),
        stale_baseline: baseline.map(|applied| applied.stale.clone()),
        below_min_table_rows: sized.map(|sized| sized.below_threshold),
    };
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
