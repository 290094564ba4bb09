//! How a transactional run is chained to the runs before and after it on
//! one connection, so that the next migration's messages can travel behind
//! the previous one's `COMMIT` instead of waiting for its answer.
//!
//! A chained run never commits on trust. Its setup fails at once (inside
//! its own transaction, after `BEGIN`) unless the server says the run
//! before it committed (`pg_xact_status` of that run's transaction id), so
//! a failure costs no wasted work; and it sends its history row and
//! `COMMIT` only once the run before it has answered that its history row
//! and `COMMIT` succeeded. Otherwise it rolls back, and is withdrawn: it
//! did not happen, and runs again later or not at all.

use futures_util::future::{FutureExt, Shared};
use tokio::sync::oneshot;

/// Whether the run before committed, known once its answers are in.
pub(crate) type Fate = Shared<oneshot::Receiver<bool>>;

/// A new fate: the sender says whether the run committed (dropping it says no).
pub(crate) fn fate() -> (oneshot::Sender<bool>, Fate) {
    let (sender, receiver) = oneshot::channel();
    (sender, receiver.shared())
}

/// What a chained run waits for and tells.
#[derive(Default)]
pub(crate) struct Link {
    /// The run before this one: its transaction id and its fate.
    pub(crate) after: Option<(String, Fate)>,
    /// Told this run's transaction id once its history row and `COMMIT`
    /// are on their way, so that the next run can be sent behind them.
    pub(crate) queued: Option<oneshot::Sender<String>>,
}

/// What became of a transactional run that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ran {
    /// Committed with its history row, in this many milliseconds.
    Committed(i64),
    /// Rolled back unrecorded because the run before it did not commit.
    Withdrawn,
}

/// The expression a chained run's setup evaluates: it fails (division by
/// zero, which aborts the transaction just begun) unless the server says
/// `transaction` committed. `None` for text that is not a transaction id
/// (only digits ever come back from `pg_current_xact_id()`).
pub(super) fn committed_guard(transaction: &str) -> Option<String> {
    let digits = !transaction.is_empty() && transaction.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| format!("1 / (pg_xact_status('{transaction}'::xid8) = 'committed')::int"))
}

/// Whether the run before committed (`true` when there is none).
pub(super) async fn predecessor_committed(fate: Option<&Fate>) -> bool {
    match fate {
        Some(fate) => fate.clone().await.unwrap_or(false),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_takes_only_a_transaction_id() {
        let guard = committed_guard("7345").expect("an id");
        assert!(guard.contains("pg_xact_status('7345'::xid8)"));
        assert_eq!(committed_guard("1'; DROP TABLE t; --"), None);
        assert_eq!(committed_guard(""), None);
    }

    #[tokio::test]
    async fn a_dropped_fate_means_not_committed() {
        let (sender, fate) = fate();
        drop(sender);
        assert!(!predecessor_committed(Some(&fate)).await);
        let (sender, fate) = super::fate();
        sender.send(true).expect("receiver alive");
        assert!(predecessor_committed(Some(&fate)).await);
        assert!(predecessor_committed(None).await);
    }
}
