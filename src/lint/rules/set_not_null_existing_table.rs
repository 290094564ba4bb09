//! `set-not-null-existing-table`: `ALTER COLUMN … SET NOT NULL` on an
//! existing table scans it under an ACCESS EXCLUSIVE lock.

use super::Rule;
use crate::lint::ddl::column_alterations;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::AlterColumnOperation;

/// See the module header.
pub struct SetNotNullExistingTable;

impl Rule for SetNotNullExistingTable {
    fn id(&self) -> &'static str {
        "set-not-null-existing-table"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "SET NOT NULL on a table that existed before the migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column_ident, operation) in column_alterations(ast) {
            let column = crate::lint::names::ident(column_ident);
            if matches!(operation, AlterColumnOperation::SetNotNull)
                && !context.table_is_new(&table)
                && !context.schema.has_validated_not_null_check(&table, &column)
            {
                findings.push(context.finding_at(
                    self,
                    column_ident,
                    format!("SET NOT NULL on {table}.{column} scans the whole table while holding an ACCESS EXCLUSIVE lock (no reads or writes)"),
                    format!("first add `CHECK ({column} IS NOT NULL) NOT VALID` and VALIDATE it; PostgreSQL 12+ then sets NOT NULL without the scan"),
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
            "set-not-null-existing-table",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n"
                ),
                (
                    "0002_n.up.sql",
                    "ALTER TABLE t ALTER COLUMN x SET NOT NULL;\n"
                )
            ]
        ));
    }

    #[test]
    fn quiet_on_a_table_of_the_same_migration() {
        quiet("set-not-null-existing-table", &[("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, x int);\nALTER TABLE t ALTER COLUMN x SET NOT NULL;\n")]);
    }

    #[test]
    fn quiet_after_a_validated_not_null_check() {
        quiet(
            "set-not-null-existing-table",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n",
                ),
                (
                    "0002_c.up.sql",
                    "ALTER TABLE t ADD CONSTRAINT t_x_not_null CHECK (x IS NOT NULL) NOT VALID;\n",
                ),
                (
                    "0003_v.up.sql",
                    "ALTER TABLE t VALIDATE CONSTRAINT t_x_not_null;\n",
                ),
                (
                    "0004_n.up.sql",
                    "ALTER TABLE t ALTER COLUMN x SET NOT NULL;\n",
                ),
            ],
        );
    }

    #[test]
    fn fires_while_the_check_is_not_yet_validated() {
        let findings = crate::lint::rules::test_support::lint_files(&[
            ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n"),
            (
                "0002_c.up.sql",
                "ALTER TABLE t ADD CONSTRAINT t_x_not_null CHECK (x IS NOT NULL) NOT VALID;\nALTER TABLE t ALTER COLUMN x SET NOT NULL;\n",
            ),
        ]);
        assert!(findings
            .iter()
            .any(|f| f.rule == "set-not-null-existing-table"));
    }

    #[test]
    fn quiet_when_the_check_goes_with_a_renamed_column() {
        // The one schema model carries the check through the rename.
        quiet(
            "set-not-null-existing-table",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n",
                ),
                (
                    "0002_c.up.sql",
                    "ALTER TABLE t ADD CONSTRAINT t_x_not_null CHECK (x IS NOT NULL);\nALTER TABLE t RENAME COLUMN x TO y;\n",
                ),
                (
                    "0003_n.up.sql",
                    "ALTER TABLE t ALTER COLUMN y SET NOT NULL;\n",
                ),
            ],
        );
    }

    #[test]
    fn fires_once_the_check_is_dropped() {
        let findings = crate::lint::rules::test_support::lint_files(&[
            (
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n",
            ),
            (
                "0002_c.up.sql",
                "ALTER TABLE t ADD CONSTRAINT t_x_not_null CHECK (x IS NOT NULL);\n",
            ),
            (
                "0003_n.up.sql",
                "ALTER TABLE t DROP CONSTRAINT t_x_not_null;\nALTER TABLE t ALTER COLUMN x SET NOT NULL;\n",
            ),
        ]);
        assert!(findings
            .iter()
            .any(|f| f.rule == "set-not-null-existing-table"));
    }
}
