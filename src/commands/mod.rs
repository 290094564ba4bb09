//! What each CLI verb does, as library functions that return a report (or an
//! [`crate::Error`]) and tell a [`Notice`] callback about progress. Printing is the
//! caller's business.

pub mod baseline;
pub mod diff;
pub mod dump;
pub mod lint;
pub mod migrate;
pub mod new_migration;
pub mod repair;
pub mod rollback;
pub mod status;

pub use crate::migrator::report::{Executed, PlannedScript, RunReport};
pub(crate) use crate::session::{connect, dev_target};

pub use crate::notice::Notice;
