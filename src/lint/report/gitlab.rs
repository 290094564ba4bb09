//! Findings as a GitLab Code Quality report (`artifacts: reports:
//! codequality:`), which GitLab shows in the merge request's widget and
//! diff: a JSON array of issues with a description, check name,
//! fingerprint, severity and location (path and line).

use crate::lint::{Finding, Severity};

/// The Code Quality report.
pub fn render(findings: &[Finding]) -> String {
    let issues: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "type": "issue",
                "description": format!("{} (help: {})", f.message, f.help),
                "check_name": f.rule,
                "fingerprint": f.fingerprint,
                "severity": match f.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                },
                "categories": ["Bug Risk"],
                "location": {
                    "path": f.path.display().to_string().replace('\\', "/"),
                    "lines": { "begin": f.position.line },
                },
            })
        })
        .collect();
    serde_json::to_string_pretty(&issues).unwrap_or_default()
}
