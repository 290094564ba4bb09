//! Settling an attempt at a migration's script: a success stands; a lock
//! timeout is tried again (1 s, 2 s, 4 s … while `--lock-retries` and the
//! budget last, each attempt an event naming who held the lock); the loss
//! of the history's prepared statements once more with unnamed ones; any
//! other failure is returned with what the server can add to it.

use super::executor;
use super::history_table::{HistoryWriter, NewEvent};
use super::{invalid_indexes, lock_blockers};
use crate::config::ExecutionSettings;
use crate::model::duration::elapsed_ms;
use crate::model::history::EventKind;
use crate::model::{Direction, Migration};
use crate::runner::notice::Notice;
use crate::{Error, LockContention};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// What runs a migration's script again after a failure worth retrying.
pub(super) struct Attempts<'a> {
    pub(super) client: &'a Client,
    pub(super) writer: &'a HistoryWriter,
    pub(super) execution: &'a ExecutionSettings,
}

impl Attempts<'_> {
    /// Settles the first attempt at `migration`'s script (begun at
    /// `started`): a success stands; after a lock timeout it runs again
    /// while the retry budget lasts, after the loss of the history's
    /// prepared statements once with unnamed ones; any other failure is
    /// returned with what the server can add to it.
    pub(super) async fn settle(
        &self,
        migration: &Migration,
        direction: Direction,
        surrounding: Option<&super::executor::Surrounding>,
        (started, first): (Instant, Result<i64, Box<crate::MigrationFailure>>),
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<i64, Error> {
        let (client, writer, execution) = (self.client, self.writer, self.execution);
        let script = match direction {
            Direction::Up => Some(&migration.up),
            Direction::Down => migration.down.as_ref(),
        };
        let outside_transaction =
            script.is_some_and(|s| s.execution() != crate::model::Execution::Transaction);
        let mut attempt: u32 = 1;
        let mut result = first;
        loop {
            let mut failure = match result {
                Ok(ms) => return Ok(ms),
                Err(failure) if failure.is_retryable_lock_timeout() => failure,
                // The script deallocated the history statements, and its
                // transaction was rolled back (the server says so): run it
                // again, with the history written by unnamed statements.
                Err(failure) if failure.lost_history_statements() && writer.use_unnamed() => {
                    result = run_once(client, writer, migration, direction, execution, surrounding)
                        .await;
                    continue;
                }
                Err(mut failure) => {
                    if outside_transaction {
                        failure.invalid_indexes =
                            invalid_indexes::find(client).await.unwrap_or_default();
                    }
                    // A syntax error may be newer syntax on an older server.
                    if failure.code.is_some() {
                        failure.server_version = server_version(client).await;
                    }
                    return Err(Error::MigrationFailed(failure));
                }
            };
            let blockers = lock_blockers::find(client, &failure.statement)
                .await
                .unwrap_or_default();
            // 1 s, 2 s, 4 s, … while the budget lasts.
            let pause = Duration::from_secs(1 << (attempt - 1).min(5));
            let retry = attempt <= execution.lock_retries
                && started.elapsed() + pause < execution.lock_retry_budget;
            let detail = lock_timeout_detail(
                attempt,
                &failure.statement,
                retry.then_some(pause),
                &blockers,
            );
            let event = NewEvent {
                kind: EventKind::LockTimeout,
                version: migration.version.clone(),
                name: &migration.name,
                checksum: script.map(|s| &s.checksum),
                execution_ms: Some(elapsed_ms(started)),
                detail: Some(&detail),
            };
            let _ = writer.event(client, &event).await;
            if !retry {
                failure.lock_contention = Some(LockContention {
                    attempts: attempt,
                    blockers,
                });
                return Err(Error::MigrationFailed(failure));
            }
            notify(Notice::Warning(&format!("{}: {detail}", migration.label())));
            tokio::time::sleep(pause).await;
            attempt += 1;
            result = run_once(client, writer, migration, direction, execution, surrounding).await;
        }
    }
}

/// One attempt at `migration`'s script in `direction`, with its history row.
pub(super) async fn run_once(
    client: &Client,
    writer: &HistoryWriter,
    migration: &Migration,
    direction: Direction,
    execution: &ExecutionSettings,
    surrounding: Option<&executor::Surrounding>,
) -> Result<i64, Box<crate::MigrationFailure>> {
    match direction {
        Direction::Up => {
            executor::apply_surrounded(client, writer, migration, execution, None, surrounding)
                .await
        }
        Direction::Down => {
            executor::revert_surrounded(client, writer, migration, execution, None, surrounding)
                .await
        }
    }
}

/// What a lock timeout's event and warning say: the attempt, the statement,
/// the next pause (`None`: giving up) and who held the lock.
fn lock_timeout_detail(
    attempt: u32,
    statement: &str,
    next_pause: Option<Duration>,
    blockers: &[lock_blockers::Blocker],
) -> String {
    format!(
        "attempt {attempt}: timed out waiting for a lock ({}){}{}",
        statement.lines().next().unwrap_or_default(),
        match next_pause {
            Some(pause) => format!("; trying again in {} s", pause.as_secs()),
            None => "; giving up".to_string(),
        },
        blockers
            .iter()
            .map(|b| format!("; blocked by {b}"))
            .collect::<String>()
    )
}

/// The server's version (`15.18 (Debian 15.18-0+deb12u1)`), for failure
/// messages; `None` when it cannot be read (the connection broke).
async fn server_version(client: &Client) -> Option<String> {
    let rows = client.simple_query("SHOW server_version").await.ok()?;
    rows.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    })
}
