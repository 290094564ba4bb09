//! [`Migrator`]: the one place that runs migrations. It reads a
//! [`MigrationSource`] while connecting, takes the migration lock, reads
//! the history, asks the pure planner (`crate::model::plan`) what to do, has the
//! [`Driver`] apply each step, and reports; the lock is released whatever
//! happens. `schemactl migrate`, `rollback`, `status`, `validate`,
//! `baseline` and `repair` are calls to it, and so is an application's
//! start-up ([`crate::source::embedded::EmbeddedMigrations::run`]).

pub mod compatibility;
pub mod contention;
pub mod deploy;
pub mod driver;
pub mod notice;
pub(crate) mod session;

pub use notice::Notice;

mod baseline;
mod foreign_checksum;
mod repair;
pub mod report;
mod unfinished;

pub use crate::model::plan::{MigrateOptions, RollbackTarget, State, StatusRow};
pub use baseline::BaselineSource;
pub use repair::Repair;
pub use report::{Executed, PlannedScript, RunReport, StatusReport, Validation};

use crate::backup::guard::DataGuard;
use crate::config::{ConnectOptions, RunOptions, Settings};
use crate::model::adoption::Unadopted;
use crate::model::duration::elapsed_ms;
use crate::model::history::AppliedMigration;
use crate::model::plan;
use crate::model::{Direction, Layout, Migration, Version};
use crate::postgres::{DatabaseTarget, PostgresDriver};
use crate::runner::driver::Driver;
use crate::runner::session::{connect_while_reading, Reading, Session};
use crate::source::{Loaded, MigrationSource};
use crate::Error;
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::Client;

/// Runs the migrations of one source against one PostgreSQL database.
///
/// ```no_run
/// # async fn deploy() -> Result<(), schemactl::Error> {
/// use schemactl::config::{ConnectOptions, RunOptions};
/// use schemactl::{runner::MigrateOptions, source::Directory, Migrator};
/// let migrator = Migrator::new(Directory::new("migrations"), RunOptions::default())
///     .connect_with(ConnectOptions::url("postgres://app@db/app"));
/// let report = migrator.run(MigrateOptions::default(), false, &mut |_| {}).await?;
/// println!("applied {}", report.executed.len());
/// # Ok(()) }
/// ```
pub struct Migrator<'c> {
    source: Arc<dyn MigrationSource>,
    /// The source again when it is a directory: `migrate` then reads its
    /// down scripts only once the database says something is pending.
    directory: Option<crate::source::Directory>,
    options: RunOptions,
    connection: ConnectOptions,
    client: Option<&'c Client>,
    guard: Option<DataGuard>,
}

/// The connection a call works on: the caller's, or one it opened.
enum Connection<'c> {
    Borrowed(&'c Client),
    Opened(Box<Session>),
}

impl Connection<'_> {
    fn client(&self) -> &Client {
        match self {
            Connection::Borrowed(client) => client,
            Connection::Opened(session) => &session.client,
        }
    }

    /// Where a second connection goes, when schemactl opened this one.
    fn reach(&self) -> Option<&DatabaseTarget> {
        match self {
            Connection::Borrowed(_) => None,
            Connection::Opened(session) => Some(&session.reach),
        }
    }

    fn target(&self) -> String {
        match self {
            Connection::Borrowed(_) => "the application's connection".to_string(),
            Connection::Opened(session) => session.target.clone(),
        }
    }
}

/// Whether the history, read in one round trip without the lock, shows
/// that `migrate` has nothing to do: every local migration applied, none
/// failed or in progress, nothing refused (then `report` has the current
/// version and what is held back). Anything else (a pending migration, a
/// history that is missing, older or unreadable, a problem to report, an
/// error) is `false`: the locked path reads the history again under the
/// lock and decides, as it always did. A concurrent run is never missed:
/// its migrations commit with their rows, so they are either seen applied
/// or seen pending.
async fn nothing_pending(
    driver: &impl Driver,
    layout: Layout,
    local: &[Migration],
    options: &MigrateOptions,
    report: &mut RunReport,
) -> bool {
    let peeked = driver.peek_history().await;
    up_to_date(peeked, layout, local, options, report)
}

/// [`nothing_pending`], given what the peek at the history returned.
fn up_to_date(
    peeked: Result<Option<Vec<AppliedMigration>>, Error>,
    layout: Layout,
    local: &[Migration],
    options: &MigrateOptions,
    report: &mut RunReport,
) -> bool {
    let Ok(Some(applied)) = peeked else {
        return false;
    };
    let applied = in_layout(layout, applied);
    match plan::plan_migrate(local, &applied, options.clone()) {
        Ok(plan) if plan.is_empty() => {
            report.current_version = newest(&applied);
            report.pending = Some(plan::pending(local, &applied).count());
            true
        }
        _ => false,
    }
}

