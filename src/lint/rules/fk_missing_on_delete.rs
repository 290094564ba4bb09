//! `fk-missing-on-delete`: a foreign key must say what happens to its rows
//! when the referenced row is deleted.

use super::Rule;
use crate::lint::ddl::foreign_keys;
use crate::lint::{RawFinding, Severity, StatementContext};

/// See the module header.
pub struct FkMissingOnDelete;

impl Rule for FkMissingOnDelete {
    fn id(&self) -> &'static str {
        "fk-missing-on-delete"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn judges_design(&self) -> bool {
        true
    }
    fn summary(&self) -> &'static str {
        "a foreign key without an explicit ON DELETE action"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for fk in foreign_keys(ast)
            .iter()
            .filter(|fk| fk.on_delete().is_none())
        {
            findings.push(context.finding_over(
                self,
                fk.span,
                format!(
                    "foreign key {}({}) has no ON DELETE action: deleting a referenced row fails (NO ACTION), which is rarely what was decided",
                    fk.table,
                    fk.columns.join(", ")
                ),
                "write the decision down: ON DELETE CASCADE for owned children, RESTRICT for records that must outlive deletes, SET NULL, or NO ACTION",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_column_and_table_foreign_keys_without_on_delete() {
        insta::assert_snapshot!(fires(
            "fk-missing-on-delete",
            &[
                ("0001_a.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n"),
                ("0002_b.up.sql", "CREATE TABLE b (\n    id bigint PRIMARY KEY,\n    a_id bigint REFERENCES a (id)\n);\nALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id) ON UPDATE CASCADE;\n"),
            ]
        ));
    }

    #[test]
    fn quiet_when_the_action_is_written_out() {
        quiet(
            "fk-missing-on-delete",
            &[
                ("0001_a.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n"),
                ("0002_b.up.sql", "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint REFERENCES a (id) ON DELETE NO ACTION);\nCREATE INDEX b_a_id ON b (a_id);\n"),
            ],
        );
    }
}
