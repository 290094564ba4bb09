//! One `verify` worker: takes chunks of consecutive migrations in order,
//! brings its scratch database to the state before each chunk (applying
//! the up scripts in between, or building it again from the up scripts
//! after a dirty round trip) and checks the chunk's migrations one by one.

use super::report::Step;
use super::round_trips::{brief, Next, Run, Workspace};
use super::schedule::{Board, StopAt};
use crate::catalog::Snapshot;
use crate::model::Migration;
use crate::Error;

/// Where a worker's scratch database is.
struct Position {
    /// It holds the up scripts of the migrations before this index.
    applied: usize,
    /// The round trip of this migration left it in another state than a
    /// clean up would: it must be built again before going on.
    dirty_after: Option<usize>,
    /// Its schema, when read at `applied` and not changed since.
    snapshot: Option<Snapshot>,
}

impl Run<'_> {
    /// Checks chunks from `board` until none is left or the run stopped
    /// before the next one; `plain` migrations are only applied.
    pub(super) async fn work(
        &mut self,
        local: &[Migration],
        plain: usize,
        board: &Board<'_>,
    ) -> Result<(), Error> {
        let empty = self.snapshot().await?;
        if !empty.is_empty() {
            return Err(Error::refused(crate::error::refusal::RefusalKind::ScratchServer, format!(
                "the scratch database {} is not empty (its template has objects); point --dev-url at another server",
                self.space.scratch.target().display()
            )));
        }
        let mut at = Position {
            applied: 0,
            dirty_after: None,
            snapshot: Some(empty),
        };
        while let Some(chunk) = board.take_chunk() {
            if let Err(stop) = self.bring_to(local, plain, chunk.start, &mut at).await {
                board.stop(stop);
                return Ok(());
            }
            for index in chunk.clone() {
                if board.stopped_before(index) {
                    return Ok(());
                }
                let before = match at.snapshot.take() {
                    Some(snapshot) => snapshot,
                    None => self.snapshot().await?,
                };
                if !self.check_one(local, index, before, board, &mut at).await? {
                    return Ok(());
                }
                // Within the chunk, build it again now; at its end, the
                // next chunk this worker takes (if any) starts elsewhere.
                let next = index + 1;
                if at.dirty_after.is_some() && next < chunk.end {
                    if let Err(stop) = self.bring_to(local, plain, next, &mut at).await {
                        board.stop(stop);
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks `local[index]` from the schema `before` it and moves `at`
    /// past it; `false` when the run cannot go on.
    async fn check_one(
        &mut self,
        local: &[Migration],
        index: usize,
        before: Snapshot,
        board: &Board<'_>,
        at: &mut Position,
    ) -> Result<bool, Error> {
        let (mut result, next) = self.check(&local[index], before).await?;
        at.applied = index + 1;
        match next {
            Next::Clean(snapshot) => {
                at.snapshot = Some(snapshot);
                board.result(index, result);
            }
            Next::Stop(step, error) => {
                board.result(index, result);
                board.stop(StopAt { index, step, error });
                return Ok(false);
            }
            Next::Dirty => {
                // The next migration is judged on a database built again
                // from the up scripts: here, or by the worker that takes it.
                result.rebuilt = index + 1 < local.len();
                board.result(index, result);
                at.dirty_after = Some(index);
            }
        }
        Ok(true)
    }

    /// Brings the scratch database to the state before `local[target]`:
    /// built again from the up scripts when dirty, then the up scripts
    /// from where it is. A failing up script stops the run: before `plain`
    /// as applying it, up to the dirty migration as the rebuild after it,
    /// past it as bringing this database forward.
    async fn bring_to(
        &mut self,
        local: &[Migration],
        plain: usize,
        target: usize,
        at: &mut Position,
    ) -> Result<(), StopAt> {
        if let Some(dirty) = at.dirty_after {
            self.start_again().await.map_err(|error| StopAt {
                index: dirty,
                step: Step::Rebuild,
                error: error.to_string(),
            })?;
            at.applied = 0;
            at.snapshot = None;
        }
        let from = at.applied;
        for (index, migration) in local.iter().enumerate().take(target).skip(from) {
            at.snapshot = None;
            if let Err(failure) = self.apply(migration).await {
                let (index, step) = match at.dirty_after {
                    Some(dirty) if index <= dirty => (dirty, Step::Rebuild),
                    _ if index < plain => (index, Step::Apply),
                    _ => (index, Step::CatchUp),
                };
                return Err(StopAt {
                    index,
                    step,
                    error: brief(&failure),
                });
            }
            at.applied = index + 1;
        }
        at.dirty_after = None;
        Ok(())
    }

    /// An empty scratch database again: this one emptied in place when the
    /// catalogs and the snapshot then read as a new database's, else a new
    /// database (and this one dropped).
    async fn start_again(&mut self) -> Result<(), Error> {
        let emptied = self.space.empty_in_place(self.settings).await;
        self.reader = None;
        if matches!(emptied, Ok(true)) && self.snapshot().await.is_ok_and(|s| s.is_empty()) {
            return Ok(());
        }
        let fresh = Workspace::create(self.dev, self.settings).await?;
        let old = std::mem::replace(&mut self.space, fresh);
        self.reader = None;
        old.drop_database().await
    }
}
