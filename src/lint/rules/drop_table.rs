//! `drop-table`: dropping a table in an up migration deletes its data for
//! good, and running code that still reads it fails. (Expected in a down.)

use super::Rule;
use crate::lint::names::object;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{ObjectType, Statement};

/// See the module header.
pub struct DropTable;

impl Rule for DropTable {
    fn id(&self) -> &'static str {
        "drop-table"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "DROP TABLE in an up migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        }) = context.ast
        else {
            return;
        };
        for (name, table) in names
            .iter()
            .map(|name| (name, object(name)))
            .filter(|(_, t)| context.changes_existing_table(t))
        {
            let message = format!(
                "dropping table {table} deletes its data and breaks code that still uses it"
            );
            let help = "stop using the table first, keep a backup, and say why with `-- schemactl:ignore drop-table <reason>`";
            // At the table's name (each of `DROP TABLE a, b` at its own).
            let finding = match name.0.last().and_then(|part| part.as_ident()) {
                Some(ident) => context.finding_at(self, ident, message, help),
                None => context.finding(self, Some("DROP"), message, help),
            };
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_in_an_up_migration() {
        insta::assert_snapshot!(fires(
            "drop-table",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0002_d.up.sql", "DROP TABLE t;\n")
            ]
        ));
    }

    #[test]
    fn quiet_in_a_down_migration_or_when_ignored_with_a_reason() {
        quiet(
            "drop-table",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
            ],
        );
        quiet(
            "drop-table",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                (
                    "0002_d.up.sql",
                    "-- schemactl:ignore drop-table replaced by t2 in release 41\nDROP TABLE t;\n",
                ),
            ],
        );
    }
}
