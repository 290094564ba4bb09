//! The pure policy of the runner: from the migration files and the recorded
//! history, the state of every migration, the problems that must stop a
//! deploy, and what `migrate` and `rollback` would run. No database here, so
//! every rule is unit-tested on plain data.

use crate::error::ahead::{Ahead, AppliedBeyond};
use crate::model::history::AppliedMigration;
use crate::model::phase::Phase;
use crate::model::SourceProblem;
use crate::model::{Checksum, Version};
use crate::model::{Execution, Migration, Script};
use crate::{Error, Problem};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use time::OffsetDateTime;

/// The state of one migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Applied and unchanged since.
    Applied,
    /// Recorded by `baseline` without running.
    Baselined,
    /// Not applied yet.
    Pending,
    /// Applied, but its file was edited since.
    Modified,
    /// Applied, but its file is gone.
    Missing,
    /// Failed or interrupted outside a transaction.
    Failed,
    /// Being applied right now: a run started its `no-transaction` script
    /// and the server session running it (or the run's lease) is live.
    /// Only `status` says so, having asked the server.
    Running,
}

impl State {
    /// The word shown in `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Baselined => "baselined",
            State::Pending => "pending",
            State::Modified => "modified",
            State::Missing => "missing",
            State::Failed => "failed",
            State::Running => "running",
        }
    }
}

/// One line of `status`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct StatusRow {
    /// The version.
    pub version: Version,
    /// The version as written in the file name, or the number when the file is gone.
    pub version_text: String,
    /// The name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// When it was applied.
    #[schemars(with = "Option<String>")]
    #[serde(with = "time::serde::rfc3339::option")]
    pub applied_at: Option<OffsetDateTime>,
    /// Who applied it.
    pub applied_by: Option<String>,
    /// How long it ran, in milliseconds.
    pub execution_ms: Option<i64>,
    /// Whether a down script exists.
    pub has_down: bool,
    /// The named restore point created just before it ran (a server that
    /// archives WAL): `recovery_target_name` for a point-in-time recovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_point: Option<String>,
    /// The pre-migration backup of the data it destroyed (`migrate
    /// --backup auto`), which `rollback --restore-data` reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_backup: Option<String>,
    /// A pending backfill an earlier run left part-way: its committed
    /// batches, where the next run resumes (`"backfill_progress"` in JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfill_progress: Option<crate::model::backfill::BatchMark>,
    /// The name the history recorded, when the file (same version, same
    /// content) has been renamed since: `name` is the file's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_name: Option<String>,
}

/// The migration of `version` among `local`: a binary search, as sources
/// yield migrations ordered by version; a slice in another order is still
/// searched whole before `None` is answered.
pub fn file_of<'a>(local: &'a [Migration], version: &Version) -> Option<&'a Migration> {
    match local.binary_search_by(|m| m.version.cmp(version)) {
        Ok(i) => Some(&local[i]),
        Err(_) => local.iter().find(|m| &m.version == version),
    }
}

/// Every migration known from the files or the history, in version order.
pub fn status(local: &[Migration], applied: &[AppliedMigration]) -> Vec<StatusRow> {
    let mut rows: BTreeMap<Version, StatusRow> = BTreeMap::new();
    for migration in local {
        rows.insert(
            migration.version.clone(),
            StatusRow {
                version: migration.version.clone(),
                version_text: migration.version_text.clone(),
                name: migration.name.clone(),
                state: State::Pending,
                applied_at: None,
                applied_by: None,
                execution_ms: None,
                has_down: migration.down.is_some(),
                restore_point: None,
                data_backup: None,
                backfill_progress: None,
                recorded_name: None,
            },
        );
    }
    for record in applied {
        let file = file_of(local, &record.version);
        let state = match file {
            _ if !record.success => State::Failed,
            None => State::Missing,
            // A changed repeatable migration is applied again, as Flyway does.
            Some(m) if m.up.checksum != record.checksum && m.version.is_repeatable() => {
                State::Pending
            }
            Some(m) if m.up.checksum != record.checksum => State::Modified,
            Some(_) if record.baselined => State::Baselined,
            Some(_) => State::Applied,
        };
        let row = rows
            .entry(record.version.clone())
            .or_insert_with(|| StatusRow {
                version: record.version.clone(),
                version_text: record.version.to_string(),
                name: record.name.clone(),
                state,
                applied_at: None,
                applied_by: None,
                execution_ms: None,
                has_down: false,
                restore_point: None,
                data_backup: None,
                backfill_progress: None,
                recorded_name: None,
            });
        if row.name != record.name {
            row.recorded_name = Some(record.name.clone());
        }
        row.state = state;
        row.applied_at = Some(record.applied_at);
        row.applied_by = Some(record.applied_by.clone());
        row.execution_ms = Some(record.execution_ms);
    }
    rows.into_values().collect()
}

