//! A migration's unfinished row, told apart by the server: the run that
//! started it ended, or is still going.

use super::driver::Driver;
use crate::error::UnfinishedRun;
use crate::model::history::AppliedMigration;
use crate::model::plan::{State, StatusRow};
use crate::{Error, Problem};

/// Asks the server, for each unfinished row among `problems`, whether the
/// run that started it is still going (`holding_lock`: the caller holds
/// the migration lock). When the question fails, the row stays unchecked.
pub(super) async fn ask_server(driver: &impl Driver, problems: &mut [Problem], holding_lock: bool) {
    for problem in problems.iter_mut() {
        if let Problem::Failed {
            version,
            unfinished: Some(unfinished),
            ..
        } = problem
        {
            if let Ok(answer) = driver.unfinished_run(version, holding_lock).await {
                *unfinished = answer;
            }
        }
    }
}

/// [`ask_server`] for the problems of a refusal.
pub(super) async fn ask_server_of(driver: &impl Driver, error: Error, holding_lock: bool) -> Error {
    match error {
        Error::HistoryMismatch(mut problems) => {
            ask_server(driver, &mut problems, holding_lock).await;
            Error::HistoryMismatch(problems)
        }
        other => other,
    }
}

/// Why `row` must not be repaired yet: its `no-transaction` script is still
/// running in the session that started it (which the caller's lock does
/// not rule out: a script can let go of the migration lock). Said in the
/// words `status` uses for that problem, with the session and what to do.
pub(super) async fn still_running(driver: &impl Driver, row: &AppliedMigration) -> Option<String> {
    if !row.is_unfinished() {
        return None;
    }
    match driver.unfinished_run(&row.version, true).await {
        Ok(going @ UnfinishedRun::Going { .. }) => {
            let problem = Problem::Failed {
                version: row.version.clone(),
                name: row.name.clone(),
                error: None,
                unfinished: Some(going),
            };
            Some(format!(
                "{problem}
`repair` changes nothing while it runs."
            ))
        }
        _ => None,
    }
}

/// Shows the migrations whose run the server says is still going as
/// running, not failed.
pub(super) fn mark_running(problems: &[Problem], migrations: &mut [StatusRow]) {
    for problem in problems {
        if let Problem::Failed {
            version,
            unfinished: Some(UnfinishedRun::Going { .. }),
            ..
        } = problem
        {
            for row in migrations.iter_mut().filter(|r| &r.version == version) {
                row.state = State::Running;
            }
        }
    }
}
