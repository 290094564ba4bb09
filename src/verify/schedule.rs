//! `verify --jobs N`: the migrations to verify cut into runs of consecutive
//! migrations (chunks) that workers take in order, each on its own scratch
//! database, which it brings forward by applying the up scripts of the
//! chunks the others verify; and the verdicts put back in order, so that
//! the report is the one a single worker would give.

use super::report::{MigrationResult, Step, Stopped};
use crate::catalog::table_data::UnfillableTable;
use crate::model::Migration;
use crate::runner::Notice;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The fewest migrations a chunk holds: below that, bringing a second
/// scratch database forward costs more than it saves.
const SMALLEST_CHUNK: usize = 8;

/// Chunks per worker: enough that one slow chunk does not leave the other
/// workers idle for long, few enough that the snapshot each chunk starts
/// with stays a small share of the work.
const CHUNKS_PER_WORKER: usize = 8;

/// The chunks of the migrations from `first` to `last` (exclusive) for
/// `jobs` workers: one chunk for one worker.
pub(crate) fn chunks(first: usize, last: usize, jobs: usize) -> Vec<Range<usize>> {
    let total = last.saturating_sub(first);
    if jobs <= 1 || total < 2 * SMALLEST_CHUNK {
        return std::iter::once(first..last.max(first)).collect();
    }
    let size = total.div_ceil(jobs * CHUNKS_PER_WORKER).max(SMALLEST_CHUNK);
    (first..last)
        .step_by(size)
        .map(|start| start..(start + size).min(last))
        .collect()
}

/// Where and why a worker could not go on.
#[derive(Debug)]
pub(crate) struct StopAt {
    /// The migration (index into the run's migrations).
    pub index: usize,
    /// The step.
    pub step: Step,
    /// Why.
    pub error: String,
}

/// What the workers share: the chunks still to take, the earliest stop
/// so far, and what they found.
pub(crate) struct Board<'p> {
    chunks: Vec<Range<usize>>,
    next_chunk: AtomicUsize,
    /// The index of the earliest stop so far (`usize::MAX`: none).
    first_stop: AtomicUsize,
    found: Mutex<Found<'p>>,
}

struct Found<'p> {
    results: BTreeMap<usize, MigrationResult>,
    stops: Vec<StopAt>,
    unfillable: BTreeMap<String, UnfillableTable>,
    total: usize,
    notify: &'p mut (dyn FnMut(Notice) + Send),
}

/// The task a verify run's [`Notice::Progress`] names; it counts migrations.
pub(crate) const VERIFY_TASK: &str = "verifying";

/// The verdicts in order: migrations applied plainly, one result per
/// verified migration, and where the run stopped.
pub(crate) struct Verdicts {
    pub applied_plainly: usize,
    pub results: Vec<MigrationResult>,
    pub stopped: Option<Stopped>,
    pub unfillable: Vec<UnfillableTable>,
}

impl<'p> Board<'p> {
    /// A board for `chunks`, telling `notify` the progress over all they
    /// hold ([`Notice::Progress`], task [`VERIFY_TASK`]).
    pub(crate) fn new(
        chunks: Vec<Range<usize>>,
        notify: &'p mut (dyn FnMut(Notice) + Send),
    ) -> Self {
        let total = chunks.iter().map(ExactSizeIterator::len).sum();
        Self {
            chunks,
            next_chunk: AtomicUsize::new(0),
            first_stop: AtomicUsize::new(usize::MAX),
            found: Mutex::new(Found {
                results: BTreeMap::new(),
                stops: Vec::new(),
                unfillable: BTreeMap::new(),
                total,
                notify,
            }),
        }
    }

    /// How many chunks there are (no more workers than that are useful).
    pub(crate) fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// The next chunk in order, unless the run already stopped before it.
    pub(crate) fn take_chunk(&self) -> Option<Range<usize>> {
        let chunk = self
            .chunks
            .get(self.next_chunk.fetch_add(1, Ordering::SeqCst))?;
        (!self.stopped_before(chunk.start)).then(|| chunk.clone())
    }