/// The disagreements between files and history that stop a deploy:
/// modified, missing and failed migrations, and (unless allowed) pending
/// migrations older than the newest applied one.
pub fn problems(
    local: &[Migration],
    applied: &[AppliedMigration],
    allow_out_of_order: bool,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for record in applied {
        let file = file_of(local, &record.version);
        if !record.success {
            problems.push(Problem::Failed {
                version: record.version.clone(),
                name: record.name.clone(),
                error: record.error.clone(),
                unfinished: record
                    .is_unfinished()
                    .then_some(crate::error::UnfinishedRun::Unchecked),
            });
            continue;
        }
        match file {
            None => problems.push(Problem::Missing {
                version: record.version.clone(),
                name: record.name.clone(),
            }),
            Some(m) if m.up.checksum != record.checksum && !m.version.is_repeatable() => problems
                .push(Problem::Modified {
                    version: record.version.clone(),
                    path: m.up.path.clone(),
                    recorded: record.checksum.to_string(),
                    current: m.up.checksum.to_string(),
                }),
            Some(_) => {}
        }
    }
    if !allow_out_of_order {
        let versioned = applied.iter().filter(|r| !r.version.is_repeatable());
        if let Some(highest) = versioned.map(|r| r.version.clone()).max() {
            for m in pending(local, applied).filter(|m| !m.version.is_repeatable()) {
                if m.version < highest {
                    problems.push(Problem::OutOfOrder {
                        version: m.version.clone(),
                        path: m.up.path.clone(),
                        highest_applied: highest.clone(),
                    });
                }
            }
        }
    }
    problems.sort_by(|a, b| a.version().cmp(b.version()));
    problems
}

/// The migrations of `local` not applied yet (and repeatable ones whose
/// file changed).
pub(crate) fn pending<'a>(
    local: &'a [Migration],
    applied: &[AppliedMigration],
) -> impl Iterator<Item = &'a Migration> + 'a {
    let recorded: BTreeMap<Version, Checksum> = applied
        .iter()
        .map(|r| (r.version.clone(), r.checksum.clone()))
        .collect();
    // Not applied yet; or a repeatable migration whose file changed.
    local
        .iter()
        .filter(move |m| match recorded.get(&m.version) {
            None => true,
            Some(checksum) => m.version.is_repeatable() && *checksum != m.up.checksum,
        })
}

/// The migrations the database has beyond `local`, when every problem is an
/// applied migration whose file is gone, each newer than every file.
pub(crate) fn database_ahead(local: &[Migration], problems: &[Problem]) -> Option<Ahead> {
    let newest_file = local
        .iter()
        .filter(|m| !m.version.is_repeatable())
        .map(|m| m.version.clone())
        .max();
    ahead_of(newest_file, problems)
}

