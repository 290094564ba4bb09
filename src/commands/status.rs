//! `schemactl status` and `schemactl validate`: compare the files with the
//! history. Both only read; neither creates the history table.

use super::{load_and_connect, Notice};
use crate::config::Settings;
use crate::plan::{self, State, StatusRow};
use crate::postgres::invalid_indexes::{self, InvalidIndex};
use crate::{Error, Problem};

/// Every migration with its state, and the problems that would stop `migrate`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusReport {
    /// The database, password removed.
    pub database: String,
    /// The history table.
    pub history: String,
    /// One row per migration, by version.
    pub migrations: Vec<StatusRow>,
    /// What would stop `migrate`.
    pub problems: Vec<Problem>,
    /// Indexes left INVALID by a failed `CREATE INDEX CONCURRENTLY`
    /// (`validate` fails on them).
    pub invalid_indexes: Vec<InvalidIndex>,
    /// Another tool's history table, when schemactl has none of its own.
    pub foreign_history: Option<crate::postgres::foreign_history::ForeignHistory>,
}

impl StatusReport {
    /// How many migrations are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.migrations
            .iter()
            .filter(|row| row.state == state)
            .count()
    }
}

/// Reads files and history and compares them.
pub async fn status(
    settings: &Settings,
    allow_out_of_order: bool,
    notify: &mut dyn FnMut(Notice),
) -> Result<StatusReport, Error> {
    let (local, session) = load_and_connect(settings, notify).await?;
    let (applied, invalid) = tokio::join!(
        settings.history.read(&session.client),
        invalid_indexes::find(&session.client)
    );
    let applied = applied?;
    let foreign_history = if applied.is_empty() {
        crate::postgres::foreign_history::detect(&session.client).await?
    } else {
        None
    };
    Ok(StatusReport {
        database: session.target,
        history: settings.history.display(),
        migrations: plan::status(&local, &applied),
        problems: plan::problems(&local, &applied, allow_out_of_order),
        invalid_indexes: invalid?,
        foreign_history,
    })
}
