//! Running one migration script and recording it.
//!
//! A transactional script runs as `BEGIN; SET LOCAL lock_timeout …;
//! <statements>; <history row>; COMMIT`, so the schema change and its record
//! commit together or not at all. A `no-transaction` script first records a
//! failed "in progress" row, then runs its statements one by one, then marks
//! the row applied: a crash in between leaves a visible failed row that
//! `migrate` refuses to pass until someone looks (`schemactl repair`).
//!
//! Statements are sent one at a time (as psql does), so that any error,
//! positioned or not, is traced to its statement, line and column.

use super::describe;
use super::history_table::{HistoryWriter, NewEvent, NewRow};
use crate::history::EventKind;
use crate::migration::text_position::{char_to_byte, LineIndex, TextPosition};
use crate::migration::{Direction, Migration, Script};
use crate::MigrationFailure;
use std::time::Instant;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

/// Session settings every script runs with, unless its directives override them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionSettings {
    /// `lock_timeout` (default `5s`): a migration waiting longer than this
    /// for a table lock fails instead of queueing every other query behind it.
    pub lock_timeout: String,
    /// `statement_timeout` (default `0`, no limit).
    pub statement_timeout: String,
}

impl Default for ExecutionSettings {
    fn default() -> Self {
        Self {
            lock_timeout: "5s".into(),
            statement_timeout: "0".into(),
        }
    }
}

impl ExecutionSettings {
    fn for_script(&self, script: &Script) -> (String, String) {
        (
            script
                .directives
                .lock_timeout
                .clone()
                .unwrap_or_else(|| self.lock_timeout.clone()),
            script
                .directives
                .statement_timeout
                .clone()
                .unwrap_or_else(|| self.statement_timeout.clone()),
        )
    }
}

/// Applies `migration`'s up script and records it. Returns its duration in ms.
pub async fn apply(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    settings: &ExecutionSettings,
) -> Result<i64, Box<MigrationFailure>> {
    let script = &migration.up;
    let row = |execution_ms, success, error| NewRow {
        version: migration.version,
        name: &migration.name,
        checksum: &script.checksum,
        down_checksum: migration.down.as_ref().map(|d| &d.checksum),
        execution_ms,
        success,
        baselined: false,
        error,
    };
    let event = |kind, execution_ms, detail| NewEvent {
        kind,
        version: migration.version,
        name: &migration.name,
        checksum: Some(&script.checksum),
        execution_ms,
        detail,
    };
    let fail = |e: Failure| failure(migration, Direction::Up, e);
    let started = Instant::now();
    if script.directives.no_transaction {
        let note = "started and not finished: the run was interrupted or is still going";
        let (started_row, started_event) = (
            row(0, false, Some(note)),
            event(EventKind::Started, None, None),
        );
        bookkeeping(tokio::try_join!(
            history.insert(client, &started_row),
            history.event(client, &started_event),
        ))
        .map_err(fail)?;
        if let Err(e) = run_outside_transaction(client, script, settings).await {
            let message = e.summary();
            let ms = elapsed_ms(started);
            let _ = history
                .finish(client, migration.version, false, ms, Some(&message))
                .await;
            let _ = history
                .event(client, &event(EventKind::Failed, Some(ms), Some(&message)))
                .await;
            return Err(fail(e));
        }
        let ms = elapsed_ms(started);
        let record = async {
            client.batch_execute("BEGIN").await?;
            let applied = event(EventKind::Applied, Some(ms), None);
            tokio::try_join!(
                history.finish(client, migration.version, true, ms, None),
                history.event(client, &applied),
            )?;
            client.batch_execute("COMMIT").await
        };
        return record
            .await
            .map(|()| ms)
            .map_err(|e| fail(Failure::bookkeeping(e)));
    }
    let result = async {
        run_in_transaction(client, script, settings).await?;
        let ms = elapsed_ms(started);
        let (applied_row, applied) = (
            row(ms, true, None),
            event(EventKind::Applied, Some(ms), None),
        );
        bookkeeping(tokio::try_join!(
            history.insert(client, &applied_row),
            history.event(client, &applied),
        ))?;
        commit(client).await.map(|()| ms)
    }
    .await;
    match result {
        Ok(ms) => Ok(ms),
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            let message = e.summary();
            let _ = history
                .event(
                    client,
                    &event(EventKind::Failed, Some(elapsed_ms(started)), Some(&message)),
                )
                .await;
            Err(fail(e))
        }
    }
}

