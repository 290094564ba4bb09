//! `drop-database`: `DROP DATABASE` in a migration deletes a whole database.

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{ObjectType, Statement};

/// See the module header.
pub struct DropDatabase;

impl Rule for DropDatabase {
    fn id(&self) -> &'static str {
        "drop-database"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "DROP DATABASE in a migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let dropping = matches!(
            context.ast,
            Some(Statement::Drop {
                object_type: ObjectType::Database,
                ..
            })
        ) || (context.ast.is_none()
            && context.statement.keyword == "DROP"
            && crate::lint::find_tokens(context.text(), "DROP DATABASE")
                .is_some_and(|(at, _)| at == 0));
        if dropping {
            findings.push(context.finding(
                self,
                Some("DROP DATABASE"),
                "DROP DATABASE deletes a whole database with every table in it, in any direction; no migration should".into(),
                "drop databases by hand, outside the migrations, after a backup",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_in_any_script() {
        insta::assert_snapshot!(fires(
            "drop-database",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0001_t.down.sql", "DROP DATABASE IF EXISTS analytics;\n")
            ]
        ));
    }

    #[test]
    fn quiet_on_other_drops() {
        quiet(
            "drop-database",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
            ],
        );
    }
}
