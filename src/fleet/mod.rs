//! Fleets: one verb over many tenant databases, or over the tenant schemas
//! of one database, in one run (`schemactl fleet migrate | status |
//! validate | rollback | diff`).
//!
//! A fleet run is a single-database run per target, with the same lock,
//! history and checks ([`crate::Migrator`]), driven by a pool of workers
//! (`waves`): canaries first, a stop after too many failures, a ledger
//! written as it goes (`ledger`) so that a killed run resumes where it
//! stood, and a stable split of the targets across processes (`shard`)
//! for a Kubernetes Indexed Job.

pub(crate) mod ledger;
pub mod report;
pub(crate) mod run;
pub(crate) mod shard;
pub(crate) mod target;
pub(crate) mod targets;
pub(crate) mod waves;

pub(crate) use ledger::Ledger;
pub(crate) use ledger::LedgerStore;
pub use ledger::TargetState;
pub use report::FleetReport;
pub use run::{FleetRequest, FleetVerb};
pub use shard::Shard;
pub(crate) use target::Target;
pub(crate) use targets::ListRules;
pub use targets::{DatabaseList, SchemaList, TargetSpec};
pub(crate) use waves::Outcome;
pub use waves::TargetResult;
pub(crate) use waves::Waves;
