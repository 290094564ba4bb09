//! `missing-semicolon`: a statement that runs into the next one because the
//! `;` between them is missing. PostgreSQL rejects the pair (`syntax error at
//! or near "CREATE"`), so the migration will not run as written. Found where
//! the parser, expecting the end of a statement, meets a keyword that starts
//! one at the beginning of a line. The findings come from the linter's
//! driver (in place of `unparseable-statement`); this file declares the rule
//! and recognises the case.

use super::Rule;
use crate::lint::Severity;
use crate::model::text_position::TextPosition;

/// The rule id, used by the driver.
pub const ID: &str = "missing-semicolon";

/// See the module header.
pub struct MissingSemicolon;

impl Rule for MissingSemicolon {
    fn id(&self) -> &'static str {
        ID
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "two statements without a `;` between them: PostgreSQL rejects the migration"
    }
    fn rejected_by_postgres(&self) -> bool {
        true
    }
}

/// Words that start a statement, as they begin a line after one that lacks
/// its `;`.
const STATEMENT_STARTS: &[&str] = &[
    "ALTER", "ANALYZE", "CALL", "CLUSTER", "COMMENT", "COPY", "CREATE", "DELETE", "DO", "DROP",
    "GRANT", "INSERT", "LOCK", "REFRESH", "REINDEX", "REVOKE", "SELECT", "SET", "TRUNCATE",
    "UPDATE", "VACUUM",
];

/// Whether the parser's `reason` for failing at `position` of the script
/// `sql` is a missing `;`: it expected the end of the statement and found a
/// statement's first word at the beginning of a line.
pub fn is_missing(reason: &str, sql: &str, position: TextPosition) -> bool {
    let Some(found) = reason
        .split_once("Expected: end of statement, found: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(str::to_ascii_uppercase)
    else {
        return false;
    };
    if !STATEMENT_STARTS.contains(&found.as_str()) {
        return false;
    }
    // The word must open its line (leading blanks allowed): `SELECT` in the
    // middle of a line is more likely a typo than a missing `;`.
    sql.lines()
        .nth(position.line.saturating_sub(1))
        .is_some_and(|line| line.trim_start().to_ascii_uppercase().starts_with(&found))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn a_statement_running_into_the_next_will_not_run() {
        insta::assert_snapshot!(fires(
            "missing-semicolon",
            &[(
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY)\nCREATE TABLE u (id bigint PRIMARY KEY);\n",
            )]
        ));
    }

    #[test]
    fn other_parse_failures_are_not_called_a_missing_semicolon() {
        quiet(
            "missing-semicolon",
            &[(
                "0001_t.up.sql",
                "CREATE TABLE v (a int,, b int);\nCREATE TABLE t (id bigint PRIMARY KEY);\n",
            )],
        );
    }
}
