//! `schemactl verify`: prove on a scratch database that every down script
//! undoes its up script. For each migration k: snapshot S(k-1), apply up k,
//! snapshot S(k), apply down k, compare with S(k-1), apply up k again,
//! compare with S(k). The database in `DATABASE_URL` is never touched.
//!
//! Every migration gets a verdict: after a round trip that leaves the
//! scratch database in another state than a clean up would (a down that
//! does not restore, a failed `no-transaction` down, a failed re-apply),
//! the scratch database is rebuilt from the up scripts alone, so the next
//! migration is judged on its own. Only an up that cannot be applied (or a
//! rebuild that fails) ends the run, and the report says where and why.
//!
//! With `--data`, every empty table gets a few generated rows before each
//! up, and the rows of the tables that existed before it are compared after
//! its down (`schema::table_data`).

use super::cluster_objects;
use super::report::{MigrationLocks, MigrationResult, Outcome, Step, VerifyReport};
use super::schedule::{self, Board};
use crate::catalog::compare::unified_diff;
use crate::catalog::dump::history_tables;
use crate::catalog::table_data::{self, DataVerdict, TableRows, UnfillableTable};
use crate::catalog::{compare, reading, Difference, Snapshot, Tolerance};
use crate::config::Settings;
use crate::model::Direction;
use crate::model::Migration;
use crate::model::Version;
use crate::postgres::executor::{self, Trace};
use crate::postgres::history_table::HistoryWriter;
use crate::postgres::lock_trace::{self, LockTracer, StatementTrace};
use crate::postgres::scratch::ScratchDatabase;
use crate::postgres::scratch_reset::{self, FreshState};
use crate::postgres::DatabaseTarget;
use crate::runner::notice::Notice;
use crate::runner::session::dev_target;
use crate::{Error, MigrationFailure};
use std::collections::BTreeMap;
use std::time::Instant;
use tokio_postgres::Client;

/// What to verify.
#[derive(Debug, Clone)]
pub(crate) struct VerifyOptions {
    /// Apply older migrations plainly and verify from this version on.
    pub from: Option<Version>,
    /// Check rows too: generated rows must survive each up → down.
    pub data: bool,
    /// Trace the locks each statement takes.
    pub locks: bool,
    /// Workers, each on its own scratch database (`--jobs`).
    pub jobs: usize,
}

/// A scratch database with a session and a history writer on it, and a
/// second session that watches the first one's locks (`--locks`).
pub(super) struct Workspace {
    pub(super) scratch: ScratchDatabase,
    client: Client,
    writer: HistoryWriter,
    observer: Option<Client>,
    /// The database as created, to tell whether emptying it in place gave
    /// it back.
    fresh: FreshState,
}

impl Workspace {
    pub(super) async fn create(dev: &DatabaseTarget, settings: &Settings) -> Result<Self, Error> {
        let scratch = ScratchDatabase::create(dev).await?;
        let ready = async {
            let client = scratch.target().connect().await?;
            let fresh = FreshState::read(&client).await?;
            let writer = history_writer(&client, settings).await?;
            Ok::<_, Error>((client, writer, fresh))
        }
        .await;
        match ready {
            Ok((client, writer, fresh)) => Ok(Self {
                scratch,
                client,
                writer,
                observer: None,
                fresh,
            }),
            Err(error) => {
                let _ = scratch.drop_database().await;
                Err(error)
            }
        }
    }

    /// Empties the database in place and makes the history table again;
    /// `false` when the catalogs say it is not as created (create another).
    pub(super) async fn empty_in_place(&mut self, settings: &Settings) -> Result<bool, Error> {
        if !scratch_reset::empty_in_place(&self.client, &self.fresh).await? {
            return Ok(false);
        }
        self.writer = history_writer(&self.client, settings).await?;
        Ok(true)
    }

    pub(super) async fn drop_database(self) -> Result<(), Error> {
        drop(self.client);
        drop(self.observer);
        self.scratch.drop_database().await
    }
}

/// Makes the history table on a scratch database and a writer of its rows.
async fn history_writer(client: &Client, settings: &Settings) -> Result<HistoryWriter, Error> {
    settings.run.history.ensure(client).await?;
    settings.run.history.writer(client, None, true).await
}

