//! Findings as SARIF 2.1.0, for code-scanning upload
//! (`github/codeql-action/upload-sarif`).

use crate::lint::rules::RULES;
use crate::lint::{Finding, Severity};

/// The SARIF log.
pub fn render(findings: &[Finding]) -> String {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|rule| {
            serde_json::json!({
                "id": rule.id(),
                "name": rule.id(),
                "shortDescription": { "text": rule.summary() },
                "help": {
                    "text": format!("{} (schemactl lint rule `{}`; each result's `properties.help` says what to write instead)", rule.summary(), rule.id()),
                },
                "helpUri": crate::lint::RuleDescription::PAGE_URL.replace("{rule}", rule.id()),
                "defaultConfiguration": { "level": level(rule.default_severity()) },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": f.rule,
                "partialFingerprints": { "schemactl/v1": f.fingerprint },
                "ruleIndex": RULES.iter().position(|r| r.id() == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": {
                    "text": f.message,
                    "markdown": format!("{}\n\n**Help:** {}", f.message, f.help),
                },
                "properties": { "help": f.help },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.path.display().to_string().replace('\\', "/") },
                        "region": {
                            "startLine": f.position.line,
                            "startColumn": f.position.column,
                            "endColumn": f.position.column + f.length.max(1),
                        }
                    }
                }]
            })
        })
        .collect();
    let log = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "schemactl",
                "version": crate::VERSION,
                "informationUri": "https://github.com/schemactl/schemactl",
                "rules": rules,
            }},
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
