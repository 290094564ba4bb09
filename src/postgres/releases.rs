//! The releases of the application a team declares live or retired
//! (`schemactl release mark-live|mark-retired`), kept beside the history in
//! `<history>_releases`: `contract` migrations wait while a release other
//! than the one deploying is live.

use super::history_table::database;
use crate::model::history::HistoryTable;
use crate::model::release::Release;
use crate::Error;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

impl HistoryTable {
    fn qualified_releases(&self) -> String {
        let name = format!("{}_releases", self.table.as_str());
        format!("{}.\"{}\"", self.schema.quoted(), name.replace('"', "\"\""))
    }

    /// Every recorded release, by label; none when none was ever marked.
    pub(crate) async fn releases(&self, client: &Client) -> Result<Vec<Release>, Error> {
        let sql = format!(
            "SELECT label, live, to_char(marked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), marked_by \
             FROM {} ORDER BY label",
            self.qualified_releases()
        );
        match client.query_typed(&sql, &[]).await {
            Ok(rows) => Ok(rows
                .iter()
                .map(|row| Release {
                    label: row.get(0),
                    live: row.get(1),
                    marked_at: row.get(2),
                    marked_by: row.get(3),
                })
                .collect()),
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                Ok(Vec::new())
            }
            Err(e) => Err(database("cannot read the releases", &e)),
        }
    }

    /// Marks release `label` live or retired (creating the table on first
    /// use).
    pub(crate) async fn mark_release(
        &self,
        client: &Client,
        label: &str,
        live: bool,
    ) -> Result<(), Error> {
        let table = self.qualified_releases();
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                 label text PRIMARY KEY,
                 live boolean NOT NULL,
                 marked_at timestamptz NOT NULL DEFAULT now(),
                 marked_by text NOT NULL DEFAULT current_user
             )"
        );
        client
            .batch_execute(&create)
            .await
            .map_err(|e| database(&format!("cannot create {table}"), &e))?;
        let upsert = format!(
            "INSERT INTO {table} (label, live) VALUES ($1, $2)
             ON CONFLICT (label) DO UPDATE SET live = EXCLUDED.live, marked_at = now(), marked_by = current_user"
        );
        client
            .query_typed(&upsert, &[(&label, Type::TEXT), (&live, Type::BOOL)])
            .await
            .map(drop)
            .map_err(|e| database(&format!("cannot mark release {label}"), &e))
    }
}