/// Verifies `local` (read from a source) on scratch databases, with
/// `options.jobs` workers at most.
pub(crate) async fn verify_migrations(
    settings: &Settings,
    local: Vec<Migration>,
    options: &VerifyOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<VerifyReport, Error> {
    let started = Instant::now();
    let dev = dev_target(&settings.verify, &settings.connection, notify).await?;
    let excluded = history_tables(settings);
    let plain = local
        .iter()
        .take_while(|m| options.from.as_ref().is_some_and(|f| &m.version < f))
        .count();
    let jobs = workers_for(&local, options.jobs, notify);
    let board = Board::new(schedule::chunks(plain, local.len(), jobs), notify);
    let workers = jobs.min(board.chunk_count());
    let spaces =
        futures_util::future::join_all((0..workers).map(|_| Workspace::create(&dev, settings)))
            .await;
    let mut runs = Vec::with_capacity(workers);
    let mut failed = None;
    for space in spaces {
        match space {
            Ok(space) => runs.push(Run::new(space, &dev, settings, &excluded, options)),
            Err(error) => failed = failed.or(Some(error)),
        }
    }
    let scratch = runs
        .first()
        .map(|run| run.space.scratch.target().display().to_string())
        .unwrap_or_default();
    let worked = match failed {
        Some(error) => Err(error),
        None => {
            let work = runs.iter_mut().map(|run| run.work(&local, plain, &board));
            futures_util::future::join_all(work)
                .await
                .into_iter()
                .collect::<Result<(), Error>>()
        }
    };
    let dropped = futures_util::future::join_all(runs.into_iter().map(|mut run| {
        board.unfillable(std::mem::take(&mut run.unfillable));
        run.space.drop_database()
    }))
    .await;
    worked?;
    dropped.into_iter().collect::<Result<(), Error>>()?;
    let verdicts = board.verdicts(&local, plain);
    Ok(VerifyReport {
        scratch,
        applied_plainly: verdicts.applied_plainly,
        results: verdicts.results,
        stopped: verdicts.stopped,
        data: options.data,
        unfillable: verdicts.unfillable,
        total_ms: crate::model::duration::elapsed_ms(started),
    })
}

/// How many workers verify `local`: `jobs`, or one when a script changes
/// objects every database of the server shares (said in a notice).
fn workers_for(local: &[Migration], jobs: usize, notify: &mut (dyn FnMut(Notice) + Send)) -> usize {
    if jobs <= 1 {
        return 1;
    }
    match cluster_objects::first_touching_shared_objects(local) {
        Some(migration) => {
            notify(Notice::Info(&format!(
                "verifying with one worker: {} changes roles, tablespaces, databases or server settings, which every scratch database on the server shares",
                migration.label()
            )));
            1
        }
        None => jobs,
    }
}

/// What a round trip leaves the scratch database as.
pub(super) enum Next {
    /// The schema a clean up of this migration gives.
    Clean(Snapshot),
    /// Something else: rebuild before the next migration.
    Dirty,
    /// Later migrations cannot be judged.
    Stop(Step, String),
}

/// One worker: its scratch database and what it found there.
pub(super) struct Run<'a> {
    pub(super) space: Workspace,
    pub(super) dev: &'a DatabaseTarget,
    pub(super) settings: &'a Settings,
    excluded: &'a [String],
    data: bool,
    locks: bool,
    pub(super) unfillable: BTreeMap<String, UnfillableTable>,
    /// The snapshot queries, prepared on the workspace's connection.
    pub(super) reader: Option<reading::Reader>,
}

impl<'a> Run<'a> {
    fn new(
        space: Workspace,
        dev: &'a DatabaseTarget,
        settings: &'a Settings,
        excluded: &'a [String],
        options: &VerifyOptions,
    ) -> Self {
        Self {
            space,
            dev,
            settings,
            excluded,
            data: options.data,
            locks: options.locks,
            unfillable: BTreeMap::new(),
            reader: None,
        }
    }

    pub(super) async fn snapshot(&mut self) -> Result<Snapshot, Error> {
        let reader = match self.reader.take() {
            Some(reader) => reader,
            None => reading::Reader::prepare(&self.space.client, self.excluded).await?,
        };
        let reader = self.reader.insert(reader);
        Ok(reader
            .read(&self.space.client)
            .await?
            .without(&self.settings.verify.ignore, &self.settings.verify.exclude))
    }

    pub(super) async fn apply(&self, migration: &Migration) -> Result<i64, Box<MigrationFailure>> {
        let space = &self.space;
        executor::apply(
            &space.client,
            &space.writer,
            migration,
            &self.settings.run.execution,
        )
        .await
    }

    async fn revert(&self, migration: &Migration) -> Result<i64, Box<MigrationFailure>> {
        let space = &self.space;
        executor::revert(
            &space.client,
            &space.writer,
            migration,
            &self.settings.run.execution,
        )
        .await
    }

