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
    fn rejected_by_postgres(&self) -> bool {
        true
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        if !context.transactional() || !takes_concurrently_outside_transactions(context) {
            return;
        }
        let (message, help) = if context.script.sent_whole() {
            (
                "CONCURRENTLY cannot run inside a transaction block, and golang-migrate sends this file as one message of several statements, which runs as one: the migration will fail",
                "move the concurrent statement to a migration file of its own (a file of one statement runs outside a transaction)",
            )
        } else {
            (
                "CONCURRENTLY cannot run inside a transaction block, and this file runs in one: the migration will fail",
                "add `-- schemactl:no-transaction` at the top of the file, and keep the concurrent statement in a file of its own",
            )
        };
        findings.push(context.finding(self, Some("CONCURRENTLY"), message.into(), help));
    }
}

/// Whether the statement is one of the commands whose `CONCURRENTLY`
/// PostgreSQL refuses inside a transaction block (`CREATE INDEX`, `DROP
/// INDEX`, `REINDEX`, `ALTER TABLE … DETACH PARTITION`) and says it.
/// `REFRESH MATERIALIZED VIEW CONCURRENTLY` runs in a transaction, and a
/// word inside a function body or string is not an option of the statement.
fn takes_concurrently_outside_transactions(context: &StatementContext) -> bool {
    if let Some(sqlparser::ast::Statement::CreateIndex(index)) = context.ast {
        return index.concurrently;
    }
    if let Some(recognised) = context.recognised {
        return recognised.concurrently
            && matches!(
                recognised.command.as_str(),
                "DROP INDEX" | "REINDEX" | "ALTER TABLE"
            );
    }
    let text = context.text();
    let says = |words: &str| crate::lint::find_tokens(text, words);
    let applies = match context.statement.keyword.as_str() {
        "REINDEX" => true,
        "DROP" => says("DROP INDEX").is_some_and(|(at, _)| at == 0),
        // `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`.
        "ALTER" => says("DETACH PARTITION").is_some(),
        _ => false,
    };
    applies && says("CONCURRENTLY").is_some()
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
    fn quiet_for_refresh_concurrently_and_words_inside_function_bodies() {
        quiet(
            "concurrently-in-transaction",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\nCREATE MATERIALIZED VIEW mv AS SELECT id FROM t;\nCREATE UNIQUE INDEX mv_id ON mv (id);\n"),
                (
                    "0002_f.up.sql",
                    "REFRESH MATERIALIZED VIEW CONCURRENTLY mv;\nCREATE FUNCTION refresh_mv() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  REFRESH MATERIALIZED VIEW CONCURRENTLY mv;\nEND $$;\n",
                ),
            ],
        );
    }

    #[test]
    fn fires_for_drop_index_and_reindex_concurrently() {
        for sql in [
            "DROP INDEX CONCURRENTLY IF EXISTS t_id2;\n",
            "REINDEX INDEX CONCURRENTLY t_id2;\n",
        ] {
            let findings = crate::lint::rules::test_support::lint_files(&[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0002_i.up.sql", sql),
            ]);
            assert!(
                findings
                    .iter()
                    .any(|f| f.rule == "concurrently-in-transaction"),
                "{sql}: {findings:#?}"
            );
        }
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
