//! `rename-column`: renaming a column of an existing table breaks every
//! client that still uses the old name, from the moment the migration commits.

use super::Rule;
use crate::lint::ddl::alter_operations;
use crate::lint::names::ident;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::AlterTableOperation;

/// See the module header.
pub struct RenameColumn;

impl Rule for RenameColumn {
    fn id(&self) -> &'static str {
        "rename-column"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "RENAME COLUMN on a table that existed before the migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some((table, operations)) = context.ast.and_then(alter_operations) else {
            return;
        };
        if !context.changes_existing_table(&table) {
            return;
        }
        for operation in operations {
            if let AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } = operation
            {
                findings.push(context.finding_at(
                    self,
                    old_column_name,
                    format!("renaming {table}.{} to {} breaks running code that uses the old name", ident(old_column_name), ident(new_column_name)),
                    "add the new column, write to both, move readers, then drop the old one; or deploy code that reads both names first",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_an_existing_table() {
        insta::assert_snapshot!(fires(
            "rename-column",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n"
                ),
                ("0002_r.up.sql", "ALTER TABLE t RENAME COLUMN x TO y;\n")
            ]
        ));
    }

    #[test]
    fn quiet_in_a_down_script() {
        quiet(
            "rename-column",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n",
                ),
                ("0002_r.up.sql", "ALTER TABLE t ADD COLUMN y int;\n"),
                (
                    "0002_r.down.sql",
                    "ALTER TABLE t RENAME COLUMN y TO z;\nALTER TABLE t DROP COLUMN z;\n",
                ),
            ],
        );
    }
}
