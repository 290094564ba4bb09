//! `schemactl repair`: the audited way out of a failed or modified state.
//! Every repair changes one history row, refuses when the row is not in the
//! state the repair is for, and appends an event saying what was done.

use super::{load_and_connect, locked, Notice};
use crate::config::Settings;
use crate::history::{AppliedMigration, EventKind};
use crate::postgres::history_table::{database, NewEvent};
use crate::Error;

/// One repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// Delete a failed row after the database was cleaned up by hand, so
    /// that the next `migrate` runs the migration again.
    RemoveFailed(i64),
    /// Mark a failed row applied after its statements were completed by hand.
    MarkApplied(i64),
    /// Record the current checksums of an applied migration whose file had
    /// a cosmetic edit.
    AcceptChecksum(i64),
    /// Delete the row of an applied migration whose file was removed on purpose.
    Forget(i64),
}

impl Repair {
    fn version(self) -> i64 {
        match self {
            Repair::RemoveFailed(v)
            | Repair::MarkApplied(v)
            | Repair::AcceptChecksum(v)
            | Repair::Forget(v) => v,
        }
    }
}

/// Applies `repair` and returns a sentence saying what was done.
pub async fn repair(
    settings: &Settings,
    repair: Repair,
    notify: &mut dyn FnMut(Notice),
) -> Result<String, Error> {
    let (local, session) = load_and_connect(settings, notify).await?;
    let client = &session.client;
    let version = repair.version();
    locked(&session.client, settings, notify, async |_: &mut dyn FnMut(Notice)| {
        let applied = settings.history.read(client).await?;
        let Some(row): Option<&AppliedMigration> = applied.iter().find(|r| r.version == version) else {
            return Err(Error::Refused(format!("version {version} is not recorded in {}; nothing to repair", settings.history.display())));
        };
        let file = local.iter().find(|m| m.version == version);
        settings.history.ensure(client).await?;
            let writer = settings.history.writer(client).await?;
        let refuse = |why: &str| Err(Error::Refused(format!("version {version} ({}) {why}", row.name)));
        let (kind, detail, done) = match repair {
            Repair::RemoveFailed(_) if row.success => return refuse("did not fail; `--remove-failed` only removes failed rows"),
            Repair::MarkApplied(_) if row.success => return refuse("is already marked applied"),
            Repair::MarkApplied(_) => {
                let invalid = crate::postgres::invalid_indexes::find(client).await?;
                if !invalid.is_empty() {
                    let drops: Vec<String> = invalid.iter().map(|i| i.drop_statement()).collect();
                    return refuse(&format!(
                        "cannot be marked applied while the database has INVALID indexes (a CREATE INDEX CONCURRENTLY that failed): {}; \
                         drop them (`{}`), build them again, then mark it applied",
                        invalid.iter().map(|i| i.index.as_str()).collect::<Vec<_>>().join(", "),
                        drops.join(" ")
                    ));
                }
                (
                    EventKind::RepairMarkedApplied,
                    format!("marked applied by hand (error was: {})", row.error.as_deref().unwrap_or("none")),
                    "marked it applied",
                )
            }
            Repair::AcceptChecksum(_) if !row.success => return refuse("failed; resolve that first with --remove-failed or --mark-applied"),
            Repair::Forget(_) if file.is_some() => return refuse("still has its file; `--forget` is for migrations whose file was removed on purpose (use `rollback` to undo one)"),
            Repair::RemoveFailed(_) => (
                EventKind::RepairRemovedFailed,
                format!("removed failed row (error was: {})", row.error.as_deref().unwrap_or("none")),
                "removed the failed row; the next `migrate` runs it again",
            ),
            Repair::AcceptChecksum(_) => {
                let Some(file) = file else {
                    return refuse("has no file; restore it or use --forget");
                };
                let down = file.down.as_ref().map(|d| &d.checksum);
                if file.up.checksum == row.checksum && down == row.down_checksum.as_ref() {
                    return refuse("already matches its files");
                }
                (
                    EventKind::RepairAcceptedChecksum,
                    format!(
                        "checksum {} -> {}, down checksum {} -> {}",
                        row.checksum,
                        file.up.checksum,
                        row.down_checksum.as_ref().map_or("none", |c| c.as_str()),
                        down.map_or("none", |c| c.as_str())
                    ),
                    "recorded the files' current checksums",
                )
            }
            Repair::Forget(_) => (EventKind::RepairForgot, "record removed: its file is gone".to_string(), "removed its record"),
        };
        let change = async {
            client.batch_execute("BEGIN").await?;
            match repair {
                Repair::RemoveFailed(_) | Repair::Forget(_) => writer.delete(client, version).await?,
                Repair::MarkApplied(_) => writer.finish(client, version, true, row.execution_ms, None).await?,
                Repair::AcceptChecksum(_) => {
                    if let Some(file) = file {
                        writer.accept_checksum(client, version, &file.up.checksum, file.down.as_ref().map(|d| &d.checksum)).await?;
                    }
                }
            }
            let event = NewEvent {
                kind,
                version,
                name: &row.name,
                checksum: file.map(|f| &f.up.checksum),
                execution_ms: Some(0),
                detail: Some(&detail),
            };
            writer.event(client, &event).await?;
            client.batch_execute("COMMIT").await
        };
        if let Err(e) = change.await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(database("cannot repair the history", &e));
        }
        Ok(format!("version {version} ({}): {done}", row.name))
    })
    .await
}