/// [`database_ahead`], given the directory's newest version.
pub(crate) fn ahead_of(newest_file: Option<Version>, problems: &[Problem]) -> Option<Ahead> {
    let mut newer = Vec::new();
    for problem in problems {
        let Problem::Missing { version, name } = problem else {
            return None;
        };
        if newest_file.as_ref().is_some_and(|newest| version <= newest) {
            return None;
        }
        newer.push(AppliedBeyond {
            version: version.clone(),
            name: name.clone(),
        });
    }
    (!newer.is_empty()).then_some(Ahead { newer, newest_file })
}

/// What `migrate` should do.
#[derive(Debug, Clone, Default)]
pub struct MigrateOptions {
    /// Apply only up to and including this version.
    pub target: Option<Version>,
    /// Apply pending migrations older than the newest applied one.
    pub allow_out_of_order: bool,
    /// Start on a database that has tables (or another tool's history) but
    /// no schemactl history, instead of refusing and naming `baseline`.
    pub allow_non_empty: bool,
    /// `expand`: stop before the first `contract` migration; `contract`
    /// (or none): apply everything, `contract` migrations only while no
    /// release but [`MigrateOptions::release`] is marked live.
    pub phase: Option<Phase>,
    /// The release deploying (`--release`): marked live, it does not hold
    /// back its own `contract` migrations.
    pub release: Option<String>,
    /// The versions the previous release of the application ships
    /// (`--previous-app-migrations DIR`): a `contract` migration it does
    /// not ship waits, since its instances may still use what it removes.
    pub previous_app: Option<Vec<Version>>,
}

/// The migrations `migrate` applies, in order, or the reason it must not run.
pub fn plan_migrate<'a>(
    local: &'a [Migration],
    applied: &[AppliedMigration],
    options: MigrateOptions,
) -> Result<Vec<&'a Migration>, Error> {
    let problems = problems(local, applied, options.allow_out_of_order);
    if let Some(ahead) = database_ahead(local, &problems) {
        return Err(Error::DatabaseAhead(Box::new(ahead)));
    }
    if !problems.is_empty() {
        return Err(Error::HistoryMismatch(problems));
    }
    if let Some(target) = &options.target {
        if let Some(highest) = applied
            .iter()
            .map(|r| r.version.clone())
            .filter(|v| v > target)
            .max()
        {
            return Err(Error::refused_about(crate::error::refusal::RefusalKind::Plan, [target.clone(), highest.clone()], format!(
                "--to {target} is below the applied version {highest}; `migrate` only applies, use `schemactl rollback --to {target}` to go back"
            )));
        }
    }
    let plan: Vec<&Migration> = pending(local, applied)
        .filter(|m| {
            options
                .target
                .as_ref()
                .is_none_or(|target| &m.version <= target)
        })
        // The expand phase ends before the first contract migration.
        .take_while(|m| {
            options.phase != Some(Phase::Expand) || m.up.directives.phase != Some(Phase::Contract)
        })
        .collect();
    check_runnable(plan.iter().map(|m| &m.up))?;
    Ok(plan)
}

/// How far `rollback` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    /// Undo the newest N applied migrations.
    Steps(u32),
    /// Undo every applied migration newer than this version.
    To(Version),
}

/// The applied migrations `rollback` would undo to reach `target`, newest
/// first (repeatable migrations have no down: rolling back passes them by).
pub fn rollback_candidates<'h>(
    applied: &'h [AppliedMigration],
    target: &RollbackTarget,
) -> Vec<&'h AppliedMigration> {
    let mut newest_first: Vec<&AppliedMigration> = applied
        .iter()
        .filter(|r| !r.version.is_repeatable())
        .collect();
    newest_first.sort_by_key(|r| std::cmp::Reverse(r.version.clone()));
    match target {
        RollbackTarget::Steps(n) => newest_first.into_iter().take(*n as usize).collect(),
        RollbackTarget::To(version) => newest_first
            .into_iter()
            .take_while(|r| r.version > *version)
            .collect(),
    }
}

/// The down scripts the history stored when their migrations were applied
/// (history format 3), by version.
pub type StoredDowns = BTreeMap<Version, String>;

