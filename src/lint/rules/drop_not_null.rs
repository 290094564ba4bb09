//! `drop-not-null`: `DROP NOT NULL` on a column of an existing table lets
//! NULLs in that running code, written when the column could not hold one,
//! does not expect.

use super::Rule;
use crate::lint::ddl::column_alterations;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::AlterColumnOperation;

/// See the module header.
pub struct DropNotNull;

impl Rule for DropNotNull {
    fn id(&self) -> &'static str {
        "drop-not-null"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "DROP NOT NULL on a column of an existing table"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column_ident, operation) in column_alterations(ast) {
            let column = crate::lint::names::ident(column_ident);
            if matches!(operation, AlterColumnOperation::DropNotNull)
                && context.changes_existing_table(&table)
            {
                findings.push(context.finding_at(
                    self,
                    column_ident,
                    format!("{table}.{column} may hold NULL from now on: code written when it could not (readers that map it to a non-optional value, sums, joins) breaks on the first NULL"),
                    "deploy code that handles NULL first, then say so with `-- schemactl:ignore drop-not-null <reason>`",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const TABLE: (&str, &str) = (
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL);\n",
    );

    #[test]
    fn fires_on_an_existing_table() {
        insta::assert_snapshot!(fires(
            "drop-not-null",
            &[
                TABLE,
                (
                    "0002_n.up.sql",
                    "ALTER TABLE t ALTER COLUMN n DROP NOT NULL;\n"
                )
            ]
        ));
    }

    #[test]
    fn quiet_in_a_down_script_and_on_new_tables() {
        quiet(
            "drop-not-null",
            &[
                TABLE,
                ("0002_n.up.sql", "ALTER TABLE t ALTER COLUMN n SET NOT NULL;\nCREATE TABLE u (id bigint PRIMARY KEY, m int NOT NULL);\nALTER TABLE u ALTER COLUMN m DROP NOT NULL;\n"),
                ("0002_n.down.sql", "DROP TABLE u;\nALTER TABLE t ALTER COLUMN n DROP NOT NULL;\n"),
            ],
        );
    }
}
