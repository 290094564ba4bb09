//! schemactl: a migration runner and schema-governance toolkit for
//! PostgreSQL (and MongoDB validators, with the `mongodb` feature, on by
//! default).
//!
//! What an application or a tool uses:
//!
//! - [`Migrator`]: status, validate, run, undo, baseline and repair one
//!   database's migrations, under the migration lock, into the history.
//! - [`source`]: where migrations come from ([`source::Directory`],
//!   [`source::InMemory`], and [`embed_migrations!`], which compiles them
//!   into the binary).
//! - [`lint::Linter`] and [`verify::Verifier`]: the static checks and the
//!   up/down round trips on a scratch database.
//! - [`deploy::Deployment`]: what a deploy pipeline runs, PostgreSQL then MongoDB.
//! - [`config::Settings`]: every option, from flags, variables and
//!   `schemactl.toml`, or from code ([`config::Settings::defaults`]).
//! - [`Error`] and the documented [`ExitCode`]s.
//!
//! The library is one folder per subsystem: [`model`] (migrations,
//! versions, history rows and the pure plan: what to run, what
//! to refuse; no I/O), [`source`] (where migrations come from, every
//! layout), [`runner`] (the [`Migrator`], the [`runner::driver::Driver`]
//! seam, implemented by [`postgres::PostgresDriver`], and each runner verb
//! over [`config::Settings`]), [`postgres`] and [`mongo`] (the databases),
//! [`lint`], [`catalog`] (schema snapshots, comparison, table data, dump),
//! [`verify`] (round trips, drift), [`fleet`], [`config`] and
//! [`devserver`]. The `schemactl` binary only parses arguments, calls
//! these, prints and maps [`Error`] to the exit codes.

#![warn(missing_docs)]

pub mod backup;
pub mod catalog;
pub mod config;
pub mod devserver;
mod error;
pub mod fleet;
#[cfg(feature = "harness")]
#[doc(hidden)]
pub mod fuzz_targets;
pub mod lint;
pub mod model;
pub mod mongo;
pub mod postgres;
pub mod runner;
pub mod source;
pub mod verify;

pub use error::exit_code::ExitCode;
pub use error::refusal;
pub use error::{
    Error, FailureOutcome, LockContention, LockHolder, MigrationFailure, Problem, TransactionFate,
    UnfinishedRun,
};
pub use runner::deploy;
pub use runner::{Migrator, RunReport};
pub use source::build;

/// Compiles a migrations directory (relative to the calling crate's
/// `Cargo.toml`; default `migrations`) into the binary, as an
/// [`source::EmbeddedMigrations`]; `.run(&client)` applies what is pending at
/// start-up, under the same lock and into the same history as the CLI.
///
/// ```no_run
/// # async fn start(client: &tokio_postgres::Client) -> Result<(), schemactl::Error> {
/// schemactl::embed_migrations!("migrations").run(client).await?;
/// # Ok(()) }
/// ```
pub use schemactl_macros::embed_migrations;

/// The version of schemactl, recorded with every applied migration.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