/// Runs `migration`'s down script and removes its history row. Returns its
/// duration in ms. The caller checked that the down script exists.
pub async fn revert(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    settings: &ExecutionSettings,
) -> Result<i64, Box<MigrationFailure>> {
    let Some(script) = &migration.down else {
        return Ok(0);
    };
    let event = |kind, execution_ms, detail| NewEvent {
        kind,
        version: migration.version,
        name: &migration.name,
        checksum: Some(&script.checksum),
        execution_ms,
        detail,
    };
    let fail = |e: Failure| failure(migration, Direction::Down, e);
    let started = Instant::now();
    if script.directives.no_transaction {
        let note = "rollback started and not finished: the run was interrupted or is still going";
        let started_event = event(EventKind::Started, None, Some("rollback"));
        bookkeeping(tokio::try_join!(
            history.finish(client, migration.version, false, 0, Some(note)),
            history.event(client, &started_event),
        ))
        .map_err(fail)?;
        if let Err(e) = run_outside_transaction(client, script, settings).await {
            let message = format!("rollback failed: {}", e.summary());
            let ms = elapsed_ms(started);
            let _ = history
                .finish(client, migration.version, false, ms, Some(&message))
                .await;
            let _ = history
                .event(client, &event(EventKind::Failed, Some(ms), Some(&message)))
                .await;
            return Err(fail(e));
        }
        let ms = elapsed_ms(started);
        let record = async {
            client.batch_execute("BEGIN").await?;
            let rolled_back = event(EventKind::RolledBack, Some(ms), None);
            tokio::try_join!(
                history.delete(client, migration.version),
                history.event(client, &rolled_back)
            )?;
            client.batch_execute("COMMIT").await
        };
        return record
            .await
            .map(|()| ms)
            .map_err(|e| fail(Failure::bookkeeping(e)));
    }
    let result = async {
        run_in_transaction(client, script, settings).await?;
        let ms = elapsed_ms(started);
        let rolled_back = event(EventKind::RolledBack, Some(ms), None);
        bookkeeping(tokio::try_join!(
            history.delete(client, migration.version),
            history.event(client, &rolled_back),
        ))?;
        commit(client).await.map(|()| ms)
    }
    .await;
    if result.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result.map_err(fail)
}

/// Why a script stopped.
struct Failure {
    /// The index of the failing statement, when a statement failed.
    statement: Option<usize>,
    error: tokio_postgres::Error,
}

impl Failure {
    fn bookkeeping(error: tokio_postgres::Error) -> Self {
        Self {
            statement: None,
            error,
        }
    }

    fn summary(&self) -> String {
        describe(&self.error)
    }
}

fn bookkeeping<T>(result: Result<T, tokio_postgres::Error>) -> Result<T, Failure> {
    result.map_err(Failure::bookkeeping)
}

async fn commit(client: &Client) -> Result<(), Failure> {
    client
        .batch_execute("COMMIT")
        .await
        .map_err(Failure::bookkeeping)
}

async fn run_in_transaction(
    client: &Client,
    script: &Script,
    settings: &ExecutionSettings,
) -> Result<(), Failure> {
    let (lock_timeout, statement_timeout) = settings.for_script(script);
    client
        .batch_execute(&format!(
            "RESET ALL; BEGIN; SET LOCAL lock_timeout = '{lock_timeout}'; SET LOCAL statement_timeout = '{statement_timeout}'"
        ))
        .await
        .map_err(Failure::bookkeeping)?;
    run_statements(client, script).await
}

async fn run_outside_transaction(
    client: &Client,
    script: &Script,
    settings: &ExecutionSettings,
) -> Result<(), Failure> {
    let (lock_timeout, statement_timeout) = settings.for_script(script);
    client
        .batch_execute(&format!(
            "RESET ALL; SET lock_timeout = '{lock_timeout}'; SET statement_timeout = '{statement_timeout}'"
        ))
        .await
        .map_err(Failure::bookkeeping)?;
    let result = run_statements(client, script).await;
    let _ = client.batch_execute("RESET ALL").await;
    result
}

async fn run_statements(client: &Client, script: &Script) -> Result<(), Failure> {
    for (index, statement) in script.statements.iter().enumerate() {
        client
            .batch_execute(statement.text(&script.sql))
            .await
            .map_err(|error| Failure {
                statement: Some(index),
                error,
            })?;
    }
    Ok(())
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

fn failure(migration: &Migration, direction: Direction, failure: Failure) -> Box<MigrationFailure> {
    let script = match direction {
        Direction::Up => &migration.up,
        Direction::Down => migration.down.as_ref().unwrap_or(&migration.up),
    };
    let statement = failure.statement.and_then(|i| script.statements.get(i));
    let db = failure.error.as_db_error();
    let index = LineIndex::new(&script.sql);
    let position: Option<TextPosition> = match (statement, db.and_then(|d| d.position())) {
        (Some(statement), Some(ErrorPosition::Original(p))) => {
            let text = statement.text(&script.sql);
            let offset = statement.start + char_to_byte(text, (*p as usize).saturating_sub(1));
            Some(index.position(&script.sql, offset))
        }
        _ => None,
    };
    let context = match db.and_then(|d| d.position()) {
        Some(ErrorPosition::Internal { position, query }) => Some(format!(
            "{}at character {position} of the internal query `{query}`",
            db.and_then(|d| d.where_())
                .map(|w| format!("{w}; "))
                .unwrap_or_default()
        )),
        _ => db.and_then(|d| d.where_()).map(str::to_string),
    };
    Box::new(MigrationFailure {
        label: migration.label(),
        path: script.path.clone(),
        direction,
        transactional: !script.directives.no_transaction,
        position,
        source_line: position.map(|p| index.line_text(&script.sql, p.line).to_string()),
        statement: statement
            .map(|s| excerpt(s.text(&script.sql)))
            .unwrap_or_else(|| "(recording the migration in the history)".to_string()),
        statement_position: statement.map(|s| s.position),
        message: describe(&failure.error),
        code: failure.error.code().map(|c| c.code().to_string()),
        detail: db.and_then(|d| d.detail()).map(str::to_string),
        hint: db.and_then(|d| d.hint()).map(str::to_string),
        context,
        applied_before: Vec::new(),
    })
}

fn excerpt(statement: &str) -> String {
    let first_line = statement.lines().next().unwrap_or_default().trim();
    let mut out: String = first_line.chars().take(100).collect();
    if out.len() < statement.trim().len() {
        out.push_str(" …");
    }
    out
}
