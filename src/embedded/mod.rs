//! A PostgreSQL server that schemactl starts itself from the binaries on the
//! machine: the development default when no database URL is given
//! ([`dev_server`]), and the server of the test harness and benchmarks
//! ([`cluster`]).

pub mod binaries;
pub mod cluster;
pub mod dev_server;
mod system_user;
