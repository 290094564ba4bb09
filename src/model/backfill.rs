//! Backfills: a migration of one `UPDATE` (or `DELETE`) marked
//! `-- schemactl:backfill`, run in batches of key ranges, each batch its own
//! short transaction, so that no lock is held longer than one batch and a
//! killed run resumes after its last committed batch.
//!
//! ```sql
//! -- schemactl:backfill batch-size 5000 key id
//! UPDATE orders SET total_cents = total * 100 WHERE total_cents IS NULL;
//! ```
//!
//! Each batch runs the statement with the key range added to its `WHERE`:
//! `WHERE (<its condition>) AND id > $after AND id <= $upto`.

use crate::model::identifier::Identifier;
use crate::model::{Script, SourceProblem, Statement};
use sqlparser::tokenizer::Token;

/// What `-- schemactl:backfill` says: the batch size and the key column
/// (default: the table's one-column primary key).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct BackfillSpec {
    /// Keys per batch (default: `migrate --batch-size`, 10,000).
    pub batch_size: Option<u64>,
    /// The column the batches are ranges of.
    pub key: Option<Identifier>,
}

impl BackfillSpec {
    /// Reads the directive's argument: `[batch-size N] [key COLUMN]`.
    pub fn parse(argument: &str) -> Result<Self, String> {
        let mut spec = Self::default();
        let mut words = argument.split_whitespace();
        while let Some(word) = words.next() {
            let value = words.next().ok_or_else(|| {
                format!(
                    "`{word}` needs a value: write `-- schemactl:backfill batch-size 5000 key id`"
                )
            })?;
            match word {
                "batch-size" => {
                    let size: u64 = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("batch-size takes a whole number above 0, not `{value}`")
                    })?;
                    spec.batch_size = Some(size);
                }
                "key" => spec.key = Some(Identifier::parse(value)?),
                other => {
                    return Err(format!(
                        "`{other}` is not a backfill option; known: batch-size N, key COLUMN"
                    ))
                }
            }
        }
        Ok(spec)
    }
}

/// A backfill's statement, split where the key range goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchedStatement {
    /// The table as written (`public.orders`, `"Orders"`).
    pub table: String,
    /// How the statement names the table's rows (its alias, or the table).
    qualifier: String,
    /// The text before the condition, ending with `WHERE` (or, without
    /// one, where it goes).
    head: String,
    /// The statement's own condition, if it has one.
    condition: Option<String>,
    /// What follows the condition (`RETURNING …`).
    tail: String,
}

/// The bounds of one batch's key range, as parameters of its statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Keys above `$1` only (every batch but the first).
    pub after: bool,
    /// Keys up to `$2` only (every batch but the last).
    pub upto: bool,
}

impl BatchedStatement {
    /// Reads `text`, one `UPDATE` or `DELETE` statement (a leading `WITH`
    /// is kept); says what else it would need to be.
    pub fn read(text: &str) -> Result<Self, String> {
        let text = text.trim().trim_end_matches(';').trim_end();
        let tokens = significant_tokens(text)?;
        let depth_zero: Vec<&(Token, usize, usize)> = {
            let mut depth = 0i32;
            tokens
                .iter()
                .filter(|(token, _, _)| {
                    let outer = depth == 0;
                    match token {
                        Token::LParen | Token::LBracket => depth += 1,
                        Token::RParen | Token::RBracket => depth -= 1,
                        _ => {}
                    }
                    outer && !matches!(token, Token::LParen | Token::LBracket)
                })
                .collect()
        };
        let verb = depth_zero
            .iter()
            .position(|(t, _, _)| is_word(t, "UPDATE") || is_word(t, "DELETE"))
            .ok_or("a backfill is one UPDATE or DELETE statement")?;
        let mut at = verb + 1;
        if is_word(&depth_zero[verb].0, "DELETE") {
            if !depth_zero
                .get(at)
                .is_some_and(|(t, _, _)| is_word(t, "FROM"))
            {
                return Err("expected FROM after DELETE".into());
            }
            at += 1;
        }
        if depth_zero
            .get(at)
            .is_some_and(|(t, _, _)| is_word(t, "ONLY"))
        {
            at += 1;
        }
        let table_start = depth_zero.get(at).ok_or("the statement names no table")?.1;
        let mut table_end = depth_zero[at].2;
        at += 1;
        while depth_zero
            .get(at)
            .is_some_and(|(t, _, _)| *t == Token::Period)
        {
            table_end = depth_zero
                .get(at + 1)
                .ok_or("a table name ends with `.`")?
                .2;
            at += 2;
        }
        let table = text[table_start..table_end].to_string();
        if depth_zero.get(at).is_some_and(|(t, _, _)| is_word(t, "AS")) {
            at += 1;
        }
        let qualifier = match depth_zero.get(at) {
            Some((Token::Word(w), start, end))
                if w.quote_style.is_some() || !is_clause(&w.value) =>
            {
                text[*start..*end].to_string()
            }
            _ => table.clone(),
        };
        let clause = |word: &str| {
            depth_zero[verb..]
                .iter()
                .find(|(t, _, _)| is_word(t, word))
                .map(|(_, start, end)| (*start, *end))
        };
        let returning = clause("RETURNING").map(|(start, _)| start);
        if clause("CURRENT").is_some() {
            return Err("WHERE CURRENT OF cannot be run in batches".into());
        }
        let tail_start = returning.unwrap_or(text.len());
        let (head, condition) = match clause("WHERE") {
            Some((_, end)) => (
                text[..end].to_string(),
                Some(text[end..tail_start].trim().to_string()),
            ),
            None => (format!("{} WHERE", text[..tail_start].trim_end()), None),
        };
        Ok(Self {
            table,
            qualifier,
            head,
            condition,
            tail: text[tail_start..].to_string(),
        })
    }

