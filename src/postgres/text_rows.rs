//! Catalog queries read as text: `simple_query` sends one message (no
//! separate prepare round trip, several statements allowed) and gives every
//! value as text, which is what the catalog readers compare and print.

use super::history_table::database;
use crate::Error;
use tokio_postgres::{Client, SimpleQueryMessage, SimpleQueryRow};

/// `text` as an SQL string literal for a simple-protocol query: an
/// `E'…'` string with backslashes and quotes doubled, which means the same
/// whatever `standard_conforming_strings` is.
pub fn literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// The values of one row as text (NULL as "").
pub fn texts(row: &SimpleQueryRow) -> Vec<String> {
    (0..row.len())
        .map(|i| row.get(i).unwrap_or_default().to_string())
        .collect()
}

/// The rows of `sql` as text; `context` says what failed.
pub async fn text_rows(
    client: &Client,
    sql: &str,
    context: &str,
) -> Result<Vec<Vec<String>>, Error> {
    let messages = client
        .simple_query(sql)
        .await
        .map_err(|e| database(context, &e))?;
    Ok(messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(texts(&row)),
            _ => None,
        })
        .collect())
}
