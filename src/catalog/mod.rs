//! Schema snapshots: what a PostgreSQL database's schema is, read from the
//! system catalogs on an open connection, in a deterministic,
//! normalised form ([`Snapshot`]) that can be printed, diffed and compared
//! object by object (`compare`). `dump`, `verify` and `diff` are built on it.

pub(crate) mod dump;
pub mod er_diagram;

mod access;
pub(crate) mod compare;
mod exclusion;
pub(crate) mod normalise;
pub(crate) mod reading;
mod scope;
pub(crate) mod snapshot;
pub(crate) mod table_data;

pub(crate) use compare::{compare, Tolerance};
pub use compare::{Difference, DifferenceKind};
pub(crate) use snapshot::SchemaObject;
pub use snapshot::Snapshot;
pub use table_data::{DataClass, DataVerdict, TableChange, UnfillableTable};
