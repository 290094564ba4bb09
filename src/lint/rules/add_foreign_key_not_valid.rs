//! `add-foreign-key-not-valid`: adding a foreign key or CHECK to an existing
//! table validates every row while holding a lock; `NOT VALID` followed by
//! `VALIDATE CONSTRAINT` does the scan without blocking writes, but only
//! when the two are in different transactions: a `VALIDATE` in the same
//! transaction as its `ADD … NOT VALID` scans while the `ADD`'s lock is
//! still held, which is also reported.

use super::Rule;
use crate::lint::ddl::{added_columns, alter_operations};
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{AlterTableOperation, ColumnOption, Spanned, TableConstraint};

/// See the module header.
pub struct AddForeignKeyNotValid;

impl Rule for AddForeignKeyNotValid {
    fn id(&self) -> &'static str {
        "add-foreign-key-not-valid"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a foreign key or CHECK added to an existing table without NOT VALID"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some((table, operations)) = context.ast.and_then(alter_operations) else {
            return;
        };
        if context.table_is_new(&table) {
            return;
        }
        if let Some(ast) = context.ast {
            for (_, column) in added_columns(ast) {
                let references = column
                    .options
                    .iter()
                    .find(|o| matches!(o.option, ColumnOption::ForeignKey(_)));
                if let Some(references) = references {
                    findings.push(context.finding_over(
                        self,
                        references.span(),
                        format!("adding a column with REFERENCES to {table} checks every row while holding a lock that blocks writes"),
                        "add the column without REFERENCES, then the foreign key with NOT VALID, then VALIDATE CONSTRAINT in a later migration",
                    ).on_table(&table));
                }
            }
        }
        for operation in operations {
            if let AlterTableOperation::ValidateConstraint { name } = operation {
                if added_earlier_in_its_transaction(context, &name.value) {
                    findings.push(context.finding_at(
                        self,
                        name,
                        format!("{name} is validated in the same transaction that added it NOT VALID: the scan runs while the ADD's lock on {table} is still held, so NOT VALID gains nothing"),
                        if context.script.execution() == crate::model::Execution::Transaction {
                            "move VALIDATE CONSTRAINT to a later migration (or this file to `-- schemactl:no-transaction`)"
                        } else {
                            "end the transaction between them (a COMMIT before the VALIDATE, and a new BEGIN), or move VALIDATE CONSTRAINT to a later migration"
                        },
                    ).on_table(&table));
                }
                continue;
            }
            let AlterTableOperation::AddConstraint {
                constraint,
                not_valid: false,
            } = operation
            else {
                continue;
            };
            let kind = match constraint {
                TableConstraint::ForeignKey(_) => "FOREIGN KEY",
                TableConstraint::Check(_) => "CHECK",
                _ => continue,
            };
            findings.push(context.finding_over(
                self,
                constraint.span(),
                format!("adding this {kind} checks every row of {table} while holding a lock that blocks writes"),
                "add it with NOT VALID, then `ALTER TABLE … VALIDATE CONSTRAINT …` in a later statement or migration",
            ).on_table(&table));
        }
    }
}

/// Whether an earlier statement of the same transaction adds the constraint.
fn added_earlier_in_its_transaction(context: &StatementContext, constraint: &str) -> bool {
    let before = context.earlier_in_its_transaction();
    crate::lint::find_tokens(before, &format!("ADD CONSTRAINT {constraint}")).is_some()
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const TABLES: (&str, &str) = ("0001_t.up.sql", "CREATE TABLE p (id bigint PRIMARY KEY);\nCREATE TABLE t (id bigint PRIMARY KEY, p_id bigint, n int);\nCREATE INDEX t_p_id ON t (p_id);\n");

    #[test]
    fn fires_on_validating_constraints_of_existing_tables() {
        insta::assert_snapshot!(fires(
            "add-foreign-key-not-valid",
            &[TABLES, ("0002_k.up.sql", "ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE;\nALTER TABLE t ADD CONSTRAINT t_n CHECK (n > 0);\n")]
        ));
    }

    #[test]
    fn quiet_with_not_valid_and_a_later_validate() {
        quiet(
            "add-foreign-key-not-valid",
            &[TABLES, ("0002_k.up.sql", "ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE NOT VALID;\n"), ("0003_v.up.sql", "ALTER TABLE t VALIDATE CONSTRAINT t_p;\n")],
        );
        quiet(
            "add-foreign-key-not-valid",
            &[TABLES, ("0002_k.up.sql", "-- schemactl:no-transaction\nALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT t_p;\n")],
        );
    }

    #[test]
    fn fires_on_validate_in_the_same_transaction_and_on_add_column_references() {
        let findings = crate::lint::rules::test_support::lint_files(&[
            TABLES,
            ("0002_k.up.sql", "ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT t_p;\nALTER TABLE t ADD COLUMN q_id bigint REFERENCES p (id) ON DELETE SET NULL;\n"),
        ]);
        let lines: Vec<usize> = findings
            .iter()
            .filter(|f| f.rule == "add-foreign-key-not-valid")
            .map(|f| f.position.line)
            .collect();
        assert_eq!(lines, [2, 3], "{findings:#?}");
    }
}
