//! `schemactl dump`: the normalised schema of a database.

use crate::catalog::{reading, Snapshot};
use crate::config::Settings;
use crate::runner::session::connect;
use crate::runner::Notice;
use crate::Error;

/// The history tables of `settings`, which snapshots leave out.
pub(crate) fn history_tables(settings: &Settings) -> Vec<String> {
    let schema = settings.run.history.schema().as_str();
    let table = settings.run.history.table().as_str();
    let mut tables = vec![
        format!("{schema}.{table}"),
        format!("{schema}.{table}_events"),
        format!("{schema}.{table}_lock"),
        format!("{schema}.{table}_releases"),
    ];
    // Other tools' history tables are bookkeeping too, not schema: after
    // adopting a diesel project, `__diesel_schema_migrations` is no drift.
    for (_, foreign) in crate::postgres::foreign_history::KNOWN {
        tables.push(format!("{schema}.{foreign}"));
    }
    tables
}

/// Reads the configured database's schema.
pub async fn dump(
    settings: &Settings,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<(String, Snapshot), Error> {
    let session = connect(&settings.connection, notify).await?;
    let snapshot = reading::snapshot(&session.client, &history_tables(settings))
        .await?
        .without(&settings.verify.ignore, &settings.verify.exclude);
    Ok((session.target, snapshot))
}

/// The database's schema as an entity-relationship diagram (`dump
/// --format mermaid|dot`), schemactl's own tables left out.
pub async fn er_diagram(
    settings: &Settings,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<super::er_diagram::ErDiagram, Error> {
    let session = connect(&settings.connection, notify).await?;
    super::er_diagram::read(&session.client, &history_tables(settings)).await
}
