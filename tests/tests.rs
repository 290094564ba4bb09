//! schemactl's integration tests: one binary, one real PostgreSQL server,
//! one database per test (see `support`).

mod support;

mod agentic_schema;
mod app_rollback;
mod architecture;
mod backfill;
mod backup;
#[cfg(feature = "azure")]
mod backup_azure;
#[cfg(feature = "gcs")]
mod backup_gcs;
#[cfg(feature = "s3")]
mod backup_s3;
mod bad_corpus;
mod bad_input;
mod concurrency;
mod docs;
mod down_check;
mod driver;
mod embedded_dev;
mod first_hour;
mod fleet;
mod foreign_history;
mod fuzz;
mod golang_migrate;
mod history_problems;
mod history_upgrade;
mod layouts;
mod library;
mod lint;
mod locks;
mod metrics;
#[cfg(feature = "mongodb")]
mod mongodb;
mod pooler;
mod reliability;
mod report;
mod runner;
mod schema;
mod tls;
mod truth;
mod verify_coverage;
mod verify_jobs;
mod walkthrough;
