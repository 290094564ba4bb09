//! `schemactl migrate`: apply pending migrations in order, under the lock.

use super::{Notice, RunReport};
use crate::config::Settings;
use crate::plan::MigrateOptions;
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
    Migrator::new(Directory::from_settings(settings), settings.clone())
        .run(options, dry_run, notify)
        .await
}
