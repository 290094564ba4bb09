//! `truncate`: `TRUNCATE` in an up migration deletes every row at once.

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};
use crate::model::Direction;

/// See the module header.
pub struct Truncate;

impl Rule for Truncate {
    fn id(&self) -> &'static str {
        "truncate"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "TRUNCATE in an up migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        if context.direction == Direction::Down || context.statement.keyword != "TRUNCATE" {
            return;
        }
        findings.push(context.finding(
            self,
            Some("TRUNCATE"),
            "TRUNCATE deletes every row of the table, cannot be undone by a down migration, and takes an ACCESS EXCLUSIVE lock".into(),
            "delete only what must go (DELETE … WHERE …, in batches), or say why with `-- schemactl:ignore truncate <reason>`",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_in_an_up_migration() {
        insta::assert_snapshot!(fires(
            "truncate",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0002_d.up.sql", "TRUNCATE t;\n")
            ]
        ));
    }

    #[test]
    fn quiet_in_a_down_migration() {
        quiet(
            "truncate",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0001_t.down.sql", "TRUNCATE t;\nDROP TABLE t;\n"),
            ],
        );
    }
}
