//! The lint rule index (`docs/lint/rules.md`): every rule with its default
//! severity and summary, linking to its page.

use super::markdown::{cell, sentence};
use super::GENERATED;

/// The page.
pub fn page() -> String {
    let mut out = format!(
        "{GENERATED}\n\n# Rules\n\n\
         Every rule, its default severity (change it in `[lint.rules]`) and what it\n\
         catches; each page has what the rule is for, Bad and Good examples (the tests\n\
         lint them) and the Squawk rule it replaces.\n\n\
         Design rules (`fk-missing-on-delete`, `timestamp-without-time-zone`,\n\
         `prefer-bigint-or-identity-key`, `char-type`) judge up scripts only: a down\n\
         script restores the shape its up changed, which was judged when it was\n\
         written. Rules about what running a statement does (locks, rewrites, data\n\
         loss) judge both. The `schema-…` rules read MongoDB validator files.\n\n\
         | rule | default | catches |\n|---|---|---|\n"
    );
    for rule in schemactl::lint::Linter::rules() {
        out.push_str(&format!(
            "| [`{id}`](rules/{id}.md) | {severity} | {summary} |\n",
            id = rule.id,
            severity = rule.default_severity.as_str(),
            summary = sentence(&cell(rule.summary)),
        ));
    }
    out
}
