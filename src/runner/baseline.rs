//! `baseline`: adopt a database that schemactl has never migrated, by
//! recording migrations as applied without running them: either every
//! migration up to a version, or exactly those another tool recorded in
//! its history table (sqlx, diesel, golang-migrate, dbmate, goose, Flyway,
//! refinery), keeping when it applied them and its own checksum.

use super::foreign_checksum;
use super::{elapsed_ms, Migrator};
use super::{Executed, PlannedScript};
use crate::model::adoption::{ForeignRow, Recorded, Tool};
use crate::model::history::AppliedMigration;
use crate::model::identifier::Identifier;
use crate::model::Migration;
use crate::model::Version;
use crate::runner::driver::BaselineEntry;
use crate::runner::driver::Driver;
use crate::runner::notice::Notice;
use crate::{Error, RunReport};
use std::path::Path;
use std::time::Instant;

/// What to record as applied.
#[derive(Debug, Clone)]
pub enum BaselineSource {
    /// Every migration with a version up to and including this one (which
    /// must have a file). On a database with no tables it is refused unless
    /// `force`: recording migrations as applied there makes them never run.
    UpTo {
        /// The newest migration the database already has.
        version: Version,
        /// Baseline even a database without tables.
        force: bool,
    },
    /// The versions another tool applied, read from its history table.
    Foreign {
        /// The tool; `None`: the one whose table the database has.
        tool: Option<Tool>,
        /// Its table; `None`: the tool's default.
        table: Option<Identifier>,
    },
}

impl Migrator<'_> {
    /// Records migrations as applied without running them (or, with
    /// `dry_run`, reports what would be recorded). Refused when the history
    /// already has rows: baselining is for databases schemactl has not
    /// migrated yet.
    pub async fn baseline(
        &self,
        source: &BaselineSource,
        dry_run: bool,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<RunReport, Error> {
        let started = Instant::now();
        let (local, layout, connection) = self.open(notify).await?;
        let mut report = self.report(connection.target(), dry_run);
        let mut driver = self.driver(&connection);
        let history = self.options.history.display();
        let location = self.source.location();
        let driver = &mut driver;
        self.take_lock(driver, notify).await?;
        let result = async {
                let applied = super::in_layout(layout, driver.read_history().await?);
                let chosen = match source {
                    BaselineSource::UpTo { version, force } => {
                        refuse_recorded(&applied, &history, None)?;
                        if !force && driver.unadopted().await?.is_none() {
                            return Err(Error::refused_about(crate::error::refusal::RefusalKind::Baseline, [version.clone()], format!(
                                "this database has no tables yet: recording migrations up to {version} as applied would make them never run here. \
                                 Run `schemactl migrate` instead, or pass --force if the schema lives where schemactl does not look \
                                 (outside the search path's first schema)"
                            )));
                        }
                        up_to(&local, version.clone(), location)?
                    }
                    BaselineSource::Foreign { tool, table } => {
                        let chosen = from_foreign(&*driver, &local, *tool, table.as_ref()).await?;
                        refuse_recorded(&applied, &history, Some(&chosen))?;
                        if !applied.is_empty() && !dry_run {
                            let detail = "record removed: replaced by the import of another tool's history (baseline --from)";
                            super::repair::forget_rows(driver, &applied, detail).await?;
                        }
                        chosen
                    }
                };
                if !dry_run {
                    driver.ensure_history().await?;
                    driver.record_baseline(&chosen).await?;
                }
                Ok(chosen)
            }
        .await;
        let chosen = self.release_lock(driver, result, notify).await?;
        let entries = chosen.iter().map(|e| Executed {
            version: e.migration.version.clone(),
            label: e.migration.label(),
            execution_ms: 0,
        });
        if dry_run {
            report.planned = chosen
                .iter()
                .map(|e| PlannedScript::new(e.migration, &e.migration.up, &self.options.execution))
                .collect();
        } else {
            report.executed = entries.collect();
        }
        report.current_version = chosen.last().map(|e| e.migration.version.clone());
        report.total_ms = elapsed_ms(started);
        Ok(report)
    }
}

