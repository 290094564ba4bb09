//! `add-column-not-null-without-default`: adding a `NOT NULL` column with no
//! default to an existing table fails as soon as the table has a row.

use super::Rule;
use crate::lint::ddl::{added_columns, has_option};
use crate::lint::names::ident;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::ColumnOption;

/// See the module header.
pub struct AddColumnNotNullWithoutDefault;

impl Rule for AddColumnNotNullWithoutDefault {
    fn id(&self) -> &'static str {
        "add-column-not-null-without-default"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "ADD COLUMN … NOT NULL without a DEFAULT on an existing table"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column) in added_columns(ast) {
            let not_null = has_option(column, |o| {
                matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_))
            });
            let filled = has_option(column, |o| {
                matches!(
                    o,
                    ColumnOption::Default(_)
                        | ColumnOption::Identity(_)
                        | ColumnOption::Generated { .. }
                )
            });
            // A serial column's default is its sequence (a primary key
            // added that way is `add-serial-primary-key`'s concern).
            let filled = filled || crate::lint::ddl::is_serial(&column.data_type);
            if !not_null || filled || context.table_is_new(&table) {
                continue;
            }
            findings.push(context.finding_at(
                    self,
                    &column.name,
                format!("column {table}.{} is NOT NULL without a default: the statement fails on a table that has rows", ident(&column.name)),
                "add a DEFAULT (constant defaults do not rewrite the table), or add the column nullable, backfill it, then SET NOT NULL",
            ).on_table(&table));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const TABLE: (&str, &str) = ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n");

    #[test]
    fn fires_on_an_existing_table() {
        insta::assert_snapshot!(fires(
            "add-column-not-null-without-default",
            &[
                TABLE,
                (
                    "0002_c.up.sql",
                    "ALTER TABLE t ADD COLUMN status text NOT NULL;\n"
                )
            ]
        ));
    }

    #[test]
    fn quiet_with_a_default_or_on_a_new_table() {
        quiet(
            "add-column-not-null-without-default",
            &[
                TABLE,
                ("0002_c.up.sql", "ALTER TABLE t ADD COLUMN status text NOT NULL DEFAULT 'new';\nCREATE TABLE u (id bigint PRIMARY KEY);\nALTER TABLE u ADD COLUMN v int NOT NULL;\n"),
            ],
        );
    }
}
