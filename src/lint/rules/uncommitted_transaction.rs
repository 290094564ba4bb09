//! `uncommitted-transaction`: a `BEGIN` in a `-- schemactl:no-transaction`
//! file without a later `COMMIT` (or `ROLLBACK`) leaves the transaction
//! open when the file ends: its statements are not committed, and the
//! session holds their locks.

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};

/// See the module header.
pub struct UncommittedTransaction;

fn opens(keyword: &str, text: &str) -> bool {
    keyword == "BEGIN"
        || (keyword == "START"
            && crate::lint::find_tokens(text, "START TRANSACTION").is_some_and(|(at, _)| at == 0))
}

fn closes(keyword: &str) -> bool {
    matches!(keyword, "COMMIT" | "END" | "ROLLBACK" | "ABORT")
}

impl Rule for UncommittedTransaction {
    fn id(&self) -> &'static str {
        "uncommitted-transaction"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "BEGIN without COMMIT in a no-transaction file"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let runs_own_blocks = context.script.execution() != crate::model::Execution::Transaction;
        if !runs_own_blocks || !opens(&context.statement.keyword, context.text()) {
            return;
        }
        let Ok(statements) = context.script.statements() else {
            return;
        };
        // A second BEGIN inside an open block is only a warning to
        // PostgreSQL: the block stays open until a COMMIT or ROLLBACK.
        let closed = statements
            .iter()
            .filter(|s| s.start > context.statement.start)
            .any(|s| closes(&s.keyword));
        if !closed {
            findings.push(context.finding(
                self,
                None,
                "this transaction is never committed: the file ends with it open, so its statements are lost and their locks held until the session ends".into(),
                "end it with COMMIT before the end of the file",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_a_begin_never_committed() {
        insta::assert_snapshot!(fires(
            "uncommitted-transaction",
            &[(
                "0001_t.up.sql",
                "-- schemactl:no-transaction\nBEGIN;\nCREATE TABLE t (id bigint PRIMARY KEY);\n"
            )]
        ));
    }

    #[test]
    fn quiet_when_committed() {
        quiet(
            "uncommitted-transaction",
            &[(
                "0001_t.up.sql",
                "-- schemactl:no-transaction\nBEGIN;\nCREATE TABLE t (id bigint PRIMARY KEY);\nCOMMIT;\n",
            )],
        );
    }
}
