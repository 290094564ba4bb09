//! The PostgreSQL driver: how to reach a server, where the history lives,
//! the lock that serialises concurrent deploys, and how one migration script
//! runs. The policy (what to run, what to refuse) is in `crate::model::plan`.

pub(crate) mod adoption;
pub(crate) mod advisory_lock;
mod attempts;
pub(crate) mod backfill_standing;
pub(crate) mod checked_row;
pub(crate) mod connection;
mod db_error;
mod driver;
pub(crate) mod executor;
pub(crate) mod foreign_history;
pub(crate) mod foreign_import;
mod history_peek;
pub(crate) mod history_table;
pub(crate) mod hooks;
pub(crate) mod invalid_indexes;
pub(crate) mod lease_lock;
pub(crate) mod libpq_env;
pub(crate) mod lock_blockers;
pub(crate) mod lock_trace;
mod pipeline;
pub(crate) mod recovery_points;
pub(crate) mod releases;
pub(crate) mod scratch;
pub(crate) mod scratch_reset;
mod started_session;
mod stored_downs;
pub(crate) mod text_rows;
pub(crate) mod tls;

pub use adoption::Unadopted;
pub(crate) use advisory_lock::MigrationLock;
pub use connection::DatabaseTarget;
pub(crate) use connection::SslMode;
pub(crate) use db_error::describe;
pub use driver::PostgresDriver;
pub use foreign_import::{Recorded, Tool};
pub use history_table::HistoryTable;
pub use invalid_indexes::InvalidIndex;
pub use lock_blockers::Blocker;
