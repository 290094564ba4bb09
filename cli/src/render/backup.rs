//! `backup create`, `list`, `verify`, `restore` and `prune` for people.

use super::duration;
use schemactl::backup::{BackupCreated, BackupList, BackupRestored, BackupSummary, PruneReport};
use std::fmt::Write;

/// A size in bytes as people read it.
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 10 * 1024 => format!("{b} B"),
        b if b < 10 * 1024 * 1024 => format!("{} KiB", b / 1024),
        b if b < 10 * 1024 * 1024 * 1024 => format!("{} MiB", b / (1024 * 1024)),
        b => format!("{:.1} GiB", b as f64 / (1024.0 * 1024.0 * 1024.0)),
    }
}

fn summary(backup: &BackupSummary) -> String {
    let mongodb = match backup.mongodb_collections {
        0 => String::new(),
        n => format!(
            ", MongoDB {n} collections, {} documents",
            backup.mongodb_documents
        ),
    };
    format!(
        "{}  {}  {:>9}  {}  {} tables, {} rows{mongodb}  history {}{}",
        backup.id,
        backup.created_at.date(),
        size(backup.size_bytes),
        backup.database,
        backup.tables,
        backup.rows,
        backup.history_version.as_deref().unwrap_or("-"),
        if backup.encrypted {
            ""
        } else {
            "  (NOT encrypted)"
        }
    )
}

/// `backup create`.
pub fn backup_created(report: &BackupCreated) -> String {
    format!(
        "Backed up in {} to {}:\n  {}\n",
        duration(report.duration_ms as i64),
        report.store,
        summary(&report.backup)
    )
}

/// `backup list`.
pub fn backup_list(report: &BackupList) -> String {
    if report.backups.is_empty() {
        return format!("No backups in {}\n", report.store);
    }
    let mut out = format!("{} backups in {}:\n", report.backups.len(), report.store);
    for backup in &report.backups {
        let _ = writeln!(out, "  {}", summary(backup));
    }
    out
}

/// `backup verify` and `backup restore`.
pub fn backup_restored(report: &BackupRestored, verb: &str) -> String {
    let mut out = format!(
        "{verb} backup {} into {} in {} (the restore time): {} tables, {} rows\n",
        report.id,
        report.database,
        duration(report.restore_ms as i64),
        report.tables,
        report.rows
    );
    for note in &report.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    if report.ok {
        out.push_str(if verb == "Verified" {
            "Every file, every table's rows and the schema match the manifest.\n"
        } else {
            "Every file and every table's rows match the manifest.\n"
        });
        return out;
    }
    for difference in &report.differences {
        let _ = writeln!(out, "  - {difference}");
    }
    if !report.schema_diff.is_empty() {
        out.push_str("  - the schema differs:\n");
        for line in report.schema_diff.lines().take(40) {
            let _ = writeln!(out, "      {line}");
        }
    }
    out
}

/// `backup prune`.
pub fn prune(report: &PruneReport) -> String {
    let mut out = String::new();
    for kept in &report.kept {
        let _ = writeln!(out, "keep    {}  ({})", kept.id, kept.kept_by.join(", "));
    }
    for deleted in &report.deleted {
        let _ = writeln!(
            out,
            "{}  {}",
            if report.dry_run {
                "would delete"
            } else {
                "deleted"
            },
            deleted.id
        );
    }
    let _ = writeln!(
        out,
        "{} kept, {} {} in {}",
        report.kept.len(),
        report.deleted.len(),
        if report.dry_run {
            "would be deleted (dry run)"
        } else {
            "deleted"
        },
        report.store
    );
    out
}
