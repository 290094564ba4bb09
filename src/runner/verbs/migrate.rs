//! `schemactl migrate`: apply pending migrations in order, under the lock.

use crate::config::Settings;
use crate::model::plan::MigrateOptions;
use crate::runner::{Notice, RunReport};
use crate::source::Directory;
use crate::{Error, Migrator};

/// Applies what is pending in the configured migrations directory (or,
/// with `dry_run`, reports what would be applied and changes nothing).
pub async fn migrate(
    settings: &Settings,
    options: MigrateOptions,
    dry_run: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<RunReport, Error> {
    Migrator::configured(Directory::from_settings(settings), settings)
        .run(options, dry_run, notify)
        .await
}
