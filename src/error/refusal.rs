//! Why a command refused to act, for programs as well as people: a
//! [`RefusalKind`] to match on (`"refusal"` in a JSON error's details) and
//! the message people read, unchanged.

use crate::model::Version;
use std::fmt;

/// What kind of refusal it is. New kinds may be added; match with a
/// wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RefusalKind {
    /// The connection goes through a transaction-pooling proxy, where the
    /// session advisory lock does not hold.
    TransactionPooler,
    /// Another run took the migration lease over.
    LeaseTakenOver,
    /// The database is not new and has no schemactl history: adopt it
    /// with `baseline` first.
    NotAdopted,
    /// The history was written by a newer schemactl.
    NewerHistoryFormat,
    /// A table schemactl reads does not have the shape it expects.
    UnexpectedTableShape,
    /// Another tool's history cannot be imported as it is.
    ForeignHistory,
    /// `baseline` cannot record what was asked.
    Baseline,
    /// `repair` has nothing to do, or cannot do what was asked.
    Repair,
    /// The plan of `migrate` or `rollback` cannot run (a target below the
    /// applied version, a script that cannot run, a down that changed).
    Plan,
    /// The MongoDB plan would destroy data or break documents, or there is
    /// nothing to roll back.
    MongoPlan,
    /// A fleet run's ledger or target list does not allow the run.
    Fleet,
    /// The development server named for scratch databases cannot be used
    /// (it is the deploy target, or its template is not empty).
    ScratchServer,
    /// A backup cannot be restored where asked (the database is not
    /// empty, or it is the deploy database).
    Backup,
    /// Another reason (see the message).
    Other,
}

/// A command's refusal; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// What kind of refusal it is.
    pub kind: RefusalKind,
    /// What was refused, why, and how to go on.
    pub message: String,
    /// The migration versions it is about (`"versions"` in a JSON error's
    /// details), in the order the message names them; empty when it is
    /// about none.
    pub versions: Vec<Version>,
}

impl Refusal {
    /// A refusal of `kind`, explained by `message`.
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            versions: Vec::new(),
        }
    }

    /// The same refusal, about `versions`.
    pub fn about(mut self, versions: impl IntoIterator<Item = Version>) -> Self {
        self.versions = versions.into_iter().collect();
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