    /// Runs one script of `migration` with its locks traced.
    async fn traced(
        &mut self,
        migration: &Migration,
        direction: Direction,
    ) -> Result<(Result<i64, Box<MigrationFailure>>, Vec<StatementTrace>), Error> {
        let observer = match self.space.observer.take() {
            Some(observer) => observer,
            None => self.space.scratch.target().connect().await?,
        };
        // Field by field: the observer is borrowed from its slot while the
        // client and the writer are read beside it.
        let observer = &*self.space.observer.insert(observer);
        let (client, writer) = (&self.space.client, &self.space.writer);
        let script = match direction {
            Direction::Up => &migration.up.sql,
            Direction::Down => migration
                .down
                .as_ref()
                .map_or(&migration.up.sql, |d| &d.sql),
        };
        let tracer = LockTracer::start(client, script).await?;
        let trace = Some(Trace {
            tracer: &tracer,
            observer,
        });
        let execution = &self.settings.run.execution;
        let result = match direction {
            Direction::Up => {
                executor::apply_traced(client, writer, migration, execution, trace).await
            }
            Direction::Down => {
                executor::revert_traced(client, writer, migration, execution, trace).await
            }
        };
        Ok((result, tracer.finish()))
    }

    /// Gives every empty table rows and reads the rows of every table
    /// (with `--data`).
    async fn rows(&mut self) -> Result<Option<TableRows>, Error> {
        if !self.data {
            return Ok(None);
        }
        let client = &self.space.client;
        for table in table_data::fill_empty_tables(client, self.excluded).await? {
            self.unfillable.entry(table.table.clone()).or_insert(table);
        }
        Ok(Some(table_data::read(client, self.excluded).await?))
    }

    /// Checks one migration from the schema `before` it.
    pub(super) async fn check(
        &mut self,
        migration: &Migration,
        before: Snapshot,
    ) -> Result<(MigrationResult, Next), Error> {
        let mut locks = self.locks.then(MigrationLocks::default);
        let (mut result, next) = self.round_trip(migration, before, &mut locks).await?;
        result.locks = locks;
        Ok((result, next))
    }

    /// The round trip of one migration; `locks` gets its traces (`--locks`).
    async fn round_trip(
        &mut self,
        migration: &Migration,
        before: Snapshot,
        locks: &mut Option<MigrationLocks>,
    ) -> Result<(MigrationResult, Next), Error> {
        let rows_before = self.rows().await?;
        let result = Results {
            migration,
            data: rows_before.is_some(),
        };
        let irreversible = |why: &str| Some(DataVerdict::irreversible(why));
        if let Err(failure) = self.run_script(migration, Direction::Up, locks).await? {
            let error = brief(&failure);
            let verdict = irreversible("the up script fails");
            return Ok((
                result.of(Outcome::UpFailed { failure }, vec![], vec![], verdict),
                Next::Stop(Step::Up, error),
            ));
        }
        let after = self.snapshot().await?;
        if migration.down.is_none() {
            let verdict = irreversible("no down script");
            return Ok((
                result.of(Outcome::NoDown, vec![], vec![], verdict),
                Next::Clean(after),
            ));
        }
        if let Err(failure) = self.run_script(migration, Direction::Down, locks).await? {
            // A transactional down left the schema as the up made it.
            let next = if failure.transactional {
                Next::Clean(after)
            } else {
                Next::Dirty
            };
            let verdict = irreversible("the down script fails");
            return Ok((
                result.of(Outcome::DownFailed { failure }, vec![], vec![], verdict),
                next,
            ));
        }
        let restored = self.snapshot().await?;
        let verdict = match &rows_before {
            Some(rows) => {
                let now = table_data::read(&self.space.client, self.excluded).await?;
                Some(table_data::compare(rows, &now))
            }
            None => None,
        };
        let tolerance = Tolerance::of(&self.settings.verify);
        let sorted = tolerance.sort(compare(&before, &restored));
        let (warnings, formatting) = (sorted.warnings, sorted.notes);
        if !sorted.errors.is_empty() {
            let diff = unified_diff(
                &before,
                &restored,
                "before the up script",
                "after the down script",
            );
            let outcome = Outcome::DownDoesNotRestore {
                differences: sorted.errors,
                diff,
            };
            let next = self.go_on_after_a_wrong_down(migration, &after).await?;
            let verdict = irreversible("the down script does not restore the schema");
            return Ok((result.of(outcome, warnings, formatting, verdict), next));
        }
        let no_op_down = migration
            .down
            .as_ref()
            .is_some_and(|d| d.statements().is_ok_and(|s| s.is_empty()));
        if no_op_down {
            // A no-op down after a data-only up is right, and the schema
            // says so; running the up again would only repeat its data.
            return Ok((
                result.of(Outcome::Ok, warnings, formatting, verdict),
                Next::Clean(restored),
            ));
        }
        let restored = Restored {
            warnings,
            formatting,
            verdict,
        };
        self.reapply(migration, &after, restored, &result).await
    }

