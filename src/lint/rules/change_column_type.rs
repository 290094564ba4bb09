//! `change-column-type`: changing a column's type on an existing table
//! usually rewrites the table and its indexes under an ACCESS EXCLUSIVE
//! lock, and breaks clients that read the old type.

use super::Rule;
use crate::lint::ddl::column_alterations;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::AlterColumnOperation;

/// See the module header.
pub struct ChangeColumnType;

impl Rule for ChangeColumnType {
    fn id(&self) -> &'static str {
        "change-column-type"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "ALTER COLUMN … TYPE on a table that existed before the migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column_ident, operation) in column_alterations(ast) {
            let column = crate::lint::names::ident(column_ident);
            if matches!(operation, AlterColumnOperation::SetDataType { .. })
                && !context.table_is_new(&table)
            {
                findings.push(context.finding_at(
                    self,
                    column_ident,
                    format!("changing the type of {table}.{column} can rewrite the table and its indexes while no one can read or write it"),
                    "add a new column, backfill it in batches, switch readers, then drop the old column (varchar(n) -> text and widening varchar are exceptions that do not rewrite)",
                ).on_table(&table));
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
            "change-column-type",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n"
                ),
                (
                    "0002_c.up.sql",
                    "ALTER TABLE t ALTER COLUMN x TYPE bigint;\n"
                )
            ]
        ));
    }

    #[test]
    fn quiet_on_a_table_of_the_same_migration() {
        quiet("change-column-type", &[("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, x int);\nALTER TABLE t ALTER COLUMN x TYPE bigint;\n")]);
    }
}
