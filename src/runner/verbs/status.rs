//! `schemactl status` and `schemactl validate`: compare the files with the
//! history. Both only read; neither creates the history table.

use crate::config::Settings;
use crate::runner::Notice;
use crate::source::Directory;
use crate::{Error, Migrator};

pub use crate::runner::{StatusReport, Validation};

/// Reads files and history and compares them.
pub async fn status(
    settings: &Settings,
    allow_out_of_order: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<StatusReport, Error> {
    Migrator::configured(Directory::from_settings(settings), settings)
        .status(allow_out_of_order, notify)
        .await
}

/// Whether files and history agree (see [`Migrator::validate`]).
pub async fn validate(
    settings: &Settings,
    fail_on_pending: bool,
    allow_out_of_order: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<Validation, Error> {
    Migrator::configured(Directory::from_settings(settings), settings)
        .validate(fail_on_pending, allow_out_of_order, notify)
        .await
}
