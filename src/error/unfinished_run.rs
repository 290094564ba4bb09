//! What the server says of a run that started a `no-transaction`
//! migration and left its row unfinished: ended, or still going.

use super::LockHolder;

/// Whether the run that started an unfinished migration is still going,
/// as PostgreSQL says: the server session that runs the script (named by
/// the migration's `started` event) still exists or not; with
/// `lock_mode = "table"`, the run's lease is live or not.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UnfinishedRun {
    /// The server was not asked, or could not say (the question failed).
    Unchecked,
    /// The run ended (killed, crashed, its connection lost) without
    /// finishing the migration: its session, or its lease, is gone.
    Ended,
    /// The run, or its server session, is still going.
    Going {
        /// The session running the script, or the run's lease.
        holders: Vec<LockHolder>,
    },
}

impl UnfinishedRun {
    /// What the server says, from who holds the migration lock now (for
    /// a lease, or a row whose `started` event names no session).
    pub(crate) fn from_holders(holders: Vec<LockHolder>) -> Self {
        if holders.is_empty() {
            Self::Ended
        } else {
            Self::Going { holders }
        }
    }
}
