//! `schemactl repair`: the audited way out of a failed or modified state
//! (see [`Migrator::repair`]).

use crate::config::Settings;
use crate::runner::Notice;
use crate::source::Directory;
use crate::{Error, Migrator};

pub use crate::runner::Repair;

/// Applies `repair` and returns a sentence saying what was done.
pub async fn repair(
    settings: &Settings,
    repair: Repair,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<String, Error> {
    Migrator::configured(Directory::from_settings(settings), settings)
        .repair(repair, notify)
        .await
}
