//! The runner's CLI verbs as library functions over [`crate::config::Settings`]:
//! each opens the configured directory and database and calls the
//! [`crate::Migrator`].

pub mod baseline;
pub mod migrate;
pub mod repair;
pub mod rollback;
pub mod status;
