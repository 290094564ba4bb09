//! schemactl's integration tests: one binary, one real PostgreSQL server,
//! one database per test (see `support`).

mod support;

mod agentic_schema;
mod bad_input;
mod concurrency;
mod embedded_dev;
mod history_problems;
mod lint;
mod mongodb;
mod runner;
mod reliability;
mod schema;
mod tls;
