//! `schemactl rollback`: run down migrations newest first, under the lock.

use super::{load_and_connect, locked, Executed, Notice, PlannedScript, RunReport};
use crate::config::Settings;
use crate::plan::{plan_rollback, RollbackTarget};
use crate::postgres::executor;
use crate::Error;
use std::time::Instant;

/// Undoes applied migrations down to `target` (or, with `dry_run`, reports
/// what would run and changes nothing).
pub async fn rollback(
    settings: &Settings,
    target: RollbackTarget,
    accept_changed_down: bool,
    dry_run: bool,
    notify: &mut dyn FnMut(Notice),
) -> Result<RunReport, Error> {
    let started = Instant::now();
    let (local, session) = load_and_connect(settings, notify).await?;
    let client = &session.client;
    let mut report = RunReport {
        database: session.target.clone(),
        history: settings.history.display(),
        dry_run,
        planned: Vec::new(),
        executed: Vec::new(),
        current_version: None,
        total_ms: 0,
    };
    if dry_run {
        let applied = settings.history.read(client).await?;
        let plan = plan_rollback(&local, &applied, target, accept_changed_down)?;
        report.planned = plan
            .iter()
            .filter_map(|m| {
                m.down
                    .as_ref()
                    .map(|down| PlannedScript::new(m, down, settings))
            })
            .collect();
        report.current_version = applied.iter().map(|r| r.version).max();
    } else {
        locked(
            &session.client,
            settings,
            notify,
            async |notify: &mut dyn FnMut(Notice)| {
                let applied = settings.history.read(client).await?;
                let plan = plan_rollback(&local, &applied, target, accept_changed_down)?;
                settings.history.ensure(client).await?;
                let writer = settings.history.writer(client).await?;
                for (step, migration) in plan.iter().enumerate() {
                    let label = migration.label();
                    notify(Notice::Running { label: &label });
                    match executor::revert(client, &writer, migration, &settings.execution).await {
                        Ok(execution_ms) => {
                            notify(Notice::Done {
                                action: "rolled back",
                                label: &label,
                                execution_ms,
                            });
                            report.executed.push(Executed {
                                version: migration.version,
                                label,
                                execution_ms,
                            });
                        }
                        Err(mut failure) => {
                            failure.rolled_back_before =
                                report.executed.iter().map(|e| e.label.clone()).collect();
                            failure.not_reached =
                                plan[step + 1..].iter().map(|m| m.label()).collect();
                            return Err(Error::MigrationFailed(failure));
                        }
                    }
                }
                report.current_version = settings
                    .history
                    .read(client)
                    .await?
                    .iter()
                    .map(|r| r.version)
                    .max();
                Ok(())
            },
        )
        .await?;
    }
    report.total_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    Ok(report)
}
