//! Metrics for monitoring: what a `migrate`, `rollback`, fleet run or
//! backup did, written as a Prometheus text-format file for
//! node_exporter's textfile collector (`--metrics-file PATH`).
//!
//! A run updates the samples it knows and keeps the others, so one file
//! can serve deploys and backups alike, and a failed backup leaves the
//! time of the last good one in place (what an alert on its age reads).
//! The file is replaced atomically: a scrape never sees half of it.

mod of_reports;
mod sample;
mod textfile;

pub(crate) use of_reports::{
    database_label, of_backup_created, of_backup_verified, of_fleet, of_outcome, of_run,
};
pub(crate) use sample::{Kind, Sample, Update};
pub(crate) use textfile::update_file;
