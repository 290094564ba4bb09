//! The PostgreSQL driver: how to reach a server, where the history lives,
//! the lock that serialises concurrent deploys, and how one migration script
//! runs. The policy (what to run, what to refuse) is in [`crate::plan`].

pub mod advisory_lock;
pub mod connection;
mod db_error;
pub mod driver;
pub mod executor;
pub mod foreign_history;
pub mod history_table;
pub mod invalid_indexes;
pub mod libpq_env;
pub mod scratch;
pub mod tls;

pub use connection::{DatabaseTarget, SslMode};
pub(crate) use db_error::describe;
pub use driver::PostgresDriver;
pub use history_table::HistoryTable;
