//! How a script is sent to PostgreSQL: in schemactl's transaction, statement
//! by statement outside one, or, as golang-migrate sends every file, as one
//! message whose own `BEGIN … COMMIT` blocks are its transactions.

use super::statements::{is_transaction_control, outside_transaction_only};
use super::{Script, Statement};

/// How a script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Execution {
    /// In a transaction schemactl opens, together with its history row.
    Transaction,
    /// Statement by statement outside a transaction, each committing on its
    /// own (`-- schemactl:no-transaction`, a layout's own marker, or a file
    /// of one statement PostgreSQL refuses in a transaction block).
    NoTransaction,
    /// The whole file as one simple-query message, as golang-migrate sends
    /// it: the file's own `BEGIN … COMMIT` blocks are its transactions, and
    /// what stands outside them runs in the message's implicit transaction.
    OneMessage,
    /// One `UPDATE`/`DELETE` in batches of key ranges, each batch its own
    /// transaction with its progress (`-- schemactl:backfill`); recorded as
    /// applied after the last batch.
    Backfill,
}

impl Execution {
    /// How a dry run and the reports name it.
    pub fn describe(self) -> &'static str {
        match self {
            Execution::Transaction => "in a transaction",
            Execution::NoTransaction => "WITHOUT a transaction",
            Execution::OneMessage => {
                "as one message with its own transaction blocks, as golang-migrate sends it"
            }
            Execution::Backfill => "in batches, each batch in its own transaction",
        }
    }
}

impl Script {
    /// How this script runs. A layout whose tool sends each file as one
    /// message (golang-migrate) runs a file the same way its tool does: a
    /// file with transaction control of its own goes as one message; a file
    /// of a single statement that cannot run in a transaction block (`CREATE
    /// INDEX CONCURRENTLY`) runs outside one, as a one-statement message
    /// does; any other file is atomic there, as in schemactl's transaction.
    pub fn execution(&self) -> Execution {
        if self.directives.backfill.is_some() {
            return Execution::Backfill;
        }
        if self.directives.no_transaction {
            return Execution::NoTransaction;
        }
        if !self.sent_whole {
            return Execution::Transaction;
        }
        let Ok(statements) = self.statements() else {
            return Execution::Transaction;
        };
        if statements
            .iter()
            .any(|s| is_transaction_control(s.keyword.as_str(), s.text(&self.sql)))
        {
            return Execution::OneMessage;
        }
        match statements {
            [only] => {
                if outside_transaction_only(only.keyword.as_str(), only.text(&self.sql)).is_some() {
                    Execution::NoTransaction
                } else {
                    Execution::Transaction
                }
            }
            _ => Execution::Transaction,
        }
    }

    /// Whether its layout's tool sends the whole file as one message
    /// (golang-migrate), whatever [`Script::execution`] decides for it.
    pub fn sent_whole(&self) -> bool {
        self.sent_whole
    }
}

impl Script {
    /// The transaction each statement runs in, as PostgreSQL runs the script
    /// the way [`Script::execution`] sends it: statements with the same
    /// number commit or roll back together; `None` runs alone and commits
    /// on its own. In schemactl's transaction every statement shares one.
    /// In one message, the text outside the script's own blocks runs in the
    /// message's implicit transaction, which a `BEGIN` turns into an
    /// explicit one (so it joins the block) and which every `COMMIT`,
    /// `END` or `ROLLBACK` ends. Outside a transaction only a `BEGIN …
    /// COMMIT` block groups statements. A second `BEGIN` in an open block
    /// is only a warning to PostgreSQL: it changes nothing.
    pub fn transaction_units(&self) -> Vec<Option<usize>> {
        let Ok(statements) = self.statements() else {
            return Vec::new();
        };
        let execution = self.execution();
        let mut unit = 0;
        let mut in_block = false;
        let mut units = Vec::with_capacity(statements.len());
        for statement in statements {
            let (opens, ends) = self.controls(statement);
            let this = match execution {
                Execution::Transaction => Some(0),
                Execution::OneMessage => Some(unit),
                Execution::NoTransaction if in_block || opens => Some(unit),
                Execution::NoTransaction | Execution::Backfill => None,
            };
            units.push(this);
            if opens {
                in_block = true;
            }
            if ends && execution != Execution::Transaction {
                in_block = false;
                unit += 1;
            }
        }
        units
    }

    /// Whether a statement opens a transaction block, and whether it ends one.
    fn controls(&self, statement: &Statement) -> (bool, bool) {
        let keyword = statement.keyword.as_str();
        if !is_transaction_control(keyword, statement.text(&self.sql)) {
            return (false, false);
        }
        let opens = matches!(keyword, "BEGIN" | "START");
        (opens, !opens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Checksum, Directives};

    fn script(sql: &str, sent_whole: bool, no_transaction: bool) -> Script {
        let mut script = Script::new(
            "0001_x.up.sql".into(),
            sql.into(),
            Checksum::of(sql.as_bytes()),
            Directives {
                no_transaction,
                ..Directives::default()
            },
        );
        script.sent_whole = sent_whole;
        script
    }

    #[test]
    fn golang_migrate_files_run_as_their_tool_runs_them() {
        let plain = script(
            "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
            true,
            false,
        );
        assert_eq!(plain.execution(), Execution::Transaction);
        let blocks = script("BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n", true, false);
        assert_eq!(blocks.execution(), Execution::OneMessage);
        let lone = script("CREATE INDEX CONCURRENTLY i ON a (id);\n", true, false);
        assert_eq!(lone.execution(), Execution::NoTransaction);
        let not_golang = script("BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n", false, false);
        assert_eq!(not_golang.execution(), Execution::Transaction);
    }

    #[test]
    fn statements_share_the_transaction_postgres_gives_them() {
        // One message: before a BEGIN joins its block; a COMMIT ends it.
        let sql = "CREATE TABLE a (id int);\nBEGIN;\nBEGIN;\nALTER TABLE a ADD x int;\nCOMMIT;\nCREATE TABLE b (id int);\nEND;\nCREATE TABLE c (id int);\n";
        let units = script(sql, true, false).transaction_units();
        assert_eq!(units, [0, 0, 0, 0, 0, 1, 1, 2].map(Some));
        // Outside a transaction only the block groups statements.
        let sql = "-- schemactl:no-transaction\nCREATE TABLE a (id int);\nBEGIN;\nALTER TABLE a ADD x int;\nCOMMIT;\nCREATE TABLE b (id int);\n";
        let units = script(sql, false, true).transaction_units();
        assert_eq!(units, [None, Some(0), Some(0), Some(0), None]);
        let plain = script(
            "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
            false,
            false,
        );
        assert_eq!(plain.transaction_units(), [Some(0), Some(0)]);
    }
}
