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

impl Snapshot {
    /// Reads the configured database's schema (`schemactl dump`): the
    /// database's name as shown (no password) and its snapshot,
    /// schemactl's own tables and `[verify] ignore`/`exclude` left out.
    pub async fn of_database(
        settings: &Settings,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(String, Snapshot), Error> {
        let session = connect(&settings.connection, notify).await?;
        let snapshot = reading::snapshot(&session.client, &history_tables(settings))
            .await?
            .without(&settings.verify.ignore, &settings.verify.exclude);
        Ok((session.target, snapshot))
    }
}

impl super::er_diagram::ErDiagram {
    /// The configured database's schema as an entity-relationship diagram
    /// (`dump --format mermaid|dot`), schemactl's own tables left out.
    pub async fn of_database(
        settings: &Settings,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Self, Error> {
        let session = connect(&settings.connection, notify).await?;
        super::er_diagram::read(&session.client, &history_tables(settings)).await
    }
}