/// Baseline adopts a database schemactl has not migrated: a history with
/// rows is refused, except (importing another tool's history) when every
/// row is a migration that tool also recorded, successful: the mark of a
/// first `migrate` that ran on an unadopted database before schemactl
/// refused such runs, and which the import replaces.
fn refuse_recorded(
    applied: &[AppliedMigration],
    history: &str,
    imported: Option<&[BaselineEntry<'_>]>,
) -> Result<(), Error> {
    let covered = |row: &AppliedMigration| {
        imported.is_some_and(|chosen| {
            row.success && chosen.iter().any(|e| e.migration.version == row.version)
        })
    };
    if applied.iter().all(covered) {
        return Ok(());
    }
    let reset = "`schemactl repair --forget-all --yes` empties it (the schema is not touched) when it is wrong";
    Err(Error::refused(crate::error::refusal::RefusalKind::Baseline, format!(
        "{history} already records {} migration(s); baseline only adopts a database that schemactl has never migrated \
         (or whose history only holds migrations the imported one also records); {reset}",
        applied.len()
    )))
}

fn up_to<'a>(
    local: &'a [Migration],
    version: Version,
    location: &Path,
) -> Result<Vec<BaselineEntry<'a>>, Error> {
    if let Some(newest) = local
        .iter()
        .map(|m| &m.version)
        .filter(|v| !v.is_repeatable())
        .max()
    {
        if version > *newest {
            return Err(Error::refused_about(crate::error::refusal::RefusalKind::Baseline, [version.clone(), newest.clone()], format!(
                "version {version} is beyond the newest migration in {} ({newest}); name the newest migration the database already has",
                location.display()
            )));
        }
    }
    let chosen: Vec<_> = local
        .iter()
        .filter(|m| m.version <= version)
        .map(|m| BaselineEntry {
            migration: m,
            detail: "recorded as applied without running".to_string(),
            applied_at: None,
        })
        .collect();
    if chosen.is_empty() {
        return Err(Error::refused_about(
            crate::error::refusal::RefusalKind::Baseline,
            [version.clone()],
            format!(
                "there is no migration at or below version {version} in {}; nothing to baseline",
                location.display()
            ),
        ));
    }
    Ok(chosen)
}

/// A row another tool recorded, as schemactl records it: the tool's time
/// and checksum kept in the details.
fn imported<'a>(
    table: &Identifier,
    tool: Tool,
    row: &ForeignRow,
    migration: &'a Migration,
) -> BaselineEntry<'a> {
    BaselineEntry {
        migration,
        detail: format!(
            "imported from {table}: applied by {tool} on {}, {tool} checksum {}",
            row.applied_at.as_deref().unwrap_or("an unknown date"),
            row.checksum.as_deref().unwrap_or("none")
        ),
        applied_at: row.applied_at.clone(),
    }
}

