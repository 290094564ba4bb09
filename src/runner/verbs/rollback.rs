//! `schemactl rollback`: run down migrations newest first, under the lock.

use crate::config::Settings;
use crate::model::plan::RollbackTarget;
use crate::runner::{Notice, RunReport};
use crate::source::Directory;
use crate::{Error, Migrator};

/// Undoes applied migrations down to `target` (or, with `dry_run`, reports
/// what would run and changes nothing).
pub async fn rollback(
    settings: &Settings,
    target: RollbackTarget,
    accept_changed_down: bool,
    dry_run: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<RunReport, Error> {
    Migrator::configured(Directory::from_settings(settings), settings)
        .undo(target, accept_changed_down, dry_run, notify)
        .await
}
