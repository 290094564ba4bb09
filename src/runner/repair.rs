//! `repair`: the audited way out of a failed or modified state. Every
//! repair changes one history row, refuses when the row is not in the
//! state the repair is for, and appends an event saying what was done.

use super::Migrator;
use crate::model::history::{AppliedMigration, EventKind};
use crate::model::Version;
use crate::runner::driver::{AuditEvent, Driver, HistoryEdit};
use crate::runner::notice::Notice;
use crate::Error;

/// One repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// Delete a failed row after the database was cleaned up by hand, so
    /// that the next `migrate` runs the migration again.
    RemoveFailed(Version),
    /// Mark a failed row applied after its statements were completed by hand.
    MarkApplied(Version),
    /// Record the current checksums of an applied migration whose file had
    /// a cosmetic edit.
    AcceptChecksum(Version),
    /// Delete the row of an applied migration whose file was removed on purpose.
    Forget(Version),
    /// Delete every row: the history is wrong as a whole (the schema is
    /// not touched).
    ForgetAll,
}

impl Repair {
    /// The version one row's repair is for (`None` for [`Repair::ForgetAll`]).
    fn version(&self) -> Option<Version> {
        match self {
            Repair::RemoveFailed(v)
            | Repair::MarkApplied(v)
            | Repair::AcceptChecksum(v)
            | Repair::Forget(v) => Some(v.clone()),
            Repair::ForgetAll => None,
        }
    }
}

impl Migrator<'_> {
    /// Applies `repair` and returns a sentence saying what was done.
    pub async fn repair(
        &self,
        repair: Repair,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<String, Error> {
        let (local, layout, connection) = self.open(notify).await?;
        let mut driver = self.driver(&connection);
        let Some(version) = repair.version() else {
            return self.forget_all(notify).await;
        };
        let history = self.options.history.display();
        let driver = &mut driver;
        self.take_lock(driver, notify).await?;
        let result = async {
            let applied = super::in_layout(layout, driver.read_history().await?);
            let Some(row): Option<&AppliedMigration> = applied.iter().find(|r| r.version == version) else {
                return Err(Error::refused_about(crate::error::refusal::RefusalKind::Repair, [version.clone()], format!("version {version} is not recorded in {history}; nothing to repair")));
            };
            let file = crate::model::plan::file_of(&local, &version);
            let refuse = |why: &str| Err(Error::refused_about(crate::error::refusal::RefusalKind::Repair, [version.clone()], format!("version {version} ({}) {why}", row.name)));
            if matches!(repair, Repair::RemoveFailed(_) | Repair::MarkApplied(_)) {
                if let Some(running) = super::unfinished::still_running(&*driver, row).await {
                    return Err(Error::refused_about(crate::error::refusal::RefusalKind::Repair, [version.clone()], running));
                }
            }
            let (kind, detail, done) = match repair {
                Repair::RemoveFailed(_) if row.success => return refuse("did not fail; `--remove-failed` only removes failed rows"),
                Repair::MarkApplied(_) if row.success => return refuse("is already marked applied"),
                Repair::MarkApplied(_) => {
                    let invalid = driver.invalid_indexes().await?;
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
                Repair::ForgetAll => unreachable!("handled before the lock"),
                Repair::Forget(_) => (EventKind::RepairForgot, "record removed: its file is gone".to_string(), "removed its record"),
            };
            let edit = match repair {
                Repair::RemoveFailed(_) | Repair::Forget(_) | Repair::ForgetAll => HistoryEdit::Delete,
                Repair::MarkApplied(_) => HistoryEdit::MarkApplied { execution_ms: row.execution_ms },
                Repair::AcceptChecksum(_) => match file {
                    Some(file) => HistoryEdit::AcceptChecksum {
                        up: &file.up.checksum,
                        down: file.down.as_ref().map(|d| &d.checksum),
                        down_script: file.down.as_ref().map(|d| d.sql.as_str()),
                    },
                    None => return refuse("has no file; restore it or use --forget"),
                },
            };
            let event = AuditEvent {
                kind,
                version: version.clone(),
                name: &row.name,
                checksum: file.map(|f| &f.up.checksum),
                detail: &detail,
            };
            driver.ensure_history().await?;
            driver.repair(row.version.clone(), edit, event).await?;
            Ok(format!("version {version} ({}): {done}", row.name))
        }
        .await;
        self.release_lock(driver, result, notify).await
    }

    /// Empties schemactl's history (every row deleted, each with its audit
    /// event), without touching the schema: the way out of a history that
    /// is wrong as a whole, such as the first run on a database another tool
    /// migrated. Returns a sentence saying what was done.
    async fn forget_all(&self, notify: &mut (dyn FnMut(Notice) + Send)) -> Result<String, Error> {
        let (_, layout, connection) = self.open(notify).await?;
        let mut driver = self.driver(&connection);
        let history = self.options.history.display();
        let driver = &mut driver;
        self.take_lock(driver, notify).await?;
        let result = async {
            let applied = super::in_layout(layout, driver.read_history().await?);
            if applied.is_empty() {
                return Err(Error::refused(crate::error::refusal::RefusalKind::Repair, format!("{history} is already empty; nothing to forget")));
            }
            forget_rows(driver, &applied, "record removed: the whole history was forgotten (repair --forget-all)").await?;
            Ok(format!(
                "removed all {} record(s) of {history}; the schema is untouched. Adopt what the database has with \
                 `schemactl baseline --from <tool>` or `--version <V>`",
                applied.len()
            ))
        }
        .await;
        self.release_lock(driver, result, notify).await
    }
}

/// Deletes every row of `applied`, each with a `repair-forget` event
/// carrying `detail`.
pub(super) async fn forget_rows(
    driver: &mut impl Driver,
    applied: &[AppliedMigration],
    detail: &str,
) -> Result<(), Error> {
    driver.ensure_history().await?;
    for row in applied {
        let event = AuditEvent {
            kind: EventKind::RepairForgot,
            version: row.version.clone(),
            name: &row.name,
            checksum: Some(&row.checksum),
            detail,
        };
        driver
            .repair(row.version.clone(), HistoryEdit::Delete, event)
            .await?;
    }
    Ok(())
}
