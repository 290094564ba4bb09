//! The history read in one message, without the lock: what `migrate`,
//! `status` and `validate` need to tell that there is nothing to do. One
//! simple-protocol query carries both statements (the tables' shape and the
//! rows), so an up-to-date database costs one round trip after connecting.
//!
//! The peek never decides anything alone: a history it cannot read
//! (missing, of an older format, not schemactl's, corrupt) is `None`, and
//! the caller takes the locked path, which reads it again and says what is
//! wrong exactly as before.

use super::history_table::{database, HistoryTable, HistoryValues, ShapeColumn};
use super::text_rows::literal;
use crate::model::history::AppliedMigration;
use crate::Error;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage, SimpleQueryRow};

impl HistoryTable {
    /// The applied migrations, read in one message; `None` when the
    /// history cannot be read as it is (then read it under the lock).
    pub async fn peek(&self, client: &Client) -> Result<Option<Vec<AppliedMigration>>, Error> {
        let (table, events) = (
            literal(&self.qualified()),
            literal(&self.qualified_events()),
        );
        let sql = format!(
            "SELECT a.attrelid = to_regclass({table}), a.attname::text, format_type(a.atttypid, a.atttypmod) \
             FROM pg_attribute a WHERE a.attrelid IN (to_regclass({table}), to_regclass({events})) \
             AND a.attnum > 0 AND NOT a.attisdropped;\n\
             SELECT version::text, name, checksum, down_checksum, \
                    (extract(epoch FROM applied_at) * 1000000)::bigint, applied_by, execution_ms, success, \
                    baselined, schemactl_version, error \
             FROM {} ORDER BY version",
            self.qualified()
        );
        let messages = match client.simple_query(&sql).await {
            Ok(messages) => messages,
            Err(e) if is_unreadable(&e) => return Ok(None),
            Err(e) => return Err(database(&format!("cannot read {}", self.display()), &e)),
        };
        let mut results: Vec<Vec<SimpleQueryRow>> = vec![Vec::new()];
        for message in messages {
            match message {
                SimpleQueryMessage::Row(row) => {
                    if let Some(current) = results.last_mut() {
                        current.push(row);
                    }
                }
                SimpleQueryMessage::CommandComplete(_) => results.push(Vec::new()),
                _ => {}
            }
        }
        let [shape, rows, ..] = results.as_slice() else {
            return Ok(None);
        };
        let shape: Vec<ShapeColumn> = shape
            .iter()
            .filter_map(|row| {
                Some(ShapeColumn {
                    of_main: row.get(0)? == "t",
                    name: row.get(1)?.to_string(),
                    kind: row.get(2)?.to_string(),
                })
            })
            .collect();
        if self.check_shape(&shape).is_err() {
            return Ok(None);
        }
        Ok(self.applied_from(rows).ok())
    }
}

/// Errors that mean "read it under the lock": no such table or schema, or
/// a column this release reads is missing (an older history format).
fn is_unreadable(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        [
            SqlState::UNDEFINED_TABLE,
            SqlState::INVALID_SCHEMA_NAME,
            SqlState::UNDEFINED_COLUMN,
        ]
        .contains(code)
    })
}

impl HistoryValues for SimpleQueryRow {
    fn text(&self, index: usize) -> Result<Option<String>, String> {
        self.try_get(index)
            .map(|value| value.map(str::to_string))
            .map_err(|e| e.to_string())
    }
    fn integer(&self, index: usize) -> Result<Option<i64>, String> {
        self.text(index)?
            .map(|text| {
                text.parse()
                    .map_err(|_| format!("`{text}` is not an integer"))
            })
            .transpose()
    }
    fn flag(&self, index: usize) -> Result<Option<bool>, String> {
        self.text(index)?
            .map(|text| match text.as_str() {
                "t" => Ok(true),
                "f" => Ok(false),
                other => Err(format!("`{other}` is not a boolean")),
            })
            .transpose()
    }
    /// Read as microseconds since the epoch (the peek selects it so, to be
    /// independent of the session's `DateStyle` and time zone).
    fn instant(&self, index: usize) -> Result<Option<time::OffsetDateTime>, String> {
        self.integer(index)?
            .map(|micros| {
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
                    .map_err(|e| e.to_string())
            })
            .transpose()
    }
}
