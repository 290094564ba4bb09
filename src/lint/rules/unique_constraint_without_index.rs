//! `unique-constraint-without-index`: adding a UNIQUE or PRIMARY KEY
//! constraint (or a column declared `UNIQUE`/`PRIMARY KEY`) to an existing
//! table builds its index under an ACCESS EXCLUSIVE lock. Building the index
//! `CONCURRENTLY` first and adding the constraint `USING INDEX` takes the
//! lock only for a catalog change.

use super::Rule;
use crate::lint::ddl::{added_columns, alter_operations, has_option};
use crate::lint::names::ident;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{AlterTableOperation, ColumnOption, TableConstraint};

/// See the module header.
pub struct UniqueConstraintWithoutIndex;

impl Rule for UniqueConstraintWithoutIndex {
    fn id(&self) -> &'static str {
        "unique-constraint-without-index"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a UNIQUE or PRIMARY KEY added to an existing table without USING INDEX"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        let Some((table, operations)) = alter_operations(ast) else {
            return;
        };
        if context.table_is_new(&table) {
            return;
        }
        for operation in operations {
            if let AlterTableOperation::AddConstraint { constraint, .. } = operation {
                let kind = match constraint {
                    TableConstraint::Unique(_) => "UNIQUE",
                    TableConstraint::PrimaryKey(_) => "PRIMARY KEY",
                    _ => continue,
                };
                findings.push(context.finding(
                    self,
                    Some(kind),
                    format!("adding this {kind} builds its index on {table} under an ACCESS EXCLUSIVE lock: no reads or writes until the build ends"),
                    format!("`CREATE UNIQUE INDEX CONCURRENTLY …` in a `-- schemactl:no-transaction` migration, then `ALTER TABLE {table} ADD CONSTRAINT … {kind} USING INDEX …`"),
                ).on_table(&table));
            }
        }
        for (_, column) in added_columns(ast) {
            if has_option(column, |o| {
                matches!(o, ColumnOption::Unique(_) | ColumnOption::PrimaryKey(_))
            }) {
                findings.push(context.finding_at(
                    self,
                    &column.name,
                    format!("adding {table}.{} as UNIQUE/PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock", ident(&column.name)),
                    "add the column plainly, build the unique index CONCURRENTLY, then ADD CONSTRAINT … USING INDEX",
                ).on_table(&table));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const TABLE: (&str, &str) = (
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, email text);\n",
    );

    #[test]
    fn fires_on_an_existing_table() {
        insta::assert_snapshot!(fires(
            "unique-constraint-without-index",
            &[
                TABLE,
                ("0002_u.up.sql", "ALTER TABLE t ADD CONSTRAINT t_email UNIQUE (email);\nALTER TABLE t ADD COLUMN code text UNIQUE;\n")
            ]
        ));
    }

    #[test]
    fn quiet_with_using_index_and_on_new_tables() {
        quiet(
            "unique-constraint-without-index",
            &[
                TABLE,
                ("0002_i.up.sql", "-- schemactl:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_email_idx ON t (email);\n"),
                ("0003_u.up.sql", "ALTER TABLE t ADD CONSTRAINT t_email UNIQUE USING INDEX t_email_idx;\nCREATE TABLE u (id bigint, code text);\nALTER TABLE u ADD PRIMARY KEY (id);\nALTER TABLE u ADD CONSTRAINT u_code UNIQUE (code);\n"),
            ],
        );
    }
}
