//! The down scripts the history stored when their migrations were applied
//! (history format 3), read for `rollback` only: a no-op deploy never
//! carries their text.

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
        if versions.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = versions.iter().map(ToString::to_string).collect();
        let sql = format!(
            "SELECT version::text, down_script FROM {} WHERE version::text = ANY($1) AND down_script IS NOT NULL",
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
                &format!("cannot read the stored down scripts of {}", self.display()),
                &e,
            )),
        }
    }
}