/// The first 16 hex digits of a checksum, for messages.
fn abbreviated(checksum: &str) -> String {
    let short: String = checksum.chars().take(16).collect();
    if short.len() < checksum.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// How tools write a migration's name: sqlx and Flyway record the
/// description with blanks for underscores.
fn same_name(recorded: &str, file: &str) -> bool {
    let normal = |s: &str| s.trim().replace(['_', ' '], " ").to_lowercase();
    normal(recorded) == normal(file)
}

/// The migrations another tool recorded. Every recorded version must have
/// a file (of the same name, where the tool records names); the tool's
/// checksum and time are kept in the event details, the time also as the
/// row's `applied_at`; schemactl's sha256 of the file is recorded.
async fn from_foreign<'a>(
    driver: &impl Driver,
    local: &'a [Migration],
    tool: Option<Tool>,
    table: Option<&Identifier>,
) -> Result<Vec<BaselineEntry<'a>>, Error> {
    let tool = match tool {
        Some(tool) => tool,
        None => match driver.other_tools().await?.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::refused(crate::error::refusal::RefusalKind::ForeignHistory, format!(
                    "no other tool's history table is here ({}); name the tool and its table with --from <tool> --table <name>",
                    Tool::ALL.map(Tool::default_table).join(", ")
                )))
            }
            several => {
                return Err(Error::refused(crate::error::refusal::RefusalKind::ForeignHistory, format!(
                    "the history tables of {} are all here; say which to import with --from <tool>",
                    several.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                )))
            }
        },
    };
    let table = match table {
        Some(table) => table.clone(),
        None => Identifier::parse(tool.default_table()).map_err(Error::InvalidArgument)?,
    };
    let recorded = driver.other_tool_history(tool, &table).await?;
    let (up_to, rows) = match recorded {
        Recorded::Versions(rows) => (None, rows),
        Recorded::UpTo(version, rows) => (Some(version), rows),
    };
    let mut chosen: Vec<BaselineEntry<'a>> = Vec::new();
    let mut problems = Vec::new();
    if let Some(version) = up_to {
        let below: Vec<&Migration> = local.iter().filter(|m| m.version <= version).collect();
        if !local.iter().any(|m| m.version == version) {
            problems.push(format!(
                "{tool} is at version {version} but the migrations directory has no file for it"
            ));
        }
        chosen.extend(below.into_iter().map(|m| BaselineEntry {
            migration: m,
            detail: format!("imported from {table}: {tool} was at version {version}"),
            applied_at: None,
        }));
    }
    for row in &rows {
        let ForeignRow { version, name, .. } = row;
        let shown = name
            .as_deref()
            .map_or(String::new(), |n| format!(" (`{n}`)"));
        if version.is_repeatable() {
            // Imported only while the file is the one the tool last ran:
            // otherwise the tool would run it again, and so does `migrate`.
            let same = crate::model::plan::file_of(local, version)
                .filter(|m| !foreign_checksum::changed(tool, m, row.checksum.as_deref()));
            if let Some(m) = same {
                chosen.push(imported(&table, tool, row, m));
            }
            continue;
        }
        match crate::model::plan::file_of(local, version) {
            Some(m) if foreign_checksum::changed(tool, m, row.checksum.as_deref()) => {
                problems.push(format!(
                    "{tool} applied version {version}{shown} with checksum {}, but {} is no longer that file ({}, \
                     and {tool} would refuse it too). Restore the file as it was applied (from version control), import, \
                     and make the change in a new migration",
                    abbreviated(row.checksum.as_deref().unwrap_or_default()),
                    m.up.path.display(),
                    foreign_checksum::how(tool),
                ));
            }
            Some(m) if name.as_deref().is_none_or(|n| same_name(n, &m.name)) => {
                chosen.retain(|e| e.migration.version != *version);
                chosen.push(imported(&table, tool, row, m));
            }
            Some(m) => problems.push(format!(
                "{tool} applied version {version} as `{}`, but {} names it `{}`",
                name.as_deref().unwrap_or_default(),
                m.up.path.display(),
                m.name
            )),
            None => problems.push(format!(
                "{tool} applied version {version}{shown} but the migrations directory has no file for it"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(Error::refused(
            crate::error::refusal::RefusalKind::ForeignHistory,
            format!(
                "cannot import {table}; nothing was changed:\n  - {}",
                problems.join("\n  - ")
            ),
        ));
    }
    if chosen.is_empty() {
        return Err(Error::refused(
            crate::error::refusal::RefusalKind::ForeignHistory,
            format!("{table} records no migration; nothing to import"),
        ));
    }
    chosen.sort_by_key(|e| e.migration.version.clone());
    Ok(chosen)
}
