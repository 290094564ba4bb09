//! `schemactl dump`: the normalised schema of a database.

use super::{connect, Notice};
use crate::config::Settings;
use crate::schema::{catalog, Snapshot};
use crate::Error;

/// The history tables of `settings`, which snapshots leave out.
pub fn history_tables(settings: &Settings) -> Vec<String> {
    let schema = settings.history.schema().as_str();
    let table = settings.history.table().as_str();
    vec![
        format!("{schema}.{table}"),
        format!("{schema}.{table}_events"),
    ]
}

/// Reads the configured database's schema.
pub async fn dump(
    settings: &Settings,
    notify: &mut dyn FnMut(Notice),
) -> Result<(String, Snapshot), Error> {
    let session = connect(settings, notify).await?;
    let snapshot = catalog::snapshot(&session.client, &history_tables(settings))
        .await?
        .without(&settings.ignore);
    Ok((session.target, snapshot))
}