    /// Whether a worker stopped at a migration before `index`: later
    /// verdicts would be thrown away.
    pub(crate) fn stopped_before(&self, index: usize) -> bool {
        self.first_stop.load(Ordering::SeqCst) < index
    }

    fn found(&self) -> std::sync::MutexGuard<'_, Found<'p>> {
        // A worker that panicked holding the lock left whole entries only.
        self.found
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One migration's verdict.
    pub(crate) fn result(&self, index: usize, result: MigrationResult) {
        let mut found = self.found();
        found.results.insert(index, result);
        let (done, total) = (found.results.len(), found.total);
        (found.notify)(Notice::Progress {
            task: VERIFY_TASK,
            done: done as u64,
            total: Some(total as u64),
            bytes: false,
        });
    }

    /// A worker could not go on.
    pub(crate) fn stop(&self, stop: StopAt) {
        self.first_stop.fetch_min(stop.index, Ordering::SeqCst);
        self.found().stops.push(stop);
    }

    /// Tables a worker could not give rows (`--data`).
    pub(crate) fn unfillable(&self, tables: BTreeMap<String, UnfillableTable>) {
        let mut found = self.found();
        for (name, table) in tables {
            found.unfillable.entry(name).or_insert(table);
        }
    }

    /// The verdicts in order, cut at the earliest stop. At one migration,
    /// the stop of the worker that verified it wins over a worker that only
    /// brought its database forward through it.
    pub(crate) fn verdicts(self, local: &[Migration], plain: usize) -> Verdicts {
        let found = self
            .found
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let first = found
            .stops
            .into_iter()
            .min_by_key(|stop| (stop.index, stop.step == Step::CatchUp));
        let mut results: Vec<MigrationResult> = found
            .results
            .into_iter()
            .filter(|(index, _)| first.as_ref().is_none_or(|stop| *index <= stop.index))
            .map(|(_, result)| result)
            .collect();
        let unfillable = found.unfillable.into_values().collect();
        let Some(stop) = first else {
            return Verdicts {
                applied_plainly: plain,
                results,
                stopped: None,
                unfillable,
            };
        };
        if stop.step == Step::Rebuild {
            // The database was not built again after it.
            if let Some(last) = results.last_mut() {
                last.rebuilt = false;
            }
        }
        let migration = &local[stop.index];
        let stopped = Stopped {
            version: migration.version.clone(),
            migration: migration.label(),
            step: stop.step,
            error: stop.error,
            // Those after it, and never one `--from` left out.
            not_verified: local[(stop.index + 1).max(plain)..]
                .iter()
                .map(Migration::label)
                .collect(),
        };
        let applied_plainly = if stop.step == Step::Apply {
            results.clear();
            stop.index
        } else {
            plain
        };
        Verdicts {
            applied_plainly,
            results,
            stopped: Some(stopped),
            unfillable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_worker_or_few_migrations_make_one_chunk() {
        for (first, last, jobs) in [(0, 500, 1), (3, 15, 4), (0, 0, 2)] {
            let cut = chunks(first, last, jobs);
            assert_eq!(cut.len(), 1);
            assert_eq!((cut[0].start, cut[0].end), (first, last));
        }
    }

    #[test]
    fn chunks_cover_every_migration_once_in_order() {
        for (first, last, jobs) in [(0, 500, 2), (10, 285, 2), (0, 17, 8), (5, 1000, 16)] {
            let cut = chunks(first, last, jobs);
            assert!(cut.len() > 1, "{first}..{last} for {jobs} jobs");
            assert_eq!(cut.first().map(|c| c.start), Some(first));
            assert_eq!(cut.last().map(|c| c.end), Some(last));
            assert!(cut.windows(2).all(|w| w[0].end == w[1].start));
            let whole = &cut[..cut.len() - 1];
            assert!(whole.iter().all(|c| c.len() >= SMALLEST_CHUNK), "{cut:?}");
        }
        assert_eq!(chunks(0, 500, 2).len(), CHUNKS_PER_WORKER * 2);
    }
}
