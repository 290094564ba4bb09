//! `transaction-control-in-migration`: BEGIN/COMMIT/ROLLBACK inside a file
//! the runner already wraps in a transaction (together with its history
//! row). The runner refuses such files; the linter says so before merge.

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};
use crate::model::statements::is_transaction_control;

/// See the module header.
pub struct TransactionControlInMigration;

impl Rule for TransactionControlInMigration {
    fn id(&self) -> &'static str {
        "transaction-control-in-migration"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "BEGIN/COMMIT/ROLLBACK inside a transactional migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        if context.script.execution() == crate::model::Execution::Transaction
            && is_transaction_control(&context.statement.keyword, context.text())
        {
            findings.push(context.finding(
                self,
                None,
                format!("`{}` ends or opens a transaction, but schemactl runs this file in one together with its history row: `migrate` refuses it", context.statement.keyword),
                "remove it; to run statements outside a transaction, add `-- schemactl:no-transaction` at the top of the file",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_commit_in_a_transactional_file() {
        insta::assert_snapshot!(fires(
            "transaction-control-in-migration",
            &[(
                "0001_t.up.sql",
                "BEGIN;\nCREATE TABLE t (id bigint PRIMARY KEY);\nCOMMIT;\n"
            )]
        ));
    }

    #[test]
    fn quiet_with_no_transaction_or_savepoints() {
        quiet(
            "transaction-control-in-migration",
            &[("0001_t.up.sql", "SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;\n")],
        );
        quiet(
            "transaction-control-in-migration",
            &[(
                "0001_t.up.sql",
                "-- schemactl:no-transaction\nBEGIN;\nCOMMIT;\n",
            )],
        );
    }
}