/// A database ahead of the directory only by migrations that declared
/// themselves compatible with the previous release (`phase expand`,
/// `compatible-with-previous`) suits this one: told, and nothing to do.
/// Otherwise the refusal stands.
async fn ahead_but_compatible(
    driver: &impl Driver,
    ahead: Box<crate::error::ahead::Ahead>,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<(), Error> {
    if !all_expand(driver, &ahead).await? {
        return Err(Error::DatabaseAhead(ahead));
    }
    let names: Vec<String> = ahead
        .newer
        .iter()
        .map(|m| format!("{}_{}", m.version, m.name))
        .collect();
    notify(Notice::Info(&format!(
        "the database is ahead of these files by {}, marked compatible with the previous release (expand); nothing to apply",
        names.join(", ")
    )));
    Ok(())
}

/// `contract` migrations break the previous release of the application:
/// refused while the previous release's directory (when given) does not
/// ship them, or while a release other than the one deploying is marked live.
async fn contract_allowed(
    driver: &impl Driver,
    plan: &[&Migration],
    options: &MigrateOptions,
) -> Result<(), Error> {
    let contracts: Vec<&&Migration> = plan
        .iter()
        .filter(|m| m.up.directives.phase == Some(crate::model::phase::Phase::Contract))
        .collect();
    if contracts.is_empty() {
        return Ok(());
    }
    if let Some(previous) = &options.previous_app {
        let unshipped: Vec<String> = contracts
            .iter()
            .filter(|m| !previous.contains(&m.version))
            .map(|m| m.label())
            .collect();
        if !unshipped.is_empty() {
            return Err(Error::refused_about(
                crate::error::refusal::RefusalKind::Plan,
                contracts.iter().map(|m| m.version.clone()),
                format!(
                    "{} {} marked `phase contract`, and the previous release (--previous-app-migrations) does not ship {}: \
                     its instances may still use what {} removes; nothing was changed. Deploy with `migrate --phase expand` \
                     until the oldest release still running ships {}",
                    unshipped.join(", "),
                    if unshipped.len() == 1 { "is" } else { "are" },
                    if unshipped.len() == 1 { "it" } else { "them" },
                    if unshipped.len() == 1 { "it" } else { "they" },
                    if unshipped.len() == 1 { "it" } else { "them" },
                ),
            ));
        }
    }
    let live: Vec<String> = driver
        .releases()
        .await?
        .into_iter()
        .filter(|r| r.live && Some(&r.label) != options.release.as_ref())
        .map(|r| r.label)
        .collect();
    if live.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = contracts.iter().map(|m| m.label()).collect();
    Err(Error::refused_about(
        crate::error::refusal::RefusalKind::Plan,
        contracts.iter().map(|m| m.version.clone()),
        format!(
            "{} {} marked `phase contract`, and release(s) {} are still marked live; nothing was changed. \
             Deploy with `migrate --phase expand` until they are gone, then `schemactl release mark-retired <label>` \
             (or pass `--release <label>` when the live one is the release deploying)",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" },
            live.join(", ")
        ),
    ))
}

/// Whether every migration the database has beyond the directory recorded
/// the `expand` phase.
async fn all_expand(
    driver: &impl Driver,
    ahead: &crate::error::ahead::Ahead,
) -> Result<bool, Error> {
    let versions: Vec<Version> = ahead.newer.iter().map(|m| m.version.clone()).collect();
    let phases = driver.recorded_phases(&versions).await?;
    Ok(versions.iter().all(|version| {
        phases.iter().any(|(recorded, phase)| {
            *recorded == version.to_string()
                && crate::model::phase::Phase::recorded(phase)
                    == Some(crate::model::phase::Phase::Expand)
        })
    }))
}

/// What `status` asks the server first: the history and the indexes a
/// failed concurrent build left INVALID.
type FirstAnswers = (
    Result<Vec<AppliedMigration>, Error>,
    Result<Vec<crate::runner::contention::InvalidIndex>, Error>,
);

/// Asks `status`'s first questions (in one round trip when the history
/// reads as it is).
async fn first_answers(driver: &impl Driver) -> FirstAnswers {
    tokio::join!(driver.read_history(), driver.invalid_indexes())
}

/// The migrations and layout of a read directory, its warnings told.
fn told(loaded: Loaded, notify: &mut (dyn FnMut(Notice) + Send)) -> (Vec<Migration>, Layout) {
    for problem in &loaded.warnings {
        notify(Notice::Warning(&problem.to_string()));
    }
    (loaded.migrations, loaded.layout)
}

/// The newest versioned migration recorded (repeatables have no place in
/// the version sequence).
fn newest(applied: &[AppliedMigration]) -> Option<Version> {
    applied
        .iter()
        .map(|r| &r.version)
        .filter(|v| !v.is_repeatable())
        .max()
        .cloned()
}

/// The recorded history with its versions ordered as the source's
/// layout orders them (text as diesel, dotted as Flyway), by version.
fn in_layout(layout: Layout, applied: Vec<AppliedMigration>) -> Vec<AppliedMigration> {
    let kind = layout.version_kind();
    let mut applied: Vec<AppliedMigration> = applied
        .into_iter()
        .map(|mut row| {
            row.version = row.version.with_kind(kind);
            row
        })
        .collect();
    applied.sort_by(|a, b| a.version.cmp(&b.version));
    applied
}

/// The down scripts stored for the migrations a rollback to `target` would
/// undo and that need them (their down file is gone or changed), by
/// version in `layout`'s kind. None needed, none asked for.
async fn stored_downs(
    driver: &impl Driver,
    layout: Layout,
    local: &[Migration],
    applied: &[AppliedMigration],
    target: &RollbackTarget,
) -> Result<plan::StoredDowns, Error> {
    let versions: Vec<Version> = plan::rollback_candidates(applied, target)
        .into_iter()
        .filter(|row| plan::needs_stored_down(local, row))
        .map(|row| row.version.clone())
        .collect();
    if versions.is_empty() {
        return Ok(plan::StoredDowns::new());
    }
    let kind = layout.version_kind();
    Ok(driver
        .stored_downs(&versions)
        .await?
        .into_iter()
        .filter_map(|(version, script)| {
            let version = versions.iter().find(|v| v.to_string() == version)?;
            Some((version.clone().with_kind(kind), script))
        })
        .collect())
}

/// The planned migrations, those undone with a stored down script said so
/// and sent as their layout's tool sends a file.
fn in_layout_downs<'a>(
    plan: Vec<std::borrow::Cow<'a, Migration>>,
    layout: Layout,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Vec<std::borrow::Cow<'a, Migration>> {
    plan.into_iter()
        .map(|migration| match migration {
            std::borrow::Cow::Owned(mut stored) => {
                notify(Notice::Info(&format!(
                    "{}: its files are not in the migrations directory; undoing it with the down script stored when it was applied",
                    stored.label()
                )));
                if let Some(down) = stored.down.as_mut() {
                    down.sent_whole = layout == Layout::GolangMigrate;
                }
                std::borrow::Cow::Owned(stored)
            }
            borrowed => borrowed,
        })
        .collect()
}

