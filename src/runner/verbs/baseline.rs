//! `schemactl baseline`: adopt a database that schemactl has never migrated
//! (see [`Migrator::baseline`]).

use crate::config::Settings;
use crate::runner::{Notice, RunReport};
use crate::source::Directory;
use crate::{Error, Migrator};

pub use crate::runner::BaselineSource;

/// Records migrations as applied without running them.
pub async fn baseline(
    settings: &Settings,
    source: &BaselineSource,
    dry_run: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<RunReport, Error> {
    Migrator::configured(Directory::from_settings(settings), settings)
        .baseline(source, dry_run, notify)
        .await
}