    /// The statement of one batch: its condition and the key range, its
    /// bounds as parameters in this order: `key > $n::text::<type>` (when
    /// `bounds.after`), `key <= $m::text::<type>` (when `bounds.upto`).
    pub fn batch(&self, key: &Identifier, key_type: &str, bounds: Bounds) -> String {
        let column = format!("{}.{}", self.qualifier, key.quoted());
        let mut parts: Vec<String> = Vec::new();
        if let Some(condition) = &self.condition {
            parts.push(format!("({condition})"));
        }
        let mut parameter = 0;
        if bounds.after {
            parameter += 1;
            parts.push(format!("{column} > ${parameter}::text::{key_type}"));
        }
        if bounds.upto {
            parameter += 1;
            parts.push(format!("{column} <= ${parameter}::text::{key_type}"));
        }
        if parts.is_empty() {
            parts.push("true".into());
        }
        let tail = if self.tail.is_empty() {
            String::new()
        } else {
            format!(" {}", self.tail)
        };
        format!("{} {}{tail}", self.head, parts.join(" AND "))
    }

    /// The query for the last key of the batch after `$1` (without
    /// `after`, of the first batch), and the key after it: with fewer than
    /// two rows, no key is left past this batch, and it is the last.
    pub fn batch_end(&self, key: &Identifier, key_type: &str, after: bool, size: u64) -> String {
        let column = key.quoted();
        let range = if after {
            format!(" WHERE {column} > $1::text::{key_type}")
        } else {
            String::new()
        };
        format!(
            // Named apart from the column: `ORDER BY` would otherwise sort
            // by the text output column of that name.
            "SELECT {column}::text AS schemactl_batch_end FROM {table}{range} ORDER BY {column} OFFSET {skip} LIMIT 2",
            table = self.table,
            skip = size.saturating_sub(1)
        )
    }
}

/// Where a backfill stands, recorded (as JSON) in the detail of each
/// batch's `backfill-batch` event, in the batch's own transaction.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct BatchMark {
    /// `up` or `down`.
    pub direction: String,
    /// Batches committed.
    pub batch: u64,
    /// The last key of the last committed batch (as text).
    pub after: String,
    /// Keys covered so far.
    pub keys: u64,
    /// Rows changed so far.
    pub rows: u64,
    /// Time spent in batches so far, over every run.
    pub ms: u64,
}

/// Where a running backfill is, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct BackfillProgress {
    /// `0004_backfill_totals`.
    pub label: String,
    /// Batches committed, earlier runs included.
    pub batch: u64,
    /// Keys covered so far.
    pub keys_done: u64,
    /// The table's rows, as the planner estimates them (`None`: unknown).
    pub keys_total: Option<u64>,
    /// Rows changed so far.
    pub rows: u64,
    /// Time this run has spent.
    pub elapsed_ms: u64,
    /// The batch this run resumed after (an earlier run was interrupted).
    pub resumed_after_batch: Option<u64>,
    /// The longest batch transaction of this run: the longest any row
    /// lock was held.
    pub longest_batch_ms: u64,
    /// The last batch is committed, and the migration recorded.
    pub done: bool,
    /// Time spent waiting for replicas to catch up, this run.
    pub replica_wait_ms: u64,
}

