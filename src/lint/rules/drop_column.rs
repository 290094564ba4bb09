//! `drop-column`: dropping a column in an up migration deletes its data, and
//! running code that still selects it fails. (Expected in a down.)

use super::Rule;
use crate::lint::ddl::alter_operations;
use crate::lint::names::ident;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::AlterTableOperation;

/// See the module header.
pub struct DropColumn;

impl Rule for DropColumn {
    fn id(&self) -> &'static str {
        "drop-column"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "DROP COLUMN in an up migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some((table, operations)) = context.ast.and_then(alter_operations) else {
            return;
        };
        if !context.changes_existing_table(&table) {
            return;
        }
        for operation in operations {
            if let AlterTableOperation::DropColumn { column_names, .. } = operation {
                let Some(first) = column_names.first() else {
                    continue;
                };
                let columns: Vec<String> = column_names.iter().map(ident).collect();
                findings.push(context.finding_at(
                    self,
                    first,
                    format!("dropping {table}.{} deletes its data and breaks code that still selects it", columns.join(", ")),
                    "deploy code that no longer uses the column first, then drop it with `-- schemactl:ignore drop-column <reason>`",
                ).on_table(&table));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_in_an_up_migration() {
        insta::assert_snapshot!(fires(
            "drop-column",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n"
                ),
                ("0002_d.up.sql", "ALTER TABLE t DROP COLUMN x;\n")
            ]
        ));
    }

    #[test]
    fn each_finding_points_at_its_own_column() {
        // One statement dropping several columns: one caret per column, not
        // every finding at the first DROP.
        let findings = crate::lint::rules::test_support::lint_files(&[
            (
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int, c int);\n",
            ),
            (
                "0002_d.up.sql",
                "ALTER TABLE t\n  DROP COLUMN a,\n  DROP COLUMN b,\n  DROP COLUMN IF EXISTS c;\n",
            ),
        ]);
        let places: Vec<(usize, usize)> = findings
            .iter()
            .filter(|f| f.rule == "drop-column")
            .map(|f| (f.position.line, f.position.column))
            .collect();
        assert_eq!(places, [(2, 15), (3, 15), (4, 25)], "{findings:#?}");
    }

    #[test]
    fn quiet_in_a_down_migration() {
        quiet(
            "drop-column",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0002_c.up.sql", "ALTER TABLE t ADD COLUMN x int;\n"),
                ("0002_c.down.sql", "ALTER TABLE t DROP COLUMN x;\n"),
            ],
        );
    }
}
