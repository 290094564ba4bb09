//! Where each interrupted backfill stands, for `status`: the newest
//! `backfill-batch` event of each version since it was last applied,
//! rolled back or repaired.

use crate::model::backfill::BatchMark;
use crate::model::history::HistoryTable;
use crate::model::Version;
use std::collections::BTreeMap;
use tokio_postgres::Client;

/// Each version's committed backfill progress, with the checksum of the
/// script that made it; empty when the events cannot be read (a history
/// that does not exist yet).
pub(crate) async fn read(
    client: &Client,
    history: &HistoryTable,
) -> BTreeMap<Version, (String, BatchMark)> {
    let events = history.qualified_events();
    let sql = format!(
        "SELECT DISTINCT ON (b.version) b.version, b.checksum, b.detail FROM {events} b
         WHERE b.event = 'backfill-batch' AND b.version IS NOT NULL
           AND b.id > coalesce((SELECT max(e.id) FROM {events} e WHERE e.version = b.version
               AND e.event IN ('applied', 'rolled-back', 'baselined', 'repair-remove-failed', 'repair-mark-applied', 'repair-forget')), 0)
         ORDER BY b.version, b.id DESC"
    );
    let Ok(rows) = client.query_typed(&sql, &[]).await else {
        return BTreeMap::new();
    };
    rows.iter()
        .filter_map(|row| {
            let (version, checksum, detail): (String, Option<String>, Option<String>) =
                (row.get(0), row.get(1), row.get(2));
            let mark = serde_json::from_str::<BatchMark>(detail.as_deref()?).ok()?;
            Some((Version::parse(&version), (checksum?, mark)))
        })
        .collect()
}
