//! The MongoDB side: collections' JSON-schema validators and indexes kept in
//! `schemas/<database>/<collection>.json`, applied, recorded, verified and
//! rolled back like SQL migrations.
//!
//! - [`spec`] reads and checks the files (the desired state) and computes
//!   their checksums over a canonical JSON form.
//! - [`live`] reads what a server has (collection options, indexes) in the
//!   same canonical form, and plans the commands that bring it to a spec.
//! - [`history`] records every applied spec in `<database>.schema_versions`
//!   and serialises runs with an expiring lock document.

pub mod connection;
pub mod history;
pub mod live;
pub mod plan;
pub mod spec;
pub mod validator_checks;

pub use connection::MongoTarget;
pub use spec::CollectionSpec;
