//! `rename-table`: renaming an existing table breaks every client that still
//! uses the old name, from the moment the migration commits.

use super::Rule;
use crate::lint::ddl::alter_operations;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{AlterTableOperation, Spanned, Statement};

/// See the module header.
pub struct RenameTable;

impl Rule for RenameTable {
    fn id(&self) -> &'static str {
        "rename-table"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "RENAME TO on a table that existed before the migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some((table, operations)) = context.ast.and_then(alter_operations) else {
            return;
        };
        if !context.changes_existing_table(&table) {
            return;
        }
        if operations
            .iter()
            .any(|o| matches!(o, AlterTableOperation::RenameTable { .. }))
        {
            let message =
                format!("renaming table {table} breaks running code that uses the old name");
            let help = "rename it and leave a view with the old name for the transition (`CREATE VIEW old AS SELECT * FROM new`), or deploy code that uses the new name first";
            // At the name that stops working.
            let finding = match context.ast {
                Some(Statement::AlterTable(alter)) => {
                    context.finding_over(self, alter.name.span(), message, help)
                }
                _ => context.finding(self, Some("RENAME"), message, help),
            };
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_an_existing_table() {
        insta::assert_snapshot!(fires(
            "rename-table",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0002_r.up.sql", "ALTER TABLE t RENAME TO u;\n")
            ]
        ));
    }

    #[test]
    fn quiet_on_a_table_of_the_same_migration() {
        quiet(
            "rename-table",
            &[(
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY);\nALTER TABLE t RENAME TO u;\n",
            )],
        );
    }
}
