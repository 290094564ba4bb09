//! A migration's unfinished row, told apart by the server: the run that
//! started it ended, or is still going.

use super::driver::Driver;
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
