//! Transactional migrations back to back on one connection: each one's
//! messages are sent behind the previous one's `COMMIT` rather than after
//! its answer, so a run of small migrations costs the server's work and
//! not a round trip each. Every migration is still its own transaction
//! with its history row, and commits only behind one that committed (see
//! [`super::executor::Link`]); a failure stops the chain exactly where a
//! one-at-a-time run would stop, and is settled (retried after a lock
//! timeout, explained otherwise) as one.

use super::attempts::Attempts;
use super::executor::{self, fate, Link, Ran};
use crate::model::{Direction, Migration};
use crate::runner::notice::Notice;
use crate::{Error, MigrationFailure};
use futures_util::stream::{FuturesOrdered, StreamExt};
use std::collections::VecDeque;
use std::time::Instant;
use tokio::sync::oneshot;

/// Runs `plan` (transactional scripts only) in `direction`, chained, telling
/// `notify` of each as a one-at-a-time run would. Returns the durations of
/// those that ran and what stopped the rest.
pub(super) async fn apply_chained(
    attempts: &Attempts<'_>,
    plan: &[&Migration],
    direction: Direction,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> (Vec<i64>, Result<(), Error>) {
    let mut done = Vec::with_capacity(plan.len());
    let mut from = 0;
    while from < plan.len() {
        let rest = &plan[from..];
        let before = done.len();
        let (index, first) = match chain(attempts, rest, direction, notify, &mut done).await {
            Some(stop) => (stop.index, (stop.started, Err(stop.failure))),
            None => {
                // Every run committed, or the chain ended early without a
                // failure (a run withdrawn for no reason it was told): what
                // did not commit is sent again, never counted as run.
                from += done.len() - before;
                if done.len() > before {
                    continue;
                }
                // Not even its first run committed: that one runs on its
                // own (the chain told `Running` for it) and is settled like
                // a failed one, so the loop always moves on.
                let started = Instant::now();
                let (client, writer, execution) =
                    (attempts.client, attempts.writer, attempts.execution);
                let first =
                    super::attempts::run_once(client, writer, rest[0], direction, execution, None)
                        .await;
                (0, (started, first))
            }
        };
        let migration = rest[index];
        match attempts
            .settle(migration, direction, None, first, notify)
            .await
        {
            Ok(execution_ms) => {
                notify(Notice::Done {
                    action: direction.past_tense(),
                    label: &migration.label(),
                    execution_ms,
                });
                done.push(execution_ms);
                from += index + 1;
            }
            Err(error) => return (done, Err(error)),
        }
    }
    (done, Ok(()))
}

/// Where a chain stopped: the failed migration (its index in the chain)
/// and when it began.
struct Stop {
    index: usize,
    started: Instant,
    failure: Box<MigrationFailure>,
}

/// What the chain's loop hears next.
enum Heard {
    /// A run's `COMMIT` is on its way (its transaction id), or it never
    /// will be (`None`).
    Queued(Option<String>),
    /// The oldest run in flight finished (`None`: none is in flight).
    Finished(Option<Result<Ran, Box<MigrationFailure>>>),
}

/// Runs `plan` chained until its end or its first failure, which is
/// returned once every run sent behind it is withdrawn.
async fn chain(
    attempts: &Attempts<'_>,
    plan: &[&Migration],
    direction: Direction,
    notify: &mut (dyn FnMut(Notice) + Send),
    done: &mut Vec<i64>,
) -> Option<Stop> {
    let (client, writer, execution) = (attempts.client, attempts.writer, attempts.execution);
    let mut in_flight = FuturesOrdered::new();
    // For each run in flight, oldest first: when it began, and its fate.
    let mut pending: VecDeque<(Instant, oneshot::Sender<bool>)> = VecDeque::new();
    let mut queued: Option<oneshot::Receiver<String>> = None;
    let mut last_fate = None;
    let (mut started, mut finished) = (0, 0);
    let mut stop: Option<Stop> = None;
    notify(Notice::Running {
        label: &plan[0].label(),
    });
    // The next run to send, behind which run (`Some(None)`: behind none).
    let mut after = Some(None);
    loop {
        if let Some(previous) = after.take() {
            let (told, fate_of_this) = fate();
            let (tell_queued, hear_queued) = oneshot::channel();
            let next = started + 1 < plan.len();
            let link = Link {
                after: previous,
                queued: next.then_some(tell_queued),
            };
            let migration = plan[started];
            in_flight.push_back(executor::run_linked(
                client, writer, migration, direction, execution, link,
            ));
            pending.push_back((Instant::now(), told));
            last_fate = Some(fate_of_this);
            queued = next.then_some(hear_queued);
            started += 1;
        }
        let heard = {
            let queued = async {
                match queued.as_mut() {
                    Some(receiver) if stop.is_none() => receiver.await.ok(),
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                transaction = queued => Heard::Queued(transaction),
                result = in_flight.next() => Heard::Finished(result),
            }
        };
        match heard {
            Heard::Queued(transaction) => {
                queued = None;
                after = transaction
                    .zip(last_fate.clone())
                    .filter(|_| started < plan.len())
                    .map(Some);
            }
            Heard::Finished(None) => return stop,
            Heard::Finished(Some(result)) => {
                let Some((began, told)) = pending.pop_front() else {
                    return stop;
                };
                let index = finished;
                finished += 1;
                match result {
                    Ok(Ran::Committed(execution_ms)) if stop.is_none() => {
                        let _ = told.send(true);
                        let label = plan[index].label();
                        notify(Notice::Done {
                            action: direction.past_tense(),
                            label: &label,
                            execution_ms,
                        });
                        done.push(execution_ms);
                        if let Some(next) = plan.get(index + 1) {
                            notify(Notice::Running {
                                label: &next.label(),
                            });
                        }
                    }
                    // Withdrawn (or, impossibly, committed behind a failure):
                    // the stop already says where the run ended.
                    Ok(_) => drop(told),
                    Err(failure) => {
                        drop(told);
                        queued = None;
                        stop.get_or_insert(Stop {
                            index,
                            started: began,
                            failure,
                        });
                    }
                }
            }
        }
    }
}
