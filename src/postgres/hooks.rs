//! [`ScriptHooks`]: statements another subsystem runs around a migration's
//! script, in the script's own transaction, without the driver knowing
//! what they are for (the backup subsystem's data guard: `migrate
//! --backup`, `rollback --restore-data`). The driver runs them, and
//! records the events the hooks hand back once the transaction committed.

use super::executor::Surrounding;
use crate::model::history::{EventKind, HistoryTable};
use crate::model::{Direction, Migration, Version};
use crate::runner::notice::Notice;
use crate::Error;
use futures_util::future::BoxFuture;
use tokio_postgres::Client;

/// Chooses what runs around each script.
pub trait ScriptHooks: Send + Sync {
    /// What runs around `migration`'s script in `direction` (`None`:
    /// nothing); `in_transaction` says whether the script runs in one.
    /// Asked just before the script runs, on the migration's connection.
    #[allow(clippy::too_many_arguments)]
    fn around<'a, 'f>(
        &'a self,
        client: &'f Client,
        history: &'f HistoryTable,
        migration: &'f Migration,
        direction: Direction,
        in_transaction: bool,
        notify: &'f mut (dyn FnMut(Notice) + Send),
    ) -> BoxFuture<'f, Result<Option<Box<dyn AroundScript + 'a>>, Error>>
    where
        'a: 'f;

    /// Before a run applies its first script, on its connection: what an
    /// earlier run left to finish (the data guard writes out the data it
    /// staged and could not store); the events to record. Nothing unless
    /// the hooks say otherwise.
    fn before_run<'a, 'f>(
        &'a self,
        client: &'f Client,
        history: &'f HistoryTable,
        notify: &'f mut (dyn FnMut(Notice) + Send),
    ) -> BoxFuture<'f, Vec<HookEvent>>
    where
        'a: 'f,
    {
        let _ = (client, history, notify);
        Box::pin(async { Vec::new() })
    }
}

/// The statements around one script, and what follows its end.
pub trait AroundScript: Send + Sync {
    /// The statements.
    fn surrounding(&self) -> &Surrounding;

    /// After the script's transaction committed: the events to record.
    fn committed<'a>(
        self: Box<Self>,
        client: &'a Client,
        history: &'a HistoryTable,
        notify: &'a mut (dyn FnMut(Notice) + Send),
    ) -> BoxFuture<'a, Vec<HookEvent>>
    where
        Self: 'a;

    /// After the script failed (its transaction rolled back).
    fn failed<'a>(self: Box<Self>, client: &'a Client) -> BoxFuture<'a, ()>
    where
        Self: 'a;
}

/// An event a hook asks the driver to record.
#[derive(Debug, Clone)]
pub struct HookEvent {
    /// Its kind.
    pub kind: EventKind,
    /// The migration's version.
    pub version: Version,
    /// The migration's name.
    pub name: String,
    /// What happened.
    pub detail: String,
}
