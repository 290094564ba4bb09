//! Running one verb over a fleet: a pool of concurrent workers, a canary
//! wave first, and a stop once too many targets failed. Every start and
//! finish is written to the run's ledger before the next step, so a
//! killed run can be resumed where it stood.

use super::ledger::{now, Ledger, LedgerEntry, TargetState};
use super::target::Target;
use crate::model::duration::elapsed_ms;
use crate::Error;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// How a fleet run proceeds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Waves {
    /// How many targets run at once (each with its own connection).
    pub concurrency: usize,
    /// How many targets (the first of the list) run first; the rest start
    /// only if every one of them succeeded.
    pub canary: usize,
    /// After this many failed targets no new one starts (those running
    /// finish); 0: never stop.
    pub max_failures: usize,
}

impl Waves {
    /// Every target, whatever fails: for the verbs that only read.
    pub fn all(concurrency: usize) -> Self {
        Self {
            concurrency,
            canary: 0,
            max_failures: 0,
        }
    }
}

/// What the work on one target produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    /// Whether the target counts as failed.
    pub failed: bool,
    /// How many migrations were applied (or rolled back).
    pub applied: usize,
    /// The target's version afterwards.
    pub version: Option<String>,
    /// Why it failed (the whole error message, no password).
    pub error: Option<String>,
    /// The exit code a single-database run would have had.
    pub exit_code: Option<crate::ExitCode>,
    /// What the verb has to say about the target, for `--format json`.
    pub details: serde_json::Value,
    /// For a rollback: the version the target is rolled back to.
    pub rollback_to: Option<String>,
    /// Something the report should say about the target beside its
    /// outcome (a resumed target whose history disagreed with the ledger).
    pub note: Option<String>,
}

/// One target's line of the final report.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct TargetResult {
    /// The target (no password).
    pub target: String,
    /// done, failed, not-run or skipped.
    pub state: TargetState,
    /// How many migrations were applied (or rolled back).
    pub applied: usize,
    /// Its version afterwards (for a skipped target: as the ledger had it).
    pub version: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// The exit code a single-database run would have had.
    pub exit_code: Option<crate::ExitCode>,
    /// What the verb has to say about it.
    pub details: serde_json::Value,
    /// What else the report says about it (e.g. the ledger disagreed with
    /// its history), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl TargetResult {
    /// A target this run did not start (skipped or not run).
    fn untouched(target: &Target, state: TargetState, version: Option<String>) -> Self {
        Self {
            target: target.name().to_string(),
            state,
            applied: 0,
            version,
            duration_ms: 0,
            error: None,
            exit_code: None,
            details: serde_json::Value::Null,
            note: None,
        }
    }
}

/// Runs `work` on every target as `waves` say, recording each start and
/// finish. A target that `previous` (the ledger of the run being resumed)
/// has as done is run too, as a re-check against the current files (a
/// migration added or edited since is applied or refused, never skipped),
/// and reported `skipped` when that found nothing to do.
/// `finished` is told about every target as it ends.
/// Once `stop` is set (a signal), no new target starts; those running
/// finish and the rest are `not-run`.
/// Results come in the targets' order. A ledger that cannot be written
/// stops the run (no new target starts) and is the error returned.
pub async fn run<W, F>(
    targets: &[Target],
    previous: &HashMap<String, LedgerEntry>,
    waves: Waves,
    ledger: &Ledger,
    work: W,
    finished: &mut (dyn FnMut(&TargetResult) + Send),
    stop: &AtomicBool,
) -> Result<Vec<TargetResult>, Error>
where
    W: Fn(Target, Option<LedgerEntry>) -> F,
    F: Future<Output = Outcome>,
{
    let fixed_rollback = |name: &str| previous.get(name).and_then(|e| e.rollback_to.clone());
    let finished_before = |name: &str| {
        previous
            .get(name)
            .is_some_and(|entry| entry.state == TargetState::Done)
    };
    let mut results: Vec<Option<TargetResult>> = vec![None; targets.len()];
    let pending: Vec<usize> = (0..targets.len()).collect();
    let concurrency = waves.concurrency.max(1);
    let (canaries, rest) = pending.split_at(waves.canary.min(pending.len()));
    let mut failures = 0usize;
    let mut ledger_error: Option<Error> = None;
    let mut stopped = false;
    for (number, wave) in [canaries, rest].into_iter().enumerate() {
        if stopped {
            break;
        }
        let mut queue = wave.iter().copied();
        let mut running = FuturesUnordered::new();
        loop {
            while !stopped && !stop.load(Ordering::SeqCst) && running.len() < concurrency {
                let Some(index) = queue.next() else { break };
                let target = targets[index].clone();
                let entry = LedgerEntry::now(
                    target.name(),
                    TargetState::Running,
                    fixed_rollback(target.name()),
                );
                if let Err(e) = ledger.record(&entry).await {
                    ledger_error = Some(e);
                    stopped = true;
                    break;
                }
                let before = previous.get(target.name()).cloned();
                let started = Instant::now();
                let job = work(target, before);
                running.push(async move { (index, job.await, elapsed_ms(started)) });
            }
            let Some((index, outcome, duration_ms)) = running.next().await else {
                break;
            };
            let failed = outcome.failed;
            let name = targets[index].name();
            let (result, entry) = finish(name, outcome, duration_ms, finished_before(name));
            if let Err(e) = ledger.record(&entry).await {
                ledger_error.get_or_insert(e);
                stopped = true;
            }
            if failed {
                failures += 1;
                if waves.max_failures > 0 && failures >= waves.max_failures {
                    stopped = true;
                }
            }
            finished(&result);
            results[index] = Some(result);
        }
        // A failed canary stops the rest.
        if number == 0 && failures > 0 {
            stopped = true;
        }
    }
    if let Some(error) = ledger_error {
        return Err(error);
    }
    let mut out = Vec::with_capacity(targets.len());
    for (index, result) in results.into_iter().enumerate() {
        let result = match result {
            Some(result) => result,
            None => {
                let target = &targets[index];
                let result = not_run(target, ledger, fixed_rollback(target.name())).await?;
                finished(&result);
                result
            }
        };
        out.push(result);
    }
    Ok(out)
}

/// A finished target's result, and its ledger entry (`Skipped` when it had
/// finished before and this run changed nothing).
fn finish(
    name: &str,
    outcome: Outcome,
    duration_ms: i64,
    finished_before: bool,
) -> (TargetResult, LedgerEntry) {
    let state = if outcome.failed {
        TargetState::Failed
    } else {
        TargetState::Done
    };
    let rechecked = state == TargetState::Done && outcome.applied == 0 && finished_before;
    let result = TargetResult {
        target: name.to_string(),
        state: if rechecked {
            TargetState::Skipped
        } else {
            state
        },
        applied: outcome.applied,
        version: outcome.version.clone(),
        duration_ms,
        error: outcome.error.clone(),
        exit_code: outcome.exit_code,
        details: outcome.details,
        note: outcome.note,
    };
    let entry = LedgerEntry {
        target: result.target.clone(),
        state,
        at: now(),
        version: outcome.version,
        applied: outcome.applied,
        error: outcome.error,
        rollback_to: outcome.rollback_to,
    };
    (result, entry)
}

/// A target the run never started, recorded so.
async fn not_run(
    target: &Target,
    ledger: &Ledger,
    rollback_to: Option<String>,
) -> Result<TargetResult, Error> {
    let result = TargetResult::untouched(target, TargetState::NotRun, None);
    ledger
        .record(&LedgerEntry::now(
            &result.target,
            TargetState::NotRun,
            rollback_to,
        ))
        .await?;
    Ok(result)
}