/// How reports name the database of a driver given by the caller.
const GIVEN_DRIVER: &str = "the given driver's database";

/// What a rollback undoes, and whether changed down files may run.
struct Undo {
    target: RollbackTarget,
    use_file_down: bool,
}

/// Told when the lock was no longer held at the end of a run.
const LOCK_LOST_DURING_RUN: &str = "this run no longer held the migration lock at its end: a migration released it \
     (`pg_advisory_unlock_all()` or `DISCARD ALL`, perhaps inside a function) or its lease was taken over. \
     Each transactional migration still ran under its own transaction-level lock, but between migrations another \
     run could have started; check `schemactl status`, and remove the release from the migration";

impl<'c> Migrator<'c> {
    /// A migrator for `source` that runs with `options`. It connects
    /// through libpq's variables (`PGHOST`, …) unless told where with
    /// [`Migrator::connect_with`] or given a connection with [`Migrator::on`].
    pub fn new(source: impl MigrationSource + 'static, options: RunOptions) -> Self {
        let directory = (&source as &dyn std::any::Any)
            .downcast_ref::<crate::source::Directory>()
            .cloned();
        Self {
            source: Arc::new(source),
            directory,
            options,
            connection: ConnectOptions::default(),
            client: None,
            guard: None,
        }
    }

