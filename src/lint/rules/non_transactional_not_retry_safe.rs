//! `non-transactional-not-retry-safe`: a `-- schemactl:no-transaction` file
//! runs statement by statement (and a file sent as one message commits at
//! each of its own `COMMIT`s), so a failure half-way leaves the earlier
//! statements done. Re-running it must not fail on them: every `CREATE`
//! needs `IF NOT EXISTS`, every `DROP` and `DROP COLUMN` `IF EXISTS`, every
//! `ADD COLUMN` `IF NOT EXISTS`.
//!
//! (An interrupted `CREATE INDEX CONCURRENTLY` leaves an INVALID index that
//! `IF NOT EXISTS` then skips: drop it first, `DROP INDEX CONCURRENTLY IF
//! EXISTS`, as the help says.)

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{AlterTableOperation, Statement};

/// See the module header.
pub struct NonTransactionalNotRetrySafe;

impl Rule for NonTransactionalNotRetrySafe {
    fn id(&self) -> &'static str {
        "non-transactional-not-retry-safe"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a CREATE/DROP/ADD COLUMN without IF [NOT] EXISTS in a no-transaction file"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let missing = match context.ast {
            Some(Statement::CreateIndex(index)) if !index.if_not_exists => Some("IF NOT EXISTS"),
            Some(Statement::CreateTable(table)) if !table.if_not_exists => Some("IF NOT EXISTS"),
            Some(Statement::Drop {
                if_exists: false, ..
            }) => Some("IF EXISTS"),
            Some(Statement::AlterTable(alter)) => {
                alter
                    .operations
                    .iter()
                    .find_map(|operation| match operation {
                        AlterTableOperation::AddColumn {
                            if_not_exists: false,
                            ..
                        } => Some("IF NOT EXISTS"),
                        AlterTableOperation::DropColumn {
                            if_exists: false, ..
                        } => Some("IF EXISTS"),
                        _ => None,
                    })
            }
            None => context.recognised.and_then(|r| {
                (r.command == "DROP INDEX"
                    && crate::lint::find_tokens(context.text(), "IF EXISTS").is_none())
                .then_some("IF EXISTS")
            }),
            _ => None,
        };
        let Some(missing) = missing else { return };
        let concurrent_index = match context.ast {
            Some(Statement::CreateIndex(index)) => index.concurrently,
            _ => false,
        };
        let message = if context.stays_done_if_a_later_statement_fails() {
            match context.script.execution() {
                crate::model::Execution::OneMessage => format!("this file commits in parts (its own COMMIT ends a transaction before the end), so when a later part fails this one stays done, and running the migration again fails here: it needs {missing}"),
                _ => format!("this file runs outside a transaction, so when a later statement fails this one stays done, and running the migration again fails here: it needs {missing}"),
            }
        } else if concurrent_index && !context.transactional() {
            format!("an interrupted or failed CREATE INDEX CONCURRENTLY leaves an INVALID index of this name, and running the migration again fails here: it needs {missing}")
        } else {
            // What fails with this statement or after it is rolled back
            // together with it, so a retry runs it from scratch.
            return;
        };
        findings.push(context.finding(
            self,
            None,
            message,
            format!("write it with {missing}; for CREATE INDEX CONCURRENTLY, first `DROP INDEX CONCURRENTLY IF EXISTS` the same name, which removes an INVALID index an interrupted build left"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const TABLE: (&str, &str) = (
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, n int);\n",
    );

    #[test]
    fn fires_on_statements_a_retry_would_fail_on() {
        insta::assert_snapshot!(fires(
            "non-transactional-not-retry-safe",
            &[
                TABLE,
                ("0002_i.up.sql", "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY t_n ON t (n);\nDROP INDEX CONCURRENTLY t_old;\n")
            ]
        ));
    }

    #[test]
    fn quiet_when_retry_safe_or_transactional() {
        quiet(
            "non-transactional-not-retry-safe",
            &[
                TABLE,
                ("0002_i.up.sql", "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS t_n;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_n ON t (n);\n"),
                ("0003_c.up.sql", "ALTER TABLE t ADD COLUMN m int;\n"),
                // Alone in its file, a failure leaves nothing to trip over.
                ("0004_d.up.sql", "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY t_n;\n"),
                ("0005_v.up.sql", "-- schemactl:no-transaction\nALTER TABLE t ADD COLUMN o int;\n"),
            ],
        );
    }

    #[test]
    fn a_lone_concurrent_index_build_still_needs_a_retry_safe_form() {
        insta::assert_snapshot!(fires(
            "non-transactional-not-retry-safe",
            &[
                TABLE,
                (
                    "0002_i.up.sql",
                    "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY t_n ON t (n);\n"
                )
            ]
        ));
    }
}
