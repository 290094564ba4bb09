//! `add-foreign-key-not-valid`: adding a foreign key or CHECK to an existing
//! table validates every row while holding a lock; `NOT VALID` followed by
//! `VALIDATE CONSTRAINT` does the scan without blocking writes.

use super::Rule;
use crate::lint::ddl::alter_operations;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{AlterTableOperation, TableConstraint};

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
        for operation in operations {
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
            findings.push(context.finding(
                self,
                Some(kind),
                format!("adding this {kind} checks every row of {table} while holding a lock that blocks writes"),
                "add it with NOT VALID, then `ALTER TABLE … VALIDATE CONSTRAINT …` in a later statement or migration",
            ));
        }
    }
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
    fn quiet_with_not_valid() {
        quiet(
            "add-foreign-key-not-valid",
            &[TABLES, ("0002_k.up.sql", "ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT t_p;\n")],
        );
    }
}
