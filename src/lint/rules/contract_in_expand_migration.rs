//! `contract-in-expand-migration`: a migration marked `-- schemactl:phase
//! expand` (or `compatible-with-previous`) promises that the previous
//! release of the application keeps working with it — which is what lets
//! that release run against the database after an application rollback.
//! Dropping, renaming, retyping or making NOT NULL what the previous
//! release uses breaks that promise: those belong in a `contract`
//! migration, deployed once the previous release is gone.

use super::Rule;
use crate::lint::ddl::{alter_operations, column_alterations};
use crate::lint::names::object;
use crate::lint::{RawFinding, Severity, StatementContext};
use crate::model::phase::Phase;
use crate::model::Direction;
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, ObjectType, Statement};

/// See the module header.
pub struct ContractInExpandMigration;

/// The recipe every finding points at.
const RECIPE: &str = "expand adds (a new column or table, written by the new code as well as the old one), a backfill \
     copies, and a later `-- schemactl:phase contract` migration drops, renames or tightens once the previous \
     release is gone; move this statement to that contract migration";

impl Rule for ContractInExpandMigration {
    fn id(&self) -> &'static str {
        "contract-in-expand-migration"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "A statement that breaks the previous release in a migration marked `phase expand`"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        if context.direction != Direction::Up
            || context.script.directives.phase != Some(Phase::Expand)
        {
            return;
        }
        let Some(ast) = context.ast else { return };
        for (table, what) in breaking_changes(ast) {
            if !context.changes_existing_table(&table) {
                continue;
            }
            findings.push(
                context
                    .finding(
                        self,
                        None,
                        format!(
                            "{what} of {table} breaks the previous release of the application, which this migration \
                             is marked compatible with (phase expand)"
                        ),
                        RECIPE,
                    )
                    .on_table(&table),
            );
        }
    }
}

/// What `statement` does that running code of the previous release cannot
/// survive, by table: `(table, "dropping column c")`.
fn breaking_changes(statement: &Statement) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match statement {
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => out.extend(
            names
                .iter()
                .map(|n| (object(n), "dropping the table".to_string())),
        ),
        Statement::Truncate(truncate) => out.extend(
            truncate
                .table_names
                .iter()
                .map(|t| (object(&t.name), "emptying the table".to_string())),
        ),
        _ => {}
    }
    if let Some((table, operations)) = alter_operations(statement) {
        for operation in operations {
            let what = match operation {
                AlterTableOperation::DropColumn { column_names, .. } => format!(
                    "dropping column {}",
                    column_names
                        .iter()
                        .map(crate::lint::names::ident)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                AlterTableOperation::RenameColumn {
                    old_column_name, ..
                } => format!(
                    "renaming column {}",
                    crate::lint::names::ident(old_column_name)
                ),
                AlterTableOperation::RenameTable { .. } => "renaming the table".to_string(),
                _ => continue,
            };
            out.push((table.clone(), what));
        }
    }
    for (table, column, operation) in column_alterations(statement) {
        let column = crate::lint::names::ident(column);
        let what = match operation {
            AlterColumnOperation::SetNotNull => format!("making column {column} NOT NULL"),
            AlterColumnOperation::SetDataType { .. } => {
                format!("changing the type of column {column}")
            }
            _ => continue,
        };
        out.push((table, what));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::lint_files;

    fn ids(files: &[(&str, &str)]) -> Vec<String> {
        lint_files(files)
            .into_iter()
            .filter(|f| f.rule == "contract-in-expand-migration")
            .map(|f| f.message)
            .collect()
    }

    const TABLE: (&str, &str) = (
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, a int, b text);\n",
    );

    #[test]
    fn breaking_statements_in_an_expand_migration_are_errors() {
        let found = ids(&[
            TABLE,
            (
                "0002_e.up.sql",
                "-- schemactl:phase expand\nALTER TABLE t ADD COLUMN c int;\nALTER TABLE t DROP COLUMN a;\n\
                 ALTER TABLE t RENAME COLUMN b TO bb;\nALTER TABLE t ALTER COLUMN c SET NOT NULL;\n",
            ),
        ]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("dropping column a of t"), "{found:?}");
        assert!(found[1].contains("renaming column b"), "{found:?}");
        assert!(found[2].contains("making column c NOT NULL"), "{found:?}");
    }

    #[test]
    fn additions_contract_migrations_and_new_tables_are_fine() {
        assert!(ids(&[
            TABLE,
            (
                "0002_e.up.sql",
                "-- schemactl:compatible-with-previous\nALTER TABLE t ADD COLUMN c int;\n\
                 CREATE TABLE n (id int);\nALTER TABLE n RENAME COLUMN id TO nid;\n",
            ),
        ])
        .is_empty());
        assert!(ids(&[
            TABLE,
            (
                "0002_c.up.sql",
                "-- schemactl:phase contract\nALTER TABLE t DROP COLUMN a;\n"
            ),
        ])
        .is_empty());
        assert!(ids(&[TABLE, ("0002_u.up.sql", "ALTER TABLE t DROP COLUMN a;\n")]).is_empty());
    }
}
