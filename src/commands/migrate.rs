//! `schemactl migrate`: apply pending migrations in order, under the lock.

use super::{load_and_connect, locked, Executed, Notice, PlannedScript, RunReport};
use crate::config::Settings;
use crate::migration::Migration;
use crate::plan::{plan_migrate, MigrateOptions};
use crate::postgres::executor;
use crate::Error;
use std::time::Instant;
use tokio_postgres::Client;

/// Applies what is pending (or, with `dry_run`, reports what would be
/// applied and changes nothing, not even the history table).
pub async fn migrate(
    settings: &Settings,
    options: MigrateOptions,
    dry_run: bool,
    notify: &mut dyn FnMut(Notice),
) -> Result<RunReport, Error> {
    let started = Instant::now();
    let (local, session) = load_and_connect(settings, notify).await?;
    let database = session.target.clone();
    migrate_loaded(
        settings,
        &local,
        &session.client,
        database,
        options,
        dry_run,
        notify,
        started,
    )
    .await
}

/// [`migrate`] with the migrations already read and the connection open:
/// also what an application's embedded migrations run
/// ([`crate::embed::EmbeddedMigrations::run`]).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn migrate_loaded(
    settings: &Settings,
    local: &[Migration],
    client: &Client,
    database: String,
    options: MigrateOptions,
    dry_run: bool,
    notify: &mut dyn FnMut(Notice),
    started: Instant,
) -> Result<RunReport, Error> {
    let mut report = RunReport {
        database,
        history: settings.history.display(),
        dry_run,
        planned: Vec::new(),
        executed: Vec::new(),
        current_version: None,
        total_ms: 0,
    };
    if dry_run {
        let applied = settings.history.read(client).await?;
        let plan = plan_migrate(local, &applied, options)?;
        report.planned = plan
            .iter()
            .map(|m| PlannedScript::new(m, &m.up, settings))
            .collect();
        report.current_version = applied.iter().map(|r| r.version).max();
    } else {
        locked(
            client,
            settings,
            notify,
            async |notify: &mut dyn FnMut(Notice)| {
                let applied = settings.history.read(client).await?;
                report.current_version = applied.iter().map(|r| r.version).max();
                let plan = plan_migrate(local, &applied, options)?;
                if plan.is_empty() {
                    return Ok(());
                }
                if applied.is_empty() {
                    if let Some(foreign) = crate::postgres::foreign_history::detect(client).await? {
                        notify(Notice::Info(&foreign.advice()));
                    }
                }
                settings.history.ensure(client).await?;
                let writer = settings.history.writer(client).await?;
                for (step, migration) in plan.iter().enumerate() {
                    let label = migration.label();
                    notify(Notice::Running { label: &label });
                    match executor::apply(client, &writer, migration, &settings.execution).await {
                        Ok(execution_ms) => {
                            notify(Notice::Done {
                                action: "applied",
                                label: &label,
                                execution_ms,
                            });
                            report.current_version = Some(
                                report
                                    .current_version
                                    .map_or(migration.version, |v| v.max(migration.version)),
                            );
                            report.executed.push(Executed {
                                version: migration.version,
                                label,
                                execution_ms,
                            });
                        }
                        Err(mut failure) => {
                            failure.applied_before =
                                report.executed.iter().map(|e| e.label.clone()).collect();
                            failure.not_reached =
                                plan[step + 1..].iter().map(|m| m.label()).collect();
                            return Err(Error::MigrationFailed(failure));
                        }
                    }
                }
                Ok(())
            },
        )
        .await?;
    }
    report.total_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    Ok(report)
}
