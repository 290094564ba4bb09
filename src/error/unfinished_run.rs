//! What the server says of a run that started a `no-transaction`
//! migration and left its row unfinished: ended, or still going.

use super::LockHolder;

/// Whether the run that started an unfinished migration is still going,
/// as PostgreSQL says: a run holds the migration lock (a session advisory
/// lock, or a live lease row) from before it starts a migration until it
/// finishes or its session ends, so "nobody holds it" means the run ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UnfinishedRun {
    /// The server was not asked (a fleet run, or the question failed).
    Unchecked,
    /// No session holds the migration lock: the run ended (killed, crashed,
    /// its connection lost) without finishing the migration.
    Ended,
    /// These sessions hold the migration lock: the run, or its server
    /// session, is still going.
    Going {
        /// Who holds the lock.
        holders: Vec<LockHolder>,
    },
}

impl UnfinishedRun {
    /// What the server says, from who holds the migration lock now.
    pub(crate) fn from_holders(holders: Vec<LockHolder>) -> Self {
        if holders.is_empty() {
            Self::Ended
        } else {
            Self::Going { holders }
        }
    }
}