/// Whether undoing `record` needs the down script its history row stored:
/// when its down file is gone, or differs from the one applied (to run it,
/// or to show the difference). A down file as it was applied runs itself.
pub(crate) fn needs_stored_down(local: &[Migration], record: &AppliedMigration) -> bool {
    match file_of(local, &record.version).and_then(|m| m.down.as_ref()) {
        Some(down) => record
            .down_checksum
            .as_ref()
            .is_some_and(|recorded| *recorded != down.checksum),
        None => true,
    }
}

/// The migrations `rollback` undoes, newest first, or the reason it must
/// not run. A migration's down script is its file's; when the migrations
/// directory no longer has it (an application rolled back to an older
/// release ships older files), the one the history stored when it was
/// applied, from `stored`. A down file that differs from the one applied is
/// refused, with the difference, unless `use_file_down`.
pub fn plan_rollback<'a>(
    local: &'a [Migration],
    applied: &[AppliedMigration],
    target: RollbackTarget,
    stored: &StoredDowns,
    use_file_down: bool,
) -> Result<Vec<Cow<'a, Migration>>, Error> {
    let failed: Vec<Problem> = problems(local, applied, true)
        .into_iter()
        .filter(|p| matches!(p, Problem::Failed { .. }))
        .collect();
    if !failed.is_empty() {
        return Err(Error::HistoryMismatch(failed));
    }
    let mut refusals = Vec::new();
    let mut refused = Vec::new();
    let mut plan = Vec::new();
    for record in rollback_candidates(applied, &target) {
        match down_for(local, record, stored.get(&record.version), use_file_down) {
            Ok(migration) => plan.push(migration),
            Err(refusal) => {
                refused.push(record.version.clone());
                refusals.push(refusal);
            }
        }
    }
    if !refusals.is_empty() {
        let mut message = String::from("rollback refused; nothing was changed:");
        for refusal in refusals {
            message.push_str("\n  - ");
            message.push_str(&refusal);
        }
        return Err(Error::refused_about(
            crate::error::refusal::RefusalKind::Plan,
            refused,
            message,
        ));
    }
    check_runnable(plan.iter().filter_map(|m| m.down.as_ref()))?;
    Ok(plan)
}

/// The migration whose down script undoes `record`, or why there is none
/// that may run.
fn down_for<'a>(
    local: &'a [Migration],
    record: &AppliedMigration,
    stored: Option<&String>,
    use_file_down: bool,
) -> Result<Cow<'a, Migration>, String> {
    let file = file_of(local, &record.version);
    match (file, file.and_then(|m| m.down.as_ref()), stored) {
        (Some(migration), Some(down), stored) => {
            let changed = record
                .down_checksum
                .as_ref()
                .is_some_and(|recorded| *recorded != down.checksum);
            if changed && !use_file_down {
                let recorded = record.down_checksum.as_ref().map_or("", |c| c.short());
                let mut refusal = format!(
                    "{} changed since the migration was applied (sha256 then {recorded}, now {}); check that it still \
                     undoes what was applied, then pass --use-file-down to run the file (or roll back with the \
                     applied one: restore the file as it was)",
                    down.path.display(),
                    down.checksum.short()
                );
                if let Some(applied_text) = stored {
                    refusal.push_str(&super::down_difference::down_difference(applied_text, &down.sql));
                }
                return Err(refusal);
            }
            Ok(Cow::Borrowed(migration))
        }
        (file, _, Some(text)) => Ok(Cow::Owned(from_history(record, file, text)?)),
        (None, _, None) => Err(format!(
            "version {} ({}) has no files in the migrations directory, and its history row holds no down script \
             (it was applied by a schemactl that did not store them); restore its files to roll it back",
            record.version, record.name
        )),
        (Some(migration), None, None) => Err(format!(
            "{} has no down script; write {} to undo it, or roll back to a later version",
            migration.label(),
            migration
                .up
                .path
                .with_file_name(format!("{}.down.sql", migration.label()))
                .display()
        )),
    }
}