    /// With backups around migrations: [`Migrator::run`] keeps the data
    /// each migration destroys (and, with [`BackupMode::Always`], takes a
    /// full backup first); [`Migrator::undo`] puts it back when the guard
    /// has keys to read it ([`DataGuard::for_rollback`]).
    ///
    /// [`BackupMode::Always`]: crate::backup::BackupMode::Always
    pub fn with_data_guard(mut self, guard: DataGuard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// A migrator for `source` with a whole configuration's run and
    /// connection options (what the CLI's verbs use).
    pub fn configured(source: impl MigrationSource + 'static, settings: &Settings) -> Self {
        Self::new(source, settings.run.clone()).connect_with(settings.connection.clone())
    }

    /// The project's own migrations directory (as `settings.project` says
    /// how to read it) with the configuration's run and connection options:
    /// what each CLI verb runs.
    pub fn of_project(settings: &Settings) -> Migrator<'static> {
        Migrator::configured(crate::source::Directory::from_settings(settings), settings)
    }

    /// Connects as `connection` says (URL, role, timeout, the development
    /// server when allowed).
    pub fn connect_with(mut self, connection: ConnectOptions) -> Self {
        self.connection = connection;
        self
    }

    /// Works on `client` (an application's own connection) instead of
    /// connecting.
    pub fn on(mut self, client: &'c Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The options it runs with.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The migrations, read and checked.
    pub fn migrations(&self) -> Result<Vec<Migration>, Error> {
        self.source.load()
    }

    /// Reads the source and connects, both at once when a connection is
    /// opened. Every caller reads the history next, under the lock: while
    /// the files are still being read, the history is read once without
    /// it, its answer unused, so that the server has loaded what the
    /// history's first query needs (a fresh backend's catalog caches, a
    /// few milliseconds) by the time the locked read asks.
    async fn open(
        &self,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(Vec<Migration>, Layout, Connection<'c>), Error> {
        let source = Arc::clone(&self.source);
        let (reading, connection) = self.connect_reading(move || source.read(), notify).await?;
        let loaded = if reading.in_progress() {
            let driver = self.driver(&connection);
            tokio::join!(driver.peek_history(), reading.finish()).1
        } else {
            reading.finish().await
        };
        let (migrations, layout) = told(loaded?, notify);
        Ok((migrations, layout, connection))
    }

    /// Connects while `read` reads the source, which is left to finish
    /// (read before, when the connection was given).
    async fn connect_reading(
        &self,
        read: impl FnOnce() -> Result<Loaded, Error> + Send + 'static,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(Reading, Connection<'c>), Error> {
        Ok(match self.client {
            Some(client) => (Reading::done(read()), Connection::Borrowed(client)),
            None => {
                let (reading, session) =
                    connect_while_reading(read, &self.connection, notify).await?;
                (reading, Connection::Opened(Box::new(session)))
            }
        })
    }

    /// [`Migrator::open`], with `status`'s first questions asked while the
    /// files are still being read.
    async fn open_asking(
        &self,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(Vec<Migration>, Layout, Connection<'c>, FirstAnswers), Error> {
        let source = Arc::clone(&self.source);
        let (reading, connection) = self.connect_reading(move || source.read(), notify).await?;
        let (first, loaded) = {
            let driver = self.driver(&connection);
            tokio::join!(first_answers(&driver), reading.finish())
        };
        let (migrations, layout) = told(loaded?, notify);
        Ok((migrations, layout, connection, first))
    }

    /// Reads the source alone (a driver was given), telling its warnings.
    fn read_source(
        &self,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(Vec<Migration>, Layout), Error> {
        Ok(told(self.source.read()?, notify))
    }

    /// Connects without reading the source (for what needs no migrations).
    async fn connect_only(
        &self,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Connection<'c>, Error> {
        Ok(match self.client {
            Some(client) => Connection::Borrowed(client),
            None => Connection::Opened(Box::new(session::connect(&self.connection, notify).await?)),
        })
    }

    fn driver<'a>(&'a self, connection: &'a Connection<'_>) -> PostgresDriver<'a> {
        PostgresDriver::new(
            connection.client(),
            &self.options.history,
            &self.options.execution,
        )
        .with_heartbeat_target(connection.reach())
        .with_hooks(
            self.guard
                .as_ref()
                .map(|g| g as &dyn crate::postgres::hooks::ScriptHooks),
        )
    }

    /// Takes the migration lock before a run's body (which creates the
    /// history tables, under the lock, only once it has something to write,
    /// so that a refused run changes nothing at all).
    async fn take_lock(
        &self,
        driver: &mut impl Driver,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(), Error> {
        driver
            .lock(self.options.lock_wait, &mut |holders| {
                notify(Notice::WaitingForLock(holders))
            })
            .await
    }

    /// Releases the lock after the body, whatever it returned, telling when
    /// the run no longer held it. (A helper taking the body as an async
    /// closure would be shorter, but its future is not `Send`.)
    async fn release_lock<T>(
        &self,
        driver: &mut impl Driver,
        result: Result<T, Error>,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<T, Error> {
        let released = driver.unlock().await;
        if matches!(released, Ok(false)) {
            notify(Notice::Warning(LOCK_LOST_DURING_RUN));
        }
        let value = result?;
        released.map(|_| value)
    }

    fn report(&self, database: String, dry_run: bool) -> RunReport {
        RunReport {
            database,
            history: self.options.history.display(),
            dry_run,
            planned: Vec::new(),
            executed: Vec::new(),
            current_version: None,
            total_ms: 0,
            pending: None,
            data_backups: Vec::new(),
            full_backup: None,
            restored_data: Vec::new(),
        }
    }

    /// Every migration with its state, and what would stop `migrate`
    /// (`allow_out_of_order`: a pending migration older than the newest
    /// applied one is not a problem). Reads only.
    pub async fn status(
        &self,
        allow_out_of_order: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<StatusReport, Error> {
        let (local, layout, connection, first) = self.open_asking(notify).await?;
        let driver = self.driver(&connection);
        self.status_on(
            &local,
            layout,
            &driver,
            connection.target(),
            allow_out_of_order,
            first,
        )
        .await
    }

    /// [`Migrator::status`] through `driver` (any database schemactl can
    /// drive, or an application's own wrapper around one).
    pub async fn status_with(
        &self,
        driver: &impl Driver,
        allow_out_of_order: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<StatusReport, Error> {
        let (local, layout) = self.read_source(notify)?;
        let first = first_answers(driver).await;
        self.status_on(
            &local,
            layout,
            driver,
            GIVEN_DRIVER.into(),
            allow_out_of_order,
            first,
        )
        .await
    }

    /// [`Migrator::status`] of `local` through `driver`.
    async fn status_on(
        &self,
        local: &[Migration],
        layout: Layout,
        driver: &impl Driver,
        database: String,
        allow_out_of_order: bool,
        (applied, invalid): FirstAnswers,
    ) -> Result<StatusReport, Error> {
        let applied = in_layout(layout, applied?);
        let unadopted = if applied.is_empty() {
            driver.unadopted().await?
        } else {
            None
        };
        let foreign_history = match &unadopted {
            Some(Unadopted::ForeignHistory(foreign)) => Some(foreign.clone()),
            _ => None,
        };
        let mut migrations = plan::status(local, &applied);
        backfill_standing(driver, local, &mut migrations).await;
        if !applied.is_empty() {
            driver.recovery_points(&mut migrations).await;
        }
        let mut problems = plan::problems(local, &applied, allow_out_of_order);
        unfinished::ask_server(driver, &mut problems, false).await;
        unfinished::mark_running(&problems, &mut migrations);
        Ok(StatusReport {
            layout,
            database,
            history: self.options.history.display(),
            migrations,
            problems,
            invalid_indexes: invalid?,
            foreign_history,
            unadopted,
        })
    }

    /// Whether files and history agree: no problem, no INVALID index, and
    /// (with `fail_on_pending`) nothing pending. Reads only. A pending
    /// script that `migrate` would refuse to run is the same
    /// [`Error::InvalidMigrations`] here.
    pub async fn validate(
        &self,
        fail_on_pending: bool,
        allow_out_of_order: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Validation, Error> {
        let (local, layout, connection, first) = self.open_asking(notify).await?;
        let driver = self.driver(&connection);
        let report = self
            .status_on(
                &local,
                layout,
                &driver,
                connection.target(),
                allow_out_of_order,
                first,
            )
            .await?;
        // A pending script `migrate` would refuse (SQL that cannot be
        // split, a transaction it ends itself…) fails validation the same way.
        let pending: std::collections::BTreeSet<&Version> = report
            .migrations
            .iter()
            .filter(|row| row.state == State::Pending)
            .map(|row| &row.version)
            .collect();
        plan::check_runnable(
            local
                .iter()
                .filter(|m| pending.contains(&m.version))
                .map(|m| &m.up),
        )?;
        let ok = report.problems.is_empty()
            && report.invalid_indexes.is_empty()
            && (report.unadopted.is_none() || report.pending().is_empty())
            && (!fail_on_pending || report.pending().is_empty());
        Ok(Validation { ok, report })
    }

    /// Declares release `label` of the application live or retired;
    /// returns every release declared.
    pub async fn mark_release(
        &self,
        label: &str,
        live: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Vec<crate::model::release::Release>, Error> {
        let connection = self.connect_only(notify).await?;
        let mut driver = self.driver(&connection);
        driver.mark_release(label, live).await?;
        driver.releases().await
    }

    /// Every release of the application declared live or retired.
    pub async fn releases(
        &self,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Vec<crate::model::release::Release>, Error> {
        let connection = self.connect_only(notify).await?;
        self.driver(&connection).releases().await
    }

    /// Whether the database suits the application that ships these
    /// migrations (`check`): current, behind, ahead (an older release of
    /// the application) or diverged. Changes nothing.
    pub async fn check(
        &self,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<compatibility::Compatibility, Error> {
        let (local, layout, connection, first) = self.open_asking(notify).await?;
        let driver = self.driver(&connection);
        let report = self
            .status_on(&local, layout, &driver, connection.target(), false, first)
            .await?;
        let mut answer = compatibility::Compatibility::of(&report);
        if let Some(ahead) = &answer.ahead {
            if all_expand(&driver, ahead).await? {
                answer.mark_compatible_ahead();
            }
        }
        Ok(answer)
    }

    /// Applies what is pending, in order, under the lock (or, with
    /// `dry_run`, reports what would be applied and changes nothing, not
    /// even the history table). On failure the error says what this run
    /// applied before it and what it did not reach.
    pub async fn run(
        &self,
        options: MigrateOptions,
        dry_run: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<RunReport, Error> {
        let started = Instant::now();
        let Some(directory) = self.directory.clone().filter(|_| !dry_run) else {
            let (local, layout, connection) = self.open(notify).await?;
            let mut report = self.report(connection.target(), dry_run);
            let mut driver = self.driver(&connection);
            self.run_on(&mut driver, &local, layout, options, &mut report, notify)
                .await?;
            report.total_ms = elapsed_ms(started);
            return Ok(report);
        };
        // A directory's down scripts are read only when something is
        // pending: an up-to-date database needs none of them. A directory
        // with a problem is read whole, so that every problem is told.
        let read = move || directory.read_without_downs().or_else(|_| directory.read());
        let (reading, connection) = self.connect_reading(read, notify).await?;
        let mut report = self.report(connection.target(), dry_run);
        let mut driver = self.driver(&connection);
        // The history is asked for while the files are still being read.
        let (peeked, loaded) = tokio::join!(driver.peek_history(), reading.finish());
        let (local, layout) = told(loaded?, notify);
        if !up_to_date(peeked, layout, &local, &options, &mut report) {
            // The warnings of this read were told with the first one.
            let loaded = self.source.read()?;
            self.run_locked(
                &mut driver,
                &loaded.migrations,
                loaded.layout,
                options,
                &mut report,
                notify,
            )
            .await?;
        }
        report.total_ms = elapsed_ms(started);
        Ok(report)
    }

    /// [`Migrator::run`] through `driver` (any database schemactl can
    /// drive, or an application's own wrapper around one).
    pub async fn run_with(
        &self,
        driver: &mut impl Driver,
        options: MigrateOptions,
        dry_run: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<RunReport, Error> {
        let started = Instant::now();
        let (local, layout) = self.read_source(notify)?;
        let mut report = self.report(GIVEN_DRIVER.into(), dry_run);
        self.run_on(driver, &local, layout, options, &mut report, notify)
            .await?;
        report.total_ms = elapsed_ms(started);
        Ok(report)
    }

    /// [`Migrator::run`] of `local` through `driver`, into `report`.
    async fn run_on(
        &self,
        driver: &mut impl Driver,
        local: &[Migration],
        layout: Layout,
        options: MigrateOptions,
        report: &mut RunReport,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(), Error> {
        let allow_non_empty = options.allow_non_empty || self.options.execution.allow_non_empty;
        if report.dry_run {
            let applied = in_layout(layout, driver.read_history().await?);
            let plan = match plan::plan_migrate(local, &applied, options.clone()) {
                Err(Error::DatabaseAhead(ahead)) => {
                    ahead_but_compatible(driver, ahead, notify).await?;
                    Vec::new()
                }
                Err(refused) => return Err(unfinished::ask_server_of(driver, refused, false).await),
                Ok(plan) => plan,
            };
            check_adopted(driver, &applied, &plan, allow_non_empty, notify).await?;
            contract_allowed(driver, &plan, &options).await?;
            report.planned = plan
                .iter()
                .map(|m| PlannedScript::new(m, &m.up, &self.options.execution))
                .collect();
            report.current_version = newest(&applied);
            report.pending = Some(plan::pending(local, &applied).count());
            return Ok(());
        }
        if nothing_pending(driver, layout, local, &options, report).await {
            return Ok(());
        }
        self.run_locked(driver, local, layout, options, report, notify)
            .await
    }

    /// [`Migrator::run_on`] once the peek did not show the database up to
    /// date: under the lock, the history read again and the plan applied.
    async fn run_locked(
        &self,
        driver: &mut impl Driver,
        local: &[Migration],
        layout: Layout,
        options: MigrateOptions,
        report: &mut RunReport,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(), Error> {
        let allow_non_empty = options.allow_non_empty || self.options.execution.allow_non_empty;
        self.take_lock(driver, notify).await?;
        let result = async {
            let applied = in_layout(layout, driver.read_history().await?);
            report.current_version = newest(&applied);
            let plan = match plan::plan_migrate(local, &applied, options.clone()) {
                Err(Error::DatabaseAhead(ahead)) => {
                    return ahead_but_compatible(&*driver, ahead, notify).await;
                }
                Err(refused) => {
                    return Err(unfinished::ask_server_of(&*driver, refused, true).await)
                }
                Ok(plan) => plan,
            };
            contract_allowed(&*driver, &plan, &options).await?;
            if plan.is_empty() {
                return Ok(());
            }
            check_adopted(&*driver, &applied, &plan, allow_non_empty, notify).await?;
            report.full_backup = self.before_run(driver, notify).await?;
            let pending_before = plan::pending(local, &applied).count();
            let applied_now = self
                .apply_plan(driver, &plan, Direction::Up, report, notify)
                .await;
            report.pending = Some(pending_before.saturating_sub(report.executed.len()));
            applied_now
        }
        .await;
        report.data_backups = self.guard_outcome().backups;
        self.release_lock(driver, result, notify).await
    }

    /// Runs down scripts newest first, down to `target`, under the lock (or,
    /// with `dry_run`, reports what would run). A migration whose files are
    /// gone is undone with the down script its history row stored; a down
    /// file that changed since it was applied is refused unless
    /// `use_file_down`.
    pub async fn undo(
        &self,
        target: RollbackTarget,
        use_file_down: bool,
        dry_run: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<RunReport, Error> {
        let started = Instant::now();
        let (local, layout, connection) = self.open(notify).await?;
        let mut report = self.report(connection.target(), dry_run);
        let mut driver = self.driver(&connection);
        let undo = Undo {
            target,
            use_file_down,
        };
        self.undo_on(&mut driver, &local, layout, undo, &mut report, notify)
            .await?;
        report.total_ms = elapsed_ms(started);
        Ok(report)
    }

    /// [`Migrator::undo`] through `driver` (any database schemactl can
    /// drive, or an application's own wrapper around one).
    pub async fn undo_with(
        &self,
        driver: &mut impl Driver,
        target: RollbackTarget,
        use_file_down: bool,
        dry_run: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<RunReport, Error> {
        let started = Instant::now();
        let (local, layout) = self.read_source(notify)?;
        let mut report = self.report(GIVEN_DRIVER.into(), dry_run);
        let undo = Undo {
            target,
            use_file_down,
        };
        self.undo_on(driver, &local, layout, undo, &mut report, notify)
            .await?;
        report.total_ms = elapsed_ms(started);
        Ok(report)
    }

    /// [`Migrator::undo`] of `local` through `driver`, into `report`.
    async fn undo_on(
        &self,
        driver: &mut impl Driver,
        local: &[Migration],
        layout: Layout,
        undo: Undo,
        report: &mut RunReport,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(), Error> {
        let Undo {
            target,
            use_file_down,
        } = undo;
        if report.dry_run {
            let applied = in_layout(layout, driver.read_history().await?);
            let stored = stored_downs(driver, layout, local, &applied, &target).await?;
            let plan = match plan::plan_rollback(local, &applied, target, &stored, use_file_down) {
                Ok(plan) => plan,
                Err(refused) => return Err(unfinished::ask_server_of(driver, refused, false).await),
            };
            report.planned = plan
                .iter()
                .filter_map(|m| {
                    let down = m.down.as_ref()?;
                    Some(PlannedScript::new(m, down, &self.options.execution))
                })
                .collect();
            report.current_version = newest(&applied);
            return Ok(());
        }
        self.take_lock(driver, notify).await?;
        let result = async {
            let applied = in_layout(layout, driver.read_history().await?);
            let stored = stored_downs(&*driver, layout, local, &applied, &target).await?;
            let plan = match plan::plan_rollback(local, &applied, target, &stored, use_file_down) {
                Ok(plan) => plan,
                Err(refused) => {
                    return Err(unfinished::ask_server_of(&*driver, refused, true).await)
                }
            };
            let plan = in_layout_downs(plan, layout, notify);
            let plan: Vec<&Migration> = plan.iter().map(AsRef::as_ref).collect();
            let applied = self
                .apply_plan(driver, &plan, Direction::Down, report, notify)
                .await;
            report.restored_data = self.guard_outcome().restored;
            applied?;
            report.current_version = newest(&in_layout(layout, driver.read_history().await?));
            Ok(())
        }
        .await;
        self.release_lock(driver, result, notify).await
    }

    /// What the data guard did (taken out).
    fn guard_outcome(&self) -> crate::backup::GuardOutcome {
        self.guard
            .as_ref()
            .map(DataGuard::take_outcome)
            .unwrap_or_default()
    }

    /// Under the lock, before `migrate` applies anything with a data
    /// guard: the data an earlier run kept and could not write to the
    /// store is written now, and `always` takes a full backup (its id).
    async fn before_run(
        &self,
        driver: &mut impl Driver,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Option<crate::backup::BackupId>, Error> {
        let Some(guard) = &self.guard else {
            return Ok(None);
        };
        driver.before_run(notify).await;
        let Some(full) = guard
            .full
            .as_ref()
            .filter(|_| guard.mode == crate::backup::BackupMode::Always)
        else {
            return Ok(None);
        };
        let created = crate::backup::Backups::new(guard.store.clone())
            .create(full, notify)
            .await?;
        notify(Notice::Info(&format!(
            "full backup {} taken before migrating ({} bytes)",
            created.backup.id, created.backup.size_bytes
        )));
        Ok(Some(created.backup.id))
    }

    /// Applies each migration of `plan` in `direction`, stopping at the
    /// first failure, which is told what ran before it and what did not.
    async fn apply_plan(
        &self,
        driver: &mut impl Driver,
        plan: &[&Migration],
        direction: Direction,
        report: &mut RunReport,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<(), Error> {
        driver.ensure_history().await?;
        let (done, stopped) = driver.apply_in_order(plan, direction, notify).await;
        for (migration, &execution_ms) in plan.iter().zip(&done) {
            if direction == Direction::Up && !migration.version.is_repeatable() {
                let newest = match report.current_version.take() {
                    Some(v) => v.max(migration.version.clone()),
                    None => migration.version.clone(),
                };
                report.current_version = Some(newest);
            }
            report.executed.push(Executed {
                version: migration.version.clone(),
                label: migration.label(),
                execution_ms,
            });
        }
        match stopped {
            Err(Error::MigrationFailed(mut failure)) => {
                let before = report.executed.iter().map(|e| e.label.clone()).collect();
                match direction {
                    Direction::Up => failure.applied_before = before,
                    Direction::Down => failure.rolled_back_before = before,
                }
                let reached = (done.len() + 1).min(plan.len());
                failure.not_reached = plan[reached..].iter().map(|m| m.label()).collect();
                Err(Error::MigrationFailed(failure))
            }
            other => other,
        }
    }
}

/// Marks the pending backfills an earlier run left part-way (with the
/// same script: a changed one starts again).
async fn backfill_standing(
    driver: &impl Driver,
    local: &[Migration],
    migrations: &mut [StatusRow],
) {
    if !local.iter().any(|m| m.up.directives.backfill.is_some()) {
        return;
    }
    let standing = driver.backfill_marks().await;
    for row in migrations.iter_mut().filter(|r| r.state == State::Pending) {
        let Some((checksum, mark)) = standing.get(&row.version) else {
            continue;
        };
        let same = plan::file_of(local, &row.version)
            .is_some_and(|m| m.up.checksum.as_str() == checksum && mark.direction == "up");
        if same {
            row.backfill_progress = Some(mark.clone());
        }
    }
}

/// Refuses the first run on a database that is not new (another tool's
/// history, or tables where the migrations create theirs) unless
/// `allow_non_empty`, which turns the refusal into a note.
async fn check_adopted(
    driver: &impl Driver,
    applied: &[AppliedMigration],
    plan: &[&Migration],
    allow_non_empty: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<(), Error> {
    if !applied.is_empty() || plan.is_empty() {
        return Ok(());
    }
    match driver.unadopted().await? {
        None => Ok(()),
        Some(found) if allow_non_empty => {
            notify(Notice::Info(&format!(
                "{} (going on: non-empty databases are allowed)",
                found.advice()
            )));
            Ok(())
        }
        Some(found) => Err(Error::refused(
            crate::error::refusal::RefusalKind::NotAdopted,
            format!("nothing was changed: {}", found.advice()),
        )),
    }
}
