//! `concurrently-in-transaction`: `CREATE/DROP INDEX CONCURRENTLY` and
//! `REINDEX … CONCURRENTLY` cannot run inside a transaction block, and the
//! runner applies a file in one unless it says `-- schemactl:no-transaction`.

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};

/// See the module header.
pub struct ConcurrentlyInTransaction;

impl Rule for ConcurrentlyInTransaction {
    fn id(&self) -> &'static str {
        "concurrently-in-transaction"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "CONCURRENTLY in a migration the runner applies inside a transaction"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let concurrently = context
            .text()
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|w| w.eq_ignore_ascii_case("CONCURRENTLY"));
        let applies = matches!(
            context.statement.keyword.as_str(),
            "CREATE" | "DROP" | "REINDEX"
        );
        if !concurrently || !applies || !context.transactional() {
            return;
        }
        findings.push(context.finding(
            self,
            Some("CONCURRENTLY"),
            "CONCURRENTLY cannot run inside a transaction block, and this file runs in one: the migration will fail".into(),
            "add `-- schemactl:no-transaction` at the top of the file, and keep the concurrent statement in a file of its own",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_in_a_transactional_file() {
        insta::assert_snapshot!(fires(
            "concurrently-in-transaction",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                (
                    "0002_i.up.sql",
                    "CREATE INDEX CONCURRENTLY t_id2 ON t (id);\n"
                )
            ]
        ));
    }

    #[test]
    fn quiet_with_the_no_transaction_directive() {
        quiet(
            "concurrently-in-transaction",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                (
                    "0002_i.up.sql",
                    "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY t_id2 ON t (id);\n",
                ),
            ],
        );
    }
}
