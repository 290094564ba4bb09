//! Progress a run reports while it goes: the library calls back with a
//! [`Notice`]; the CLI prints it, an application logs it or ignores it.

use crate::LockHolder;

/// Progress worth telling a user while a command runs.
#[derive(Debug)]
pub enum Notice<'a> {
    /// Something is being set up (the embedded server, …).
    Info(&'a str),
    /// Something the user should look at that does not stop the run (a
    /// `.sql` file the layout cannot place).
    Warning(&'a str),
    /// Another run holds the migration lock; this one waits.
    WaitingForLock(&'a [LockHolder]),
    /// A script starts.
    Running {
        /// `0003_add_orders`.
        label: &'a str,
    },
    /// A script finished.
    Done {
        /// What was done: `applied`, `rolled back`.
        action: &'static str,
        /// `0003_add_orders`.
        label: &'a str,
        /// Its duration.
        execution_ms: i64,
    },
    /// A backfill committed a batch (`-- schemactl:backfill`).
    Backfill(&'a crate::model::backfill::BackfillProgress),
    /// A long task goes on: a transfer (a backup written, restored) counts
    /// bytes, `verify` counts migrations.
    Progress {
        /// What is being done: `backing up`, `restoring`, `verifying`.
        task: &'a str,
        /// Bytes (or migrations) so far.
        done: u64,
        /// Bytes (or migrations) in all, when known (an estimate for a
        /// backup: the database's size on disk).
        total: Option<u64>,
        /// Whether `done` and `total` count bytes (a transfer) rather than
        /// migrations.
        bytes: bool,
    },
}
