//! [`Verifier`]: every migration's up, down and up again on a scratch
//! database of a development server, the schema compared catalog to
//! catalog after each step. The database being migrated is never touched.

mod cluster_objects;
pub(crate) mod diff;
mod lock_timeline;
mod report;
pub(crate) mod round_trips;
mod schedule;
mod worker;

use crate::config::Settings;
use crate::model::Version;
use crate::runner::notice::Notice;
use crate::source::MigrationSource;
use crate::Error;
use round_trips::{verify_migrations, VerifyOptions};

pub use diff::DiffReport;

pub use crate::postgres::lock_trace::TableLockSummary;
pub use report::{MigrationLocks, MigrationResult, Outcome, Step, Stopped, VerifyReport};

/// Verifies the migrations of one source on the development server of
/// `settings` (`dev_url`, else the embedded development server when allowed).
pub struct Verifier {
    source: Box<dyn MigrationSource>,
    settings: Settings,
    data: bool,
    locks: bool,
    jobs: usize,
}

impl Verifier {
    /// The workers `verify` uses when not told: one per CPU, at most 8
    /// (each holds two or three connections to the development server).
    pub fn default_jobs() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    }

    /// A verifier of `source`'s migrations.
    pub fn new(source: impl MigrationSource + 'static, settings: Settings) -> Self {
        Self {
            source: Box::new(source),
            settings,
            data: false,
            locks: false,
            jobs: Self::default_jobs(),
        }
    }

    /// A verifier of the project's own migrations directory (as
    /// `settings.project` says how to read it), with the whole configuration.
    pub fn of_project(settings: &Settings) -> Self {
        Self::new(
            crate::source::Directory::from_settings(settings),
            settings.clone(),
        )
    }

    /// Traces the locks each statement takes (`verify --locks`).
    pub fn with_locks(mut self, locks: bool) -> Self {
        self.locks = locks;
        self
    }

    /// Verifies with `jobs` workers at most, each on its own scratch
    /// database (`verify --jobs`); the report is the same as with one.
    pub fn with_jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Checks rows too (`verify --data`): generated rows must survive each
    /// migration's up and down.
    pub fn with_data(mut self, data: bool) -> Self {
        self.data = data;
        self
    }

    /// Verifies the migrations from version `from` (all when `None`; the
    /// older ones are only applied); `notify` hears each one done as a
    /// [`Notice::Progress`] that counts migrations (task `verifying`).
    pub async fn verify(
        &self,
        from: Option<Version>,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<VerifyReport, Error> {
        let local = self.source.load()?;
        let options = VerifyOptions {
            from,
            data: self.data,
            locks: self.locks,
            jobs: self.jobs,
        };
        verify_migrations(&self.settings, local, &options, notify).await
    }

    /// Compares the live database with a replay of its applied migrations
    /// on a scratch database (`schemactl diff`).
    pub async fn drift(
        &self,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<DiffReport, Error> {
        diff::drift(&self.settings, self.source.load()?, notify).await
    }
}
