//! Migrations compiled into an application: what
//! [`embed_migrations!`](crate::embed_migrations) produces, and the start-up
//! call that applies them.
//!
//! The files are checked, split and checksummed by the same code as the
//! CLI's directory reader, and applied by the same [`Migrator`] under the
//! same advisory lock into the same history table, so an application and
//! the `schemactl` CLI agree on what is applied and either can continue the
//! other's history.

use crate::config::{ConnectOptions, RunOptions};
use crate::model::plan::MigrateOptions;
use crate::model::Migration;
use crate::runner::notice::Notice;
use crate::source::reader;
use crate::source::MigrationSource;
use crate::{Error, Migrator, RunReport};
use std::path::Path;
use tokio_postgres::Client;

/// The migrations of a directory, compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    directory: &'static str,
    files: &'static [(&'static str, &'static [u8])],
}

impl EmbeddedMigrations {
    /// What `embed_migrations!` builds: the directory's name (for messages)
    /// and each `.sql` file's name and bytes.
    #[doc(hidden)]
    pub const fn new(
        directory: &'static str,
        files: &'static [(&'static str, &'static [u8])],
    ) -> Self {
        Self { directory, files }
    }

    /// The migrations, read and checked as the CLI reads a directory.
    pub fn migrations(&self) -> Result<Vec<Migration>, Error> {
        self.load()
    }

    /// Applies what is pending on `client`, with schemactl's defaults
    /// (history in `public.schema_versions`, `lock_timeout` 5 s, a 60 s wait
    /// for the migration lock) and without reading any configuration file.
    ///
    /// ```no_run
    /// # async fn start(client: &tokio_postgres::Client) -> Result<(), schemactl::Error> {
    /// let report = schemactl::embed_migrations!("migrations").run(client).await?;
    /// println!("applied {} migration(s)", report.executed.len());
    /// # Ok(()) }
    /// ```
    pub async fn run(&self, client: &Client) -> Result<RunReport, Error> {
        self.run_with(client, &RunOptions::default(), &mut |_| {})
            .await
    }

    /// [`EmbeddedMigrations::run`] with explicit options (history table,
    /// timeouts, lock wait) and a callback that hears the progress.
    pub async fn run_with(
        &self,
        client: &Client,
        options: &RunOptions,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<RunReport, Error> {
        Migrator::new(*self, options.clone())
            .on(client)
            .run(MigrateOptions::default(), false, notify)
            .await
    }

    /// Applies what is pending on the database at `url` (a PostgreSQL URL
    /// or key/value connection string; TLS as its `sslmode` says), with
    /// schemactl's defaults.
    pub async fn run_url(&self, url: &str) -> Result<RunReport, Error> {
        Migrator::new(*self, RunOptions::default())
            .connect_with(ConnectOptions::url(url))
            .run(MigrateOptions::default(), false, &mut |_| {})
            .await
    }
}

impl MigrationSource for EmbeddedMigrations {
    fn location(&self) -> &Path {
        Path::new(self.directory)
    }

    fn load(&self) -> Result<Vec<Migration>, Error> {
        reader::from_memory(Path::new(self.directory), self.files)
    }
}
