//! Schema snapshots: what a PostgreSQL database's schema is, read from the
//! system catalogs on an open connection, in a deterministic,
//! normalised form ([`Snapshot`]) that can be printed, diffed and compared
//! object by object ([`compare()`]). `dump`, `verify` and `diff` are built on it.

pub(crate) mod catalog;
pub(crate) mod compare;
pub(crate) mod snapshot;

pub use compare::{colour_diff, compare, unified_diff, Difference, DifferenceKind};
pub use snapshot::{SchemaObject, Snapshot};
