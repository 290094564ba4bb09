//! `truncate`: `TRUNCATE` in an up migration deletes every row at once.

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};
use crate::model::Direction;
use sqlparser::ast::Spanned;

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
        let help = "delete only what must go (DELETE … WHERE …, in batches), or say why with `-- schemactl:ignore truncate <reason>`";
        let Some(sqlparser::ast::Statement::Truncate(truncate)) = context.ast else {
            findings.push(context.finding(
                self,
                Some("TRUNCATE"),
                "TRUNCATE deletes every row of the table, cannot be undone by a down migration, and takes an ACCESS EXCLUSIVE lock".into(),
                help,
            ));
            return;
        };
        // One finding per table, at its name.
        for target in &truncate.table_names {
            let table = crate::lint::names::object(&target.name);
            findings.push(context.finding_over(
                self,
                target.name.span(),
                format!("TRUNCATE deletes every row of {table}, cannot be undone by a down migration, and takes an ACCESS EXCLUSIVE lock"),
                help,
            ));
        }
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

    #[test]
    fn each_table_is_its_own_finding_at_its_name() {
        let findings = crate::lint::rules::test_support::lint_files(&[
            ("0001_t.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE TABLE b (id bigint PRIMARY KEY);\n"),
            ("0002_d.up.sql", "TRUNCATE a,\n  b;\n"),
        ]);
        let at: Vec<(usize, usize, bool)> = findings
            .iter()
            .filter(|f| f.rule == "truncate")
            .map(|f| {
                (
                    f.position.line,
                    f.position.column,
                    f.message.contains("every row of"),
                )
            })
            .collect();
        assert_eq!(at, [(1, 10, true), (2, 3, true)]);
    }
}
