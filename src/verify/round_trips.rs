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
use crate::postgres::lock_trace::{self, LockTracer, StatementTrace, TableLockSummary};
use crate::postgres::scratch::ScratchDatabase;
use crate::postgres::DatabaseTarget;
use crate::runner::notice::Notice;
use crate::runner::session::dev_target;
use crate::{Error, MigrationFailure};
use std::collections::BTreeMap;
use std::time::Instant;
use tokio_postgres::Client;

/// What verification found for one migration.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Down restored the schema and up re-applied cleanly.
    Ok,
    /// No down script: the up was applied and checking went on.
    NoDown,
    /// The up script failed (verification stops here).
    UpFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// The down script failed.
    DownFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// After the down script, the schema differs from before the up script.
    DownDoesNotRestore {
        /// The objects that differ.
        differences: Vec<Difference>,
        /// Before the up (-) against after the down (+).
        diff: String,
    },
    /// The up script failed when applied again after its down.
    ReapplyFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// Applied again after its down, the up gives another schema than the first time.
    ReapplyDiffers {
        /// The objects that differ.
        differences: Vec<Difference>,
        /// After the first up (-) against after the second (+).
        diff: String,
    },
}

/// One migration's verification.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationResult {
    /// The version.
    pub version: Version,
    /// `0003_add_orders`.
    pub label: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Differences reported but tolerated (columns in another order and
    /// timestamp literals frozen at creation, by default).
    pub warnings: Vec<Difference>,
    /// Definitions that came back formatted differently but the same
    /// token by token: not failures, listed for `--verbose`.
    pub formatting: Vec<Difference>,
    /// Whether the scratch database was rebuilt from the up scripts after
    /// this migration, so that the next one starts from a clean state.
    pub rebuilt: bool,
    /// With `--data`: whether the rows survived the round trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<DataVerdict>,
    /// With `--locks` (and in JSON): the locks its scripts took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locks: Option<MigrationLocks>,
}

/// The locks a migration's scripts took on the scratch database.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MigrationLocks {
    /// Each statement of the up script (its first run).
    pub up: Vec<StatementTrace>,
    /// Each statement of the down script.
    pub down: Vec<StatementTrace>,
    /// The strongest lock the up took on each table that existed before
    /// it, with the statement, and whether it rewrote or scanned the table.
    pub tables: Vec<TableLockSummary>,
}

impl MigrationResult {
    /// Whether this migration fails verification.
    pub fn failed(&self) -> bool {
        !matches!(self.outcome, Outcome::Ok | Outcome::NoDown)
    }
}

/// Where a run that could not go on stopped.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stopped {
    /// The migration it stopped at.
    pub version: Version,
    /// `0003_add_orders`.
    pub migration: String,
    /// What was being done.
    pub step: Step,
    /// Why it could not go on.
    pub error: String,
    /// The migrations after it, which got no verdict.
    pub not_verified: Vec<String>,
}

/// The step a run stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Applying a migration older than `--from` (not verified).
    Apply,
    /// The up script: later migrations depend on what it should have made.
    Up,
    /// Rebuilding the scratch database from the up scripts after a dirty
    /// round trip.
    Rebuild,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Apply => "applying it before --from",
            Step::Up => "its up script",
            Step::Rebuild => "rebuilding the scratch database from the up scripts after it",
        })
    }
}

/// The whole run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// The scratch database (password removed).
    pub scratch: String,
    /// Migrations applied without verification (`--from`).
    pub applied_plainly: usize,
    /// One result per verified migration.
    pub results: Vec<MigrationResult>,
    /// Where and why the run could not go on; `None` when every migration
    /// got a verdict.
    pub stopped: Option<Stopped>,
    /// Whether rows were checked too (`--data`).
    pub data: bool,
    /// With `--data`: tables that could not be given rows, and why.
    pub unfillable: Vec<UnfillableTable>,
    /// Wall time.
    pub total_ms: i64,
}

impl VerifyReport {
    /// Whether any migration failed or the run stopped early.
    pub fn failed(&self) -> bool {
        self.stopped.is_some() || self.results.iter().any(MigrationResult::failed)
    }
}

/// What to verify.
#[derive(Debug, Clone, Default)]
pub(crate) struct VerifyOptions {
    /// Apply older migrations plainly and verify from this version on.
    pub from: Option<Version>,
    /// Check rows too: generated rows must survive each up → down.
    pub data: bool,
    /// Trace the locks each statement takes.
    pub locks: bool,
}

/// Progress of a run, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Migrations done.
    pub done: usize,
    /// Migrations to verify.
    pub total: usize,
}

/// A scratch database with a session and a history writer on it, and a
/// second session that watches the first one's locks (`--locks`).
struct Workspace {
    scratch: ScratchDatabase,
    client: Client,
    writer: HistoryWriter,
    observer: Option<Client>,
}

impl Workspace {
    async fn create(dev: &DatabaseTarget, settings: &Settings) -> Result<Self, Error> {
        let scratch = ScratchDatabase::create(dev).await?;
        let ready = async {
            let client = scratch.target().connect().await?;
            settings.run.history.ensure(&client).await?;
            let writer = settings.run.history.writer(&client, None).await?;
            Ok::<_, Error>((client, writer))
        }
        .await;
        match ready {
            Ok((client, writer)) => Ok(Self {
                scratch,
                client,
                writer,
                observer: None,
            }),
            Err(error) => {
                let _ = scratch.drop_database().await;
                Err(error)
            }
        }
    }

