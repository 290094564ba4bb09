//! schemactl: a migration runner and schema-governance toolkit for PostgreSQL.
//!
//! The library is organised the way the data flows:
//!
//! - [`migration`] reads a migrations directory into [`migration::Migration`]s
//!   (file names, checksums, directives, statements). It knows nothing about
//!   databases.
//! - [`history`] and [`plan`] hold the pure policy: given the files and the
//!   recorded history, what is applied, pending, modified, missing or failed,
//!   and what a `migrate` or `rollback` would do.
//! - [`postgres`] is the driver: connections (with TLS), the history tables,
//!   the advisory lock and the execution of one migration.
//! - [`embedded`] starts a local development PostgreSQL from the binaries on
//!   the machine; the test harness uses it too.
//! - [`commands`] puts these together into what the CLI verbs do.
//!
//! The `schemactl` binary only parses arguments, calls [`commands`], prints
//! and maps [`Error`] to the documented [`exit_code`]s.

pub mod commands;
pub mod config;
pub mod deploy;
pub mod driver;
pub mod duration;
pub mod embed;
pub mod embedded;
mod error;
pub mod exit_code;
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
pub mod schema;
pub mod session;
pub mod severity;
pub mod source;

pub use error::{Error, FailureOutcome, LockHolder, MigrationFailure, Problem};
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
