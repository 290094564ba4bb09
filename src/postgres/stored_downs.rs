//! What the history stored of each migration when it was applied (history
//! format 3): its down script, read for `rollback` only (a no-op deploy
//! never carries their text), and its phase, read when the database is
//! ahead of the directory.

use super::history_table::database;
use crate::model::history::HistoryTable;
use crate::model::Version;
use crate::Error;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

impl HistoryTable {
    /// The stored down scripts of `versions` that have one; none from a
    /// history of an earlier format (no `down_script` column yet).
    pub(crate) async fn stored_downs(
        &self,
        client: &Client,
        versions: &[Version],
    ) -> Result<Vec<(String, String)>, Error> {
        self.stored_column(client, versions, "down_script").await
    }

    /// The phases recorded for `versions` (`expand`, `contract`), where
    /// their migrations declared one.
    pub(crate) async fn recorded_phases(
        &self,
        client: &Client,
        versions: &[Version],
    ) -> Result<Vec<(String, String)>, Error> {
        self.stored_column(client, versions, "phase").await
    }

    /// `column` (one of format 3's) of the rows of `versions` where it is
    /// set.
    async fn stored_column(
        &self,
        client: &Client,
        versions: &[Version],
        column: &str,
    ) -> Result<Vec<(String, String)>, Error> {
        if versions.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = versions.iter().map(ToString::to_string).collect();
        let sql = format!(
            "SELECT version::text, {column} FROM {} WHERE version::text = ANY($1) AND {column} IS NOT NULL",
            self.qualified()
        );
        match client
            .query_typed(&sql, &[(&texts, Type::TEXT_ARRAY)])
            .await
        {
            Ok(rows) => Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect()),
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN) => {
                Ok(Vec::new())
            }
            Err(e) => Err(database(
                &format!("cannot read the {column} column of {}", self.display()),
                &e,
            )),
        }
    }
}
