//! A migration's unfinished row, told apart by the server: the run that
//! started it ended, or is still going (it still holds the migration lock).

use super::driver::Driver;
use crate::error::UnfinishedRun;
use crate::{Error, Problem};

/// Asks the server (without taking the lock) whether the runs of the
/// unfinished rows among `problems` still hold the migration lock. When
/// the question fails, they stay unchecked.
pub(super) async fn ask_server(driver: &impl Driver, problems: &mut [Problem]) {
    if !problems.iter().any(is_unchecked) {
        return;
    }
    let Ok(holders) = driver.lock_holders().await else {
        return;
    };
    for problem in problems.iter_mut() {
        if let Problem::Failed { unfinished, .. } = problem {
            if unfinished.is_some() {
                *unfinished = Some(UnfinishedRun::from_holders(holders.clone()));
            }
        }
    }
}

/// [`ask_server`] for a refusal made without the lock (a dry run).
pub(super) async fn ask_server_of(driver: &impl Driver, error: Error) -> Error {
    match error {
        Error::HistoryMismatch(mut problems) => {
            ask_server(driver, &mut problems).await;
            Error::HistoryMismatch(problems)
        }
        other => other,
    }
}

/// A refusal made under the migration lock: this run holds it, so no other
/// run is going and every unfinished row's run ended.
pub(super) fn under_lock(error: Error) -> Error {
    match error {
        Error::HistoryMismatch(mut problems) => {
            for problem in &mut problems {
                if let Problem::Failed { unfinished, .. } = problem {
                    if unfinished.is_some() {
                        *unfinished = Some(UnfinishedRun::Ended);
                    }
                }
            }
            Error::HistoryMismatch(problems)
        }
        other => other,
    }
}

fn is_unchecked(problem: &Problem) -> bool {
    matches!(
        problem,
        Problem::Failed {
            unfinished: Some(UnfinishedRun::Unchecked),
            ..
        }
    )
}
