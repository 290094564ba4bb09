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
//! - [`deploy`]: what a deploy pipeline runs, PostgreSQL then MongoDB.
//! - [`config::Settings`]: every option, from flags, variables and
//!   `schemactl.toml`, or from code ([`config::Settings::defaults`]).
//! - [`Error`] and the documented [`exit_code`]s.
//!
//! Underneath, [`plan`] is the pure policy (what to run, what to refuse),
//! [`driver::Driver`] the seam to a database, implemented by
//! [`postgres::PostgresDriver`], and [`commands`] what each CLI verb does.
//! The `schemactl` binary only parses arguments, calls these, prints and
//! maps [`Error`] to the exit codes.

#![warn(missing_docs)]

pub mod build;
pub mod commands;
pub mod config;
pub mod contention;
pub mod deploy;
pub mod driver;
pub(crate) mod duration;
pub mod embed;
pub mod embedded;
mod error;
pub mod exit_code;
pub mod fleet;
#[cfg(feature = "harness")]
#[doc(hidden)]
pub mod fuzz_targets;
pub mod history;
pub mod identifier;
pub mod lint;
pub mod migration;
pub mod migrator;
pub mod mongo;
pub mod notice;
pub mod plan;
pub mod postgres;
pub mod refusal;
pub mod schema;
pub(crate) mod session;
pub(crate) mod severity;
pub mod source;
pub mod verify;

pub use error::{
    Error, FailureOutcome, LockContention, LockHolder, MigrationFailure, Problem, TransactionFate,
};
pub use migrator::{Migrator, RunReport};

/// Compiles a migrations directory (relative to the calling crate's
/// `Cargo.toml`; default `migrations`) into the binary, as an
/// [`embed::EmbeddedMigrations`]; `.run(&client)` applies what is pending at
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