/// A migration undone with the down script its history row stored.
fn from_history(
    record: &AppliedMigration,
    file: Option<&Migration>,
    text: &str,
) -> Result<Migration, String> {
    let label = format!("{}_{}", record.version, record.name);
    let directives = crate::model::directives::parse(text).map_err(|e| {
        format!(
            "the down script stored for {label} cannot be read (line {}: {})",
            e.line, e.message
        )
    })?;
    let placeholder =
        |what: &str| PathBuf::from(format!("{label}.{what}.sql (stored in the history)"));
    Ok(Migration {
        version: record.version.clone(),
        version_text: file.map_or_else(|| record.version.to_string(), |m| m.version_text.clone()),
        name: record.name.clone(),
        up: Script::new(
            placeholder("up"),
            String::new(),
            record.checksum.clone(),
            Default::default(),
        ),
        down: Some(Script::new(
            placeholder("down"),
            text.to_string(),
            Checksum::of(text.as_bytes()),
            directives,
        )),
    })
}

/// Checks the scripts that are about to run, before any of them runs: their
/// SQL must split into statements, and a transactional script must not end
/// or open transactions itself (its history row would then no longer commit
/// together with its changes).
pub(crate) fn check_runnable<'a>(scripts: impl Iterator<Item = &'a Script>) -> Result<(), Error> {
    let mut problems = Vec::new();
    for script in scripts {
        let statements = match script.statements() {
            Ok(statements) => statements,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        if script.execution() == Execution::Backfill {
            problems.extend(crate::model::backfill::problem(script, statements));
            continue;
        }
        for statement in statements {
            let text = statement.text(&script.sql);
            if let Some(why) =
                crate::model::statements::breaks_session(statement.keyword.as_str(), text)
            {
                problems.push(SourceProblem {
                    path: script.path.clone(),
                    position: Some(statement.position),
                    message: format!("{why}; remove it (a migration cannot need it)"),
                });
                continue;
            }
            let execution = script.execution();
            if let Some(problem) = cannot_run_as(script, execution, statement) {
                problems.push(problem);
                continue;
            }
            if execution != Execution::Transaction {
                continue;
            }
            if crate::model::statements::changes_lexing(statement.keyword.as_str(), text) {
                problems.push(SourceProblem {
                    path: script.path.clone(),
                    position: Some(statement.position),
                    message: "this statement changes `standard_conforming_strings`, which changes how PostgreSQL reads the rest of the script, \
                              so schemactl can no longer be sure where its statements (and its transaction) end; remove it and write \
                              backslash escapes as E'...' strings, or add `-- schemactl:no-transaction` at the top"
                        .into(),
                });
                continue;
            }
            if crate::model::statements::is_transaction_control(statement.keyword.as_str(), text) {
                problems.push(SourceProblem {
                    path: script.path.clone(),
                    position: Some(statement.position),
                    message: format!(
                        "`{}` controls the transaction, but schemactl already runs this file in one transaction together with its history row; remove it, or add `-- schemactl:no-transaction` at the top to run the file without one",
                        statement.keyword
                    ),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidMigrations(problems))
    }
}

/// A statement PostgreSQL refuses inside a transaction block, in a script
/// that runs in one or is sent as one message of several statements: it
/// would fail at run time (SQLSTATE 25001), after the migrations before it.
fn cannot_run_as(
    script: &Script,
    execution: Execution,
    statement: &crate::model::Statement,
) -> Option<SourceProblem> {
    let text = statement.text(&script.sql);
    let command =
        crate::model::statements::outside_transaction_only(statement.keyword.as_str(), text)?;
    let message = match execution {
        Execution::NoTransaction => return None,
        _ if script.sent_whole() => format!(
            "{command} cannot run in a message of several statements, and golang-migrate sends this file as one \
             (PostgreSQL would refuse it with SQLSTATE 25001); move the statement to a migration file of its own"
        ),
        _ => format!(
            "{command} cannot run inside a transaction block, and schemactl runs this file in one \
             (PostgreSQL would refuse it with SQLSTATE 25001); add `-- schemactl:no-transaction` at the top, \
             and keep the statement in a file of its own"
        ),
    };
    Some(SourceProblem {
        path: script.path.clone(),
        position: Some(statement.position),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Checksum, Directives, Script};
    use std::path::PathBuf;

    fn script(path: &str, sql: &str) -> Script {
        Script::new(
            PathBuf::from(path),
            sql.into(),
            Checksum::of(sql.as_bytes()),
            crate::model::directives::parse(sql).unwrap_or_else(|_| Directives::default()),
        )
    }

    fn migration(version: Version, up: &str, down: Option<&str>) -> Migration {
        let number = version.as_integer().expect("integer test versions");
        Migration {
            version: version.clone(),
            version_text: format!("{number:04}"),
            name: format!("m{version}"),
            up: script(&format!("migrations/{number:04}_m{version}.up.sql"), up),
            down: down
                .map(|sql| script(&format!("migrations/{number:04}_m{version}.down.sql"), sql)),
        }
    }

    fn record(m: &Migration) -> AppliedMigration {
        AppliedMigration {
            version: m.version.clone(),
            name: m.name.clone(),
            checksum: m.up.checksum.clone(),
            down_checksum: m.down.as_ref().map(|d| d.checksum.clone()),
            applied_at: OffsetDateTime::UNIX_EPOCH,
            applied_by: "app@local".into(),
            execution_ms: 3,
            success: true,
            baselined: false,
            schemactl_version: "test".into(),
            error: None,
        }
    }

    fn three() -> Vec<Migration> {
        vec![
            migration(1.into(), "CREATE TABLE a (id int);", Some("DROP TABLE a;")),
            migration(2.into(), "CREATE TABLE b (id int);", Some("DROP TABLE b;")),
            migration(3.into(), "CREATE TABLE c (id int);", None),
        ]
    }

    #[test]
    fn migrate_applies_pending_in_order_up_to_the_target() {
        let local = three();
        let applied = vec![record(&local[0])];
        let plan = plan_migrate(&local, &applied, MigrateOptions::default()).unwrap();
        assert_eq!(
            plan.iter().map(|m| m.version.clone()).collect::<Vec<_>>(),
            vec![2, 3]
        );
        let plan = plan_migrate(
            &local,
            &applied,
            MigrateOptions {
                target: Some(2.into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            plan.iter().map(|m| m.version.clone()).collect::<Vec<_>>(),
            vec![2]
        );
        assert!(matches!(
            plan_migrate(
                &local,
                &[record(&local[1])],
                MigrateOptions {
                    target: Some(1.into()),
                    ..Default::default()
                }
            ),
            Err(Error::HistoryMismatch(_))
        ));
    }

    #[test]
    fn edited_missing_failed_and_out_of_order_migrations_stop_migrate() {
        let local = three();
        let mut edited = record(&local[0]);
        edited.checksum = Checksum::of(b"something else");
        let missing = AppliedMigration {
            version: 9.into(),
            name: "gone".into(),
            ..record(&local[0])
        };
        let failed = AppliedMigration {
            success: false,
            error: Some("boom".into()),
            ..record(&local[1])
        };
        let Err(Error::HistoryMismatch(found)) = plan_migrate(
            &local,
            &[edited, failed, missing],
            MigrateOptions::default(),
        ) else {
            panic!("migrate was not refused");
        };
        let kinds: Vec<&str> = found
            .iter()
            .map(|p| match p {
                Problem::Modified { .. } => "modified",
                Problem::Failed { .. } => "failed",
                Problem::Missing { .. } => "missing",
                Problem::OutOfOrder { .. } => "out-of-order",
            })
            .collect();
        assert_eq!(kinds, vec!["modified", "failed", "out-of-order", "missing"]);
    }

    #[test]
    fn out_of_order_is_refused_unless_allowed() {
        let local = three();
        let applied = vec![record(&local[0]), record(&local[2])];
        assert!(matches!(
            plan_migrate(&local, &applied, MigrateOptions::default()),
            Err(Error::HistoryMismatch(p)) if matches!(&p[..], [Problem::OutOfOrder { version, highest_applied, .. }] if *version == 2 && *highest_applied == 3)
        ));
        let options = MigrateOptions {
            allow_out_of_order: true,
            ..Default::default()
        };
        assert_eq!(
            plan_migrate(&local, &applied, options).unwrap()[0].version,
            2
        );
    }

    #[test]
    fn status_reports_every_state() {
        let local = three();
        let mut edited = record(&local[1]);
        edited.checksum = Checksum::of(b"x");
        let gone = AppliedMigration {
            version: 7.into(),
            name: "gone".into(),
            ..record(&local[0])
        };
        let rows = status(&local, &[record(&local[0]), edited, gone]);
        let states: Vec<(i64, State)> = rows
            .iter()
            .map(|r| (r.version.as_integer().unwrap_or_default(), r.state))
            .collect();
        assert_eq!(
            states,
            vec![
                (1, State::Applied),
                (2, State::Modified),
                (3, State::Pending),
                (7, State::Missing)
            ]
        );
    }

    #[test]
    fn a_stored_down_is_needed_only_for_a_down_file_gone_or_changed() {
        let local = three();
        // 0001 and 0002 have down files as applied; 0003 has none.
        assert!(!needs_stored_down(&local, &record(&local[0])));
        assert!(needs_stored_down(&local, &record(&local[2])));
        let mut changed = record(&local[1]);
        changed.down_checksum = Some(Checksum::of(b"old down"));
        assert!(needs_stored_down(&local, &changed));
        let mut unrecorded = record(&local[1]);
        unrecorded.down_checksum = None;
        assert!(!needs_stored_down(&local, &unrecorded));
        let mut gone = record(&local[1]);
        gone.version = 9.into();
        assert!(needs_stored_down(&local, &gone));
    }

    #[test]
    fn rollback_goes_newest_first_and_refuses_missing_or_changed_downs() {
        let local = three();
        let applied: Vec<AppliedMigration> = local[..2].iter().map(record).collect();
        let plan = plan_rollback(
            &local,
            &applied,
            RollbackTarget::Steps(2),
            &StoredDowns::new(),
            false,
        )
        .unwrap();
        assert_eq!(
            plan.iter().map(|m| m.version.clone()).collect::<Vec<_>>(),
            vec![2, 1]
        );
        let plan = plan_rollback(
            &local,
            &applied,
            RollbackTarget::To(1.into()),
            &StoredDowns::new(),
            false,
        )
        .unwrap();
        assert_eq!(
            plan.iter().map(|m| m.version.clone()).collect::<Vec<_>>(),
            vec![2]
        );

        let all: Vec<AppliedMigration> = local.iter().map(record).collect();
        let err = plan_rollback(
            &local,
            &all,
            RollbackTarget::Steps(1),
            &StoredDowns::new(),
            false,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("0003_m3 has no down script"),
            "{err}"
        );
        let Error::Refused(refusal) = &err else {
            panic!("not a refusal: {err:?}");
        };
        assert_eq!(
            refusal.versions,
            vec![Version::from(3)],
            "a program reads which migration"
        );

        let mut changed = record(&local[1]);
        changed.down_checksum = Some(Checksum::of(b"old down"));
        let err = plan_rollback(
            &local,
            &[changed.clone()],
            RollbackTarget::Steps(1),
            &StoredDowns::new(),
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("--use-file-down"), "{err}");
        assert!(plan_rollback(
            &local,
            &[changed],
            RollbackTarget::Steps(1),
            &StoredDowns::new(),
            true
        )
        .is_ok());
    }

    #[test]
    fn a_migration_without_files_is_undone_with_its_stored_down_and_a_changed_file_shows_the_difference(
    ) {
        let local = three();
        let applied: Vec<AppliedMigration> = local[..2].iter().map(record).collect();
        // The application was rolled back: its directory stops at 1.
        let older = &local[..1];
        let none = plan_rollback(
            older,
            &applied,
            RollbackTarget::To(1.into()),
            &StoredDowns::new(),
            false,
        )
        .unwrap_err();
        assert!(none.to_string().contains("holds no down script"), "{none}");
        let stored: StoredDowns = [(Version::from(2), "DROP TABLE b;".to_string())].into();
        let plan = plan_rollback(
            older,
            &applied,
            RollbackTarget::To(1.into()),
            &stored,
            false,
        )
        .unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].down.as_ref().unwrap().sql, "DROP TABLE b;");
        assert!(plan[0]
            .down
            .as_ref()
            .unwrap()
            .path
            .to_string_lossy()
            .contains("stored in the history"));

        // The file's down differs from the one applied: refused, with both.
        let mut changed = record(&local[1]);
        changed.down_checksum = Some(Checksum::of(b"DROP TABLE b CASCADE;"));
        let stored: StoredDowns = [(Version::from(2), "DROP TABLE b CASCADE;".to_string())].into();
        let err = plan_rollback(
            &local,
            &[changed.clone()],
            RollbackTarget::Steps(1),
            &stored,
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("-DROP TABLE b CASCADE;") && err.contains("--use-file-down"),
            "{err}"
        );
        let plan =
            plan_rollback(&local, &[changed], RollbackTarget::Steps(1), &stored, true).unwrap();
        assert_eq!(
            plan[0].down.as_ref().unwrap().sql,
            local[1].down.as_ref().unwrap().sql
        );
    }

    #[test]
    fn transaction_control_in_a_transactional_script_is_refused_with_its_line() {
        let local = vec![migration(
            1.into(),
            "CREATE TABLE a (id int);\nCOMMIT;\n",
            None,
        )];
        let err = plan_migrate(&local, &[], MigrateOptions::default()).unwrap_err();
        assert!(err.to_string().contains("0001_m1.up.sql:2:1"), "{err}");
        let savepoints = vec![migration(
            1.into(),
            "SAVEPOINT s;\nROLLBACK TO SAVEPOINT s;\n",
            None,
        )];
        assert!(plan_migrate(&savepoints, &[], MigrateOptions::default()).is_ok());
        let no_tx = vec![migration(
            1.into(),
            "-- schemactl:no-transaction\nCOMMIT;\n",
            None,
        )];
        assert!(plan_migrate(&no_tx, &[], MigrateOptions::default()).is_ok());
    }

    fn missing(version: i64) -> Problem {
        Problem::Missing {
            version: Version::integer(version),
            name: format!("m{version}"),
        }
    }

    #[test]
    fn only_missing_migrations_newer_than_every_file_make_the_database_ahead() {
        let ahead = ahead_of(Some(Version::integer(2)), &[missing(3), missing(4)]).unwrap();
        assert_eq!(ahead.newer.len(), 2);
        assert_eq!(ahead.rollback_command(), "schemactl rollback --to 2");
        assert!(
            ahead.to_string().contains("3_m3, 4_m4 are applied"),
            "{ahead}"
        );
        // A file missing in the middle is not an older release.
        assert!(ahead_of(Some(Version::integer(3)), &[missing(2)]).is_none());
        // Nor is anything else wrong alongside.
        let failed = Problem::Failed {
            version: Version::integer(1),
            name: "m1".into(),
            error: None,
            unfinished: None,
        };
        assert!(ahead_of(Some(Version::integer(2)), &[failed, missing(3)]).is_none());
        assert!(ahead_of(Some(Version::integer(2)), &[]).is_none());
        // No files at all: everything applied is ahead, back to 0.
        let all = ahead_of(None, &[missing(1)]).unwrap();
        assert_eq!(all.rollback_command(), "schemactl rollback --to 0");
    }
}