/// What keeps a `-- schemactl:backfill` script from running in batches:
/// it must be one `UPDATE` or `DELETE` whose table and condition can be read.
pub(crate) fn problem(script: &Script, statements: &[Statement]) -> Option<SourceProblem> {
    let problem = |position, message: String| {
        Some(SourceProblem {
            path: script.path.clone(),
            position,
            message,
        })
    };
    if script.directives.no_transaction {
        return problem(None, "`-- schemactl:backfill` runs each batch in its own transaction; remove `-- schemactl:no-transaction`".into());
    }
    let [statement] = statements else {
        return problem(
            statements.get(1).map(|s| s.position),
            format!(
                "a backfill is one UPDATE or DELETE statement, and this file has {}; move the other statements to migrations of their own",
                statements.len()
            ),
        );
    };
    match BatchedStatement::read(statement.text(&script.sql)) {
        Ok(_) => None,
        Err(why) => problem(
            Some(statement.position),
            format!("{why}; a backfill is `UPDATE <table> SET … [WHERE …]` or `DELETE FROM <table> [WHERE …]`, run in batches of the table's key"),
        ),
    }
}

/// Words that end a table reference instead of naming its alias.
fn is_clause(word: &str) -> bool {
    ["SET", "WHERE", "USING", "RETURNING", "FROM"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// The significant tokens of `text` with their byte ranges.
fn significant_tokens(text: &str) -> Result<Vec<(Token, usize, usize)>, String> {
    crate::model::statements::located_tokens(text).ok_or_else(|| {
        "the statement cannot be read (an unterminated string or comment?)".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Identifier {
        Identifier::parse("id").unwrap()
    }

    #[test]
    fn the_key_range_joins_the_statement_s_own_condition() {
        let read = BatchedStatement::read(
            "UPDATE public.orders o SET total = (SELECT sum(x) FROM items i WHERE i.o = o.id) WHERE o.total IS NULL;",
        )
        .unwrap();
        assert_eq!(read.table, "public.orders");
        let both = Bounds {
            after: true,
            upto: true,
        };
        assert_eq!(
            read.batch(&id(), "bigint", both),
            "UPDATE public.orders o SET total = (SELECT sum(x) FROM items i WHERE i.o = o.id) WHERE (o.total IS NULL) \
             AND o.\"id\" > $1::text::bigint AND o.\"id\" <= $2::text::bigint"
        );
    }

    #[test]
    fn a_statement_without_condition_gets_one_and_returning_stays_last() {
        let read = BatchedStatement::read("UPDATE \"Orders\" SET a = 1 RETURNING id").unwrap();
        assert_eq!(read.table, "\"Orders\"");
        let first = Bounds {
            after: false,
            upto: true,
        };
        assert_eq!(
            read.batch(&id(), "integer", first),
            "UPDATE \"Orders\" SET a = 1 WHERE \"Orders\".\"id\" <= $1::text::integer RETURNING id"
        );
        let delete = BatchedStatement::read(
            "WITH old AS (SELECT 1) DELETE FROM ONLY events AS e USING old WHERE e.at < now()",
        )
        .unwrap();
        assert_eq!(delete.table, "events");
        let only = Bounds {
            after: true,
            upto: false,
        };
        assert!(delete
            .batch(&id(), "bigint", only)
            .ends_with("WHERE (e.at < now()) AND e.\"id\" > $1::text::bigint"));
    }

    #[test]
    fn other_statements_and_bad_options_are_refused() {
        assert!(BatchedStatement::read("INSERT INTO t VALUES (1)").is_err());
        assert!(BatchedStatement::read("UPDATE t SET a = 1 WHERE CURRENT OF c").is_err());
        assert_eq!(
            BackfillSpec::parse("batch-size 500 key order_id").unwrap(),
            BackfillSpec {
                batch_size: Some(500),
                key: Some(Identifier::parse("order_id").unwrap())
            }
        );
        assert!(BackfillSpec::parse("batch-size 0").is_err());
        assert!(BackfillSpec::parse("batch-size").is_err());
        assert!(BackfillSpec::parse("key a;b").is_err());
        assert!(BackfillSpec::parse("size 5").is_err());
    }
}