    async fn drop_database(self) -> Result<(), Error> {
        drop(self.client);
        drop(self.observer);
        self.scratch.drop_database().await
    }
}

/// Verifies `local` (read from a source) on a scratch database.
pub(crate) async fn verify_migrations(
    settings: &Settings,
    local: Vec<Migration>,
    options: &VerifyOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<VerifyReport, Error> {
    let started = Instant::now();
    let dev = dev_target(&settings.verify, &settings.connection, notify).await?;
    let excluded = history_tables(settings);
    let mut run = Run {
        space: Workspace::create(&dev, settings).await?,
        dev: &dev,
        settings,
        excluded: &excluded,
        data: options.data,
        locks: options.locks,
        unfillable: BTreeMap::new(),
        reader: None,
    };
    let scratch = run.space.scratch.target().display().to_string();
    let result = run.all(&local, options.from.as_ref(), progress).await;
    let unfillable = std::mem::take(&mut run.unfillable).into_values().collect();
    let dropped = run.space.drop_database().await;
    let (applied_plainly, results, stopped) = result?;
    dropped?;
    Ok(VerifyReport {
        scratch,
        applied_plainly,
        results,
        stopped,
        data: options.data,
        unfillable,
        total_ms: crate::model::duration::elapsed_ms(started),
    })
}

/// What a round trip leaves the scratch database as.
enum Next {
    /// The schema a clean up of this migration gives.
    Clean(Snapshot),
    /// Something else: rebuild before the next migration.
    Dirty,
    /// Later migrations cannot be judged.
    Stop(Step, String),
}

struct Run<'a> {
    space: Workspace,
    dev: &'a DatabaseTarget,
    settings: &'a Settings,
    excluded: &'a [String],
    data: bool,
    locks: bool,
    unfillable: BTreeMap<String, UnfillableTable>,
    /// The snapshot queries, prepared on the workspace's connection.
    reader: Option<reading::Reader>,
}

type Verdicts = (usize, Vec<MigrationResult>, Option<Stopped>);

impl Run<'_> {
    async fn snapshot(&mut self) -> Result<Snapshot, Error> {
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

    async fn apply(&self, migration: &Migration) -> Result<i64, Box<MigrationFailure>> {
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

    /// Every migration of `local`, those before `from` only applied.
    async fn all(
        &mut self,
        local: &[Migration],
        from: Option<&Version>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<Verdicts, Error> {
        let empty = self.snapshot().await?;
        if !empty.is_empty() {
            return Err(Error::refused(crate::error::refusal::RefusalKind::ScratchServer, format!(
                "the scratch database {} is not empty (its template has objects); point --dev-url at another server",
                self.space.scratch.target().display()
            )));
        }
        let plain = local
            .iter()
            .take_while(|m| from.is_some_and(|f| &m.version < f))
            .count();
        let stop = |index: usize, step: Step, error: String| {
            let migration = &local[index];
            Some(Stopped {
                version: migration.version.clone(),
                migration: migration.label(),
                step,
                error,
                // Those after it, and never one `--from` left out.
                not_verified: local[(index + 1).max(plain)..]
                    .iter()
                    .map(Migration::label)
                    .collect(),
            })
        };
        for (index, migration) in local[..plain].iter().enumerate() {
            if let Err(failure) = self.apply(migration).await {
                return Ok((index, Vec::new(), stop(index, Step::Apply, brief(&failure))));
            }
        }
        let mut before = if plain == 0 {
            empty
        } else {
            self.snapshot().await?
        };
        let mut results = Vec::new();
        let total = local.len() - plain;
        for index in plain..local.len() {
            let (result, next) = self.check(&local[index], before).await?;
            results.push(result);
            progress(Progress {
                done: index - plain + 1,
                total,
            });
            before = match next {
                Next::Clean(snapshot) => snapshot,
                Next::Stop(step, error) => return Ok((plain, results, stop(index, step, error))),
                Next::Dirty if index + 1 == local.len() => break,
                Next::Dirty => match self.rebuild(&local[..=index]).await {
                    Ok(snapshot) => {
                        if let Some(last) = results.last_mut() {
                            last.rebuilt = true;
                        }
                        snapshot
                    }
                    Err(error) => return Ok((plain, results, stop(index, Step::Rebuild, error))),
                },
            };
        }
        Ok((plain, results, None))
    }

    /// A new scratch database with the up scripts of `migrations` applied.
    async fn rebuild(&mut self, migrations: &[Migration]) -> Result<Snapshot, String> {
        let fresh = Workspace::create(self.dev, self.settings)
            .await
            .map_err(|e| e.to_string())?;
        let old = std::mem::replace(&mut self.space, fresh);
        self.reader = None;
        old.drop_database().await.map_err(|e| e.to_string())?;
        for migration in migrations {
            self.apply(migration).await.map_err(|f| brief(&f))?;
        }
        self.snapshot().await.map_err(|e| e.to_string())
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
    async fn check(
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
fn brief(failure: &MigrationFailure) -> String {
    let line = failure
        .position
        .or(failure.statement_position)
        .map(|p| format!(":{}", p.line))
        .unwrap_or_default();
    format!("{}{line}: {}", failure.path.display(), failure.message)
}
