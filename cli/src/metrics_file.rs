//! `--metrics-file PATH`: after `migrate`, `rollback`, `fleet …` and
//! `backup …`, the run's metrics are written to PATH in Prometheus text
//! format (see [`crate::metrics`]). Verbs note what their reports
//! say; the outcome (time, duration, success) is added once the command
//! has ended, however it ended.

use crate::metrics::{self, Sample};
use crate::opt::{BackupAction, Command};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

static NOTED: Mutex<Vec<Sample>> = Mutex::new(Vec::new());

/// Keeps what a report says, for the metrics file.
pub(crate) fn note(samples: Vec<Sample>) {
    if let Ok(mut noted) = NOTED.lock() {
        noted.extend(samples);
    }
}

/// The `command` label of a command that writes metrics (`None`: it writes none).
pub(crate) fn command_label(command: &Command) -> Option<String> {
    Some(match command {
        Command::Migrate(_) => "migrate".into(),
        Command::Rollback(_) => "rollback".into(),
        Command::Fleet { action, .. } => format!("fleet {}", fleet_verb(action)),
        Command::Backup { action, .. } => format!(
            "backup {}",
            match action {
                BackupAction::Create { .. } => "create",
                BackupAction::Verify { .. } => "verify",
                BackupAction::Restore { .. } => "restore",
                BackupAction::Prune { .. } => "prune",
                _ => return None,
            }
        ),
        _ => return None,
    })
}

fn fleet_verb(action: &crate::opt::FleetAction) -> &'static str {
    use crate::opt::FleetAction;
    match action {
        FleetAction::Migrate { .. } => "migrate",
        FleetAction::Status { .. } => "status",
        FleetAction::Validate { .. } => "validate",
        FleetAction::Rollback { .. } => "rollback",
        FleetAction::Diff => "diff",
    }
}

/// Writes the outcome and what was noted to `path`; a file that cannot be
/// written is a warning (the deploy itself went as it went).
pub(crate) fn write(path: &Path, command: &str, database: &str, duration: Duration, success: bool) {
    let noted: Vec<Sample> = NOTED
        .lock()
        .map(|mut n| std::mem::take(&mut *n))
        .unwrap_or_default();
    // The database the report names (the development server's, say),
    // else the configured one.
    let database = noted
        .iter()
        .flat_map(|s| &s.labels)
        .find(|(name, _)| *name == "database")
        .map_or_else(
            || metrics::database_label(database),
            |(_, value)| value.clone(),
        );
    let mut samples = metrics::of_outcome(command, &database, duration, success);
    samples.extend(noted);
    if let Err(e) = metrics::update_file(path, &samples) {
        crate::output::stderr_line(&format!(
            "warning: {e}; the monitoring sees no record of this run"
        ));
    }
}
