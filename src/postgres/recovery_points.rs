//! What a point-in-time recovery or `rollback --restore-data` can go back
//! to, per migration: the latest `restore-point` and `data-backup` events
//! recorded for it, for `status`.

use crate::model::history::HistoryTable;
use crate::model::Version;
use std::collections::BTreeMap;
use tokio_postgres::Client;

/// A migration's restore point name and pre-migration backup id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecoveryPoints {
    /// The restore point's name.
    pub restore_point: Option<String>,
    /// The backup's id.
    pub data_backup: Option<String>,
}

/// Each version's latest recovery points; empty when the events table
/// cannot be read (a history that does not exist yet).
pub(crate) async fn read(
    client: &Client,
    history: &HistoryTable,
) -> BTreeMap<Version, RecoveryPoints> {
    let sql = format!(
        "SELECT DISTINCT ON (version, event) version, event, detail FROM {} \
         WHERE event IN ('restore-point', 'data-backup') AND version IS NOT NULL \
         ORDER BY version, event, id DESC",
        history.qualified_events()
    );
    let Ok(rows) = client.query_typed(&sql, &[]).await else {
        return BTreeMap::new();
    };
    let mut points: BTreeMap<Version, RecoveryPoints> = BTreeMap::new();
    for row in rows {
        let (version, event, detail): (String, String, Option<String>) =
            (row.get(0), row.get(1), row.get(2));
        let entry = points.entry(Version::parse(&version)).or_default();
        let detail = detail.unwrap_or_default();
        match event.as_str() {
            // "restore point NAME at LSN: …"
            "restore-point" => {
                entry.restore_point = detail
                    .strip_prefix("restore point ")
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_string);
            }
            // "backup ID: …"
            _ => {
                entry.data_backup = detail
                    .strip_prefix("backup ")
                    .and_then(|rest| rest.split(':').next())
                    .map(str::to_string);
            }
        }
    }
    points
}
