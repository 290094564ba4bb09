//! Schema snapshots: what a PostgreSQL database's schema is, read from the
//! system catalogs on an open connection ([`catalog`]), in a deterministic,
//! normalised form ([`snapshot`]) that can be printed, diffed and compared
//! object by object ([`compare`]). `dump`, `verify` and `diff` are built on it.

pub mod catalog;
pub mod compare;
pub mod snapshot;

pub use compare::{compare, Difference, DifferenceKind};
pub use snapshot::{SchemaObject, Snapshot};
