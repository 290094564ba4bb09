//! The MongoDB side (the driver parts need the `mongodb` cargo feature, on
//! by default): collections' JSON-schema validators and indexes kept in
//! `schemas/<database>/<collection>.json`, applied, recorded, verified and
//! rolled back like SQL migrations.
//!
//! - `spec` reads and checks the files (the desired state) and computes
//!   their checksums over a canonical JSON form.
//! - `live` reads what a server has (collection options, indexes) in the
//!   same canonical form, and plans the commands that bring it to a spec.
//! - `plan` decides, without I/O, what a run does or why it refuses.
//! - [`report`] is what runs report (built with or without the driver).
//! - `validator_checks` are the checks of a file that need no server.
//! - `history` records every applied spec in `<database>.schema_versions`
//!   and serialises runs with an expiring lock document.

#[cfg(feature = "mongodb")]
pub(crate) mod connection;
#[cfg(feature = "mongodb")]
pub(crate) mod history;
#[cfg(feature = "mongodb")]
pub(crate) mod live;
#[cfg(feature = "mongodb")]
pub(crate) mod plan;
pub mod report;
/// Applying, verifying and rolling back the specs under the MongoDB lock.
#[cfg(feature = "mongodb")]
pub(crate) mod runner;
// Without the driver only lint reads the spec files (their validators).
#[cfg_attr(not(feature = "mongodb"), allow(dead_code))]
pub(crate) mod spec;
pub(crate) mod validator_checks;

#[cfg(feature = "mongodb")]
pub(crate) use connection::MongoTarget;