    /// The up or down script, traced with `--locks`.
    async fn run_script(
        &mut self,
        migration: &Migration,
        direction: Direction,
        locks: &mut Option<MigrationLocks>,
    ) -> Result<Result<i64, Box<MigrationFailure>>, Error> {
        if !self.locks {
            return Ok(match direction {
                Direction::Up => self.apply(migration).await,
                Direction::Down => self.revert(migration).await,
            });
        }
        let (result, trace) = self.traced(migration, direction).await?;
        if let Some(locks) = locks.as_mut() {
            match direction {
                Direction::Up => {
                    let path = migration.up.path.display().to_string();
                    locks.tables = lock_trace::summarise(&path, &trace);
                    locks.up = trace;
                }
                Direction::Down => locks.down = trace,
            }
        }
        Ok(result)
    }

    /// After a down that did not restore the schema: go on from here when
    /// the up applies again and gives what it gave the first time;
    /// otherwise rebuild.
    async fn go_on_after_a_wrong_down(
        &mut self,
        migration: &Migration,
        after: &Snapshot,
    ) -> Result<Next, Error> {
        if self.apply(migration).await.is_err() {
            return Ok(Next::Dirty);
        }
        let again = self.snapshot().await?;
        let tolerance = Tolerance::of(&self.settings.verify);
        Ok(
            if tolerance.sort(compare(after, &again)).errors.is_empty() {
                Next::Clean(again)
            } else {
                Next::Dirty
            },
        )
    }

    /// The up once more after a down that restored the schema: it must
    /// apply and give what it gave the first time (`after`).
    async fn reapply(
        &mut self,
        migration: &Migration,
        after: &Snapshot,
        restored: Restored,
        result: &Results<'_>,
    ) -> Result<(MigrationResult, Next), Error> {
        let Restored {
            mut warnings,
            mut formatting,
            verdict,
        } = restored;
        if let Err(failure) = self.apply(migration).await {
            return Ok((
                result.of(
                    Outcome::ReapplyFailed { failure },
                    warnings,
                    formatting,
                    verdict,
                ),
                Next::Dirty,
            ));
        }
        let again = self.snapshot().await?;
        let sorted = Tolerance::of(&self.settings.verify).sort(compare(after, &again));
        warnings.extend(sorted.warnings);
        formatting.extend(sorted.notes);
        if !sorted.errors.is_empty() {
            let diff = unified_diff(
                after,
                &again,
                "after the first up",
                "after down and up again",
            );
            return Ok((
                result.of(
                    Outcome::ReapplyDiffers {
                        differences: sorted.errors,
                        diff,
                    },
                    warnings,
                    formatting,
                    verdict,
                ),
                Next::Dirty,
            ));
        }
        Ok((
            result.of(Outcome::Ok, warnings, formatting, verdict),
            Next::Clean(again),
        ))
    }
}

/// What a down that restored the schema leaves for the verdict.
struct Restored {
    warnings: Vec<Difference>,
    formatting: Vec<Difference>,
    verdict: Option<DataVerdict>,
}

/// Builds one migration's [`MigrationResult`].
struct Results<'m> {
    migration: &'m Migration,
    /// Whether data was compared (`--data`): the verdict is kept only then.
    data: bool,
}

impl Results<'_> {
    fn of(
        &self,
        outcome: Outcome,
        warnings: Vec<Difference>,
        formatting: Vec<Difference>,
        verdict: Option<DataVerdict>,
    ) -> MigrationResult {
        MigrationResult {
            version: self.migration.version.clone(),
            label: self.migration.label(),
            outcome,
            warnings,
            formatting,
            rebuilt: false,
            data: verdict.filter(|_| self.data),
            locks: None,
        }
    }
}

/// A failure in one line: the file, the line and PostgreSQL's message.
pub(super) fn brief(failure: &MigrationFailure) -> String {
    let line = failure
        .position
        .or(failure.statement_position)
        .map(|p| format!(":{}", p.line))
        .unwrap_or_default();
    format!("{}{line}: {}", failure.path.display(), failure.message)
}
