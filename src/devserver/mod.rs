//! A PostgreSQL server that schemactl starts itself from the binaries on the
//! machine: the development default when no database URL is given
//! ([`DevServer`]), and the server of the test harness and benchmarks
//! (`cluster`, public only with the `harness` cargo feature, which
//! schemactl's own tests and `xtask` turn on).

#[cfg(feature = "harness")]
pub mod binaries;
#[cfg(not(feature = "harness"))]
pub(crate) mod binaries;
#[cfg(feature = "harness")]
pub mod cluster;
#[cfg(not(feature = "harness"))]
pub(crate) mod cluster;
mod dev_server;

pub use dev_server::DevServer;
pub(crate) mod state_dir;
mod system_user;
