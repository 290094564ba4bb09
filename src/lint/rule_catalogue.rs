//! The rules as data, for programs that list them (the book's rule index,
//! editors): id, default severity and one-line summary, in the documented
//! order.

use super::rules::RULES;
use super::Severity;

/// One lint rule, described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDescription {
    /// The id used in `schemactl.toml`, ignores and reports.
    pub id: &'static str,
    /// The severity when `schemactl.toml` does not set one.
    pub default_severity: Severity,
    /// What the rule catches, in one sentence.
    pub summary: &'static str,
}

impl RuleDescription {
    /// Where each rule's page of the book is published; `{rule}` stands
    /// for the rule id (SARIF's `helpUri`, the HTML report's links).
    pub const PAGE_URL: &'static str =
        "https://github.com/schemactl/schemactl/blob/main/docs/lint/rules/{rule}.md";
}

impl super::Linter {
    /// Every rule, in the order the documentation lists them.
    pub fn rules() -> Vec<RuleDescription> {
        RULES
            .iter()
            .map(|rule| RuleDescription {
                id: rule.id(),
                default_severity: rule.default_severity(),
                summary: rule.summary(),
            })
            .collect()
    }
}
