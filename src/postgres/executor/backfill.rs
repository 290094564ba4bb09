//! Running a `-- schemactl:backfill` script: its one `UPDATE`/`DELETE` in
//! batches of key ranges, each batch a short transaction of its own
//! (`BEGIN; <last key of the batch>; <statement on the range>; <progress
//! event>; COMMIT`) under the script's `lock_timeout`, so that no row or
//! table lock is held longer than one batch. The progress event commits
//! with its batch, so a run killed at any point resumes after the last
//! batch the server committed; the history row is written in the last
//! batch's transaction, so the migration counts as applied only when every
//! batch is done.

use super::{Failure, Run, Stage, SESSION_RESET};
use crate::model::backfill::{BackfillProgress, BatchMark, BatchedStatement, Bounds};
use crate::model::duration::elapsed_ms;
use crate::model::history::EventKind;
use crate::model::identifier::Identifier;
use crate::model::{Direction, SourceProblem};
use crate::{FailureOutcome, MigrationFailure};
use std::time::{Duration, Instant};
use tokio_postgres::types::Type;

/// Where to report progress after each batch.
pub type ProgressSink<'p> = &'p mut (dyn FnMut(&BackfillProgress) + Send);

/// The key column the batches are ranges of, as the server has it.
struct Key {
    column: Identifier,
    /// `format_type` of the column: what the bounds are cast to.
    sql_type: String,
}

/// A batch that failed, and whether waiting may help.
enum BatchError {
    LockTimeout(tokio_postgres::Error),
    Other(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for BatchError {
    fn from(error: tokio_postgres::Error) -> Self {
        if error.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
            BatchError::LockTimeout(error)
        } else {
            BatchError::Other(error)
        }
    }
}

/// What every batch of one run shares.
struct Batching {
    statement: BatchedStatement,
    key: Key,
    /// Keys per batch.
    size: u64,
    /// When this run started.
    started: Instant,
    /// Time earlier, interrupted runs spent in batches.
    earlier_ms: u64,
}

/// What one committed batch did.
struct BatchDone {
    /// The batch's last key (`None`: it was the last batch).
    upto: Option<String>,
    rows: u64,
    /// From `BEGIN` to `COMMIT`: the longest any of its locks was held.
    held_ms: u64,
}

impl<'a> Run<'a> {
    /// [`Run::backfill`], timed: the ms this run took.
    pub(super) async fn backfill_timed(
        &self,
        progress: ProgressSink<'_>,
    ) -> Result<i64, Box<MigrationFailure>> {
        let started = Instant::now();
        self.backfill(started, progress).await?;
        Ok(elapsed_ms(started))
    }

    /// Runs the script as a backfill, reporting to `progress` after each
    /// batch; records the migration (applied, or rolled back) in the last
    /// batch's transaction.
    pub(super) async fn backfill(
        &self,
        started: Instant,
        progress: ProgressSink<'_>,
    ) -> Result<(), Box<MigrationFailure>> {
        let script = self.script();
        let statement = match self.statements()? {
            [only] => only,
            _ => {
                return Err(self.unrunnable(SourceProblem {
                    path: script.path.clone(),
                    position: None,
                    message: "a backfill is one UPDATE or DELETE statement".into(),
                }))
            }
        };
        let batched = BatchedStatement::read(statement.text(&script.sql)).map_err(|message| {
            self.unrunnable(SourceProblem {
                path: script.path.clone(),
                position: Some(statement.position),
                message,
            })
        })?;
        let spec = script.directives.backfill.clone().unwrap_or_default();
        let size = spec.batch_size.unwrap_or(self.settings.backfill.batch_size);
        self.client
            .batch_execute(&self.settings.session_setup(script))
            .await
            .map_err(|error| self.not_started(Stage::Setup, error))?;
        let key = self.backfill_key(&batched, spec.key).await?;
        let replica = self.replica().await?;
        let mut mark = self.resume_point().await;
        let resumed_after_batch = mark.as_ref().map(|m| m.batch);
        let keys_total = self.estimated_rows(&batched).await;
        let mut status = BackfillProgress {
            label: self.migration.label(),
            batch: mark.as_ref().map_or(0, |m| m.batch),
            keys_done: mark.as_ref().map_or(0, |m| m.keys),
            keys_total,
            rows: mark.as_ref().map_or(0, |m| m.rows),
            elapsed_ms: 0,
            resumed_after_batch,
            longest_batch_ms: 0,
            done: false,
            replica_wait_ms: 0,
        };
        let batching = Batching {
            statement: batched,
            key,
            size,
            started,
            earlier_ms: mark.as_ref().map_or(0, |m| m.ms),
        };
        let earlier_ms = batching.earlier_ms;
        loop {
            status.replica_wait_ms += self
                .wait_for_replica(replica.as_ref(), started, &status)
                .await?;
            let after = mark.as_ref().map(|m| m.after.clone());
            let done = self.batch_with_retries(&batching, after, &status).await?;
            status.longest_batch_ms = status.longest_batch_ms.max(done.held_ms);
            status.batch += 1;
            status.rows += done.rows;
            status.elapsed_ms = elapsed_ms(started).max(0) as u64;
            let Some(upto) = done.upto else {
                status.keys_done = status
                    .keys_total
                    .unwrap_or(status.keys_done)
                    .max(status.keys_done);
                status.done = true;
                progress(&status);
                break;
            };
            status.keys_done += size;
            progress(&status);
            mark = Some(BatchMark {
                direction: self.direction_word().into(),
                batch: status.batch,
                after: upto,
                keys: status.keys_done,
                rows: status.rows,
                ms: earlier_ms + status.elapsed_ms,
            });
            let pause = self.settings.backfill.batch_sleep;
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        let _ = self.client.batch_execute(SESSION_RESET).await;
        Ok(())
    }

    fn direction_word(&self) -> &'static str {
        match self.direction {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    fn not_started(&self, stage: Stage, error: tokio_postgres::Error) -> Box<MigrationFailure> {
        self.failure(Failure {
            stage,
            error,
            outcome: FailureOutcome::NotStarted,
        })
    }

    /// One batch, tried again after a lock timeout (1 s, 2 s, 4 s … while
    /// the retries last); any other error stops the backfill where it is.
    async fn batch_with_retries(
        &self,
        batching: &Batching,
        after: Option<String>,
        status: &BackfillProgress,
    ) -> Result<BatchDone, Box<MigrationFailure>> {
        let started = batching.started;
        let mut attempt: u32 = 1;
        loop {
            let result = self.one_batch(batching, after.as_deref(), status).await;
            let error = match result {
                Ok(done) => return Ok(done),
                Err(BatchError::LockTimeout(error)) if attempt <= self.settings.lock_retries => {
                    error
                }
                Err(BatchError::LockTimeout(error) | BatchError::Other(error)) => {
                    let _ = self.client.batch_execute("ROLLBACK").await;
                    let what = format!("batch {} failed", status.batch + 1);
                    return Err(self
                        .stopped_between_batches(started, status, error, &what)
                        .await);
                }
            };
            let _ = self.client.batch_execute("ROLLBACK").await;
            let pause = Duration::from_secs(1 << (attempt - 1).min(5));
            let detail = format!(
                "batch {}, attempt {attempt}: timed out waiting for a lock ({}); trying again in {} s",
                status.batch + 1,
                super::describe(&error),
                pause.as_secs()
            );
            let event = self.event(EventKind::LockTimeout, Some(elapsed_ms(started)), None);
            let event = super::NewEvent {
                detail: Some(&detail),
                ..event
            };
            let _ = self.history.event(self.client, &event).await;
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    /// `BEGIN`, the batch's last key, the statement on its range, the
    /// progress event (or, for the last batch, the history change), `COMMIT`.
    async fn one_batch(
        &self,
        batching: &Batching,
        after: Option<&str>,
        status: &BackfillProgress,
    ) -> Result<BatchDone, BatchError> {
        let Batching {
            statement: batched,
            key,
            size,
            started,
            earlier_ms,
        } = batching;
        let (size, earlier_ms) = (*size, *earlier_ms);
        let client = self.client;
        let began = Instant::now();
        let begin = match &self.history.lock_check {
            Some(check) => format!("BEGIN; SELECT {check}"),
            None => "BEGIN".to_string(),
        };
        client.batch_execute(&begin).await?;
        let end_sql = batched.batch_end(&key.column, &key.sql_type, after.is_some(), size);
        let ends = match after {
            Some(after) => {
                client
                    .query_typed(&end_sql, &[(&after, Type::TEXT)])
                    .await?
            }
            None => client.query_typed(&end_sql, &[]).await?,
        };
        // A key past this batch's last: more batches follow.
        let upto: Option<String> = match ends.as_slice() {
            [end, _next] => Some(end.get(0)),
            _ => None,
        };
        let bounds = Bounds {
            after: after.is_some(),
            upto: upto.is_some(),
        };
        let sql = batched.batch(&key.column, &key.sql_type, bounds);
        // Unnamed statements, each one message: nothing prepared outlives
        // the batch's transaction (a transaction pooler may hand the next
        // one another server session).
        let mut parameters: Vec<(&(dyn tokio_postgres::types::ToSql + Sync), Type)> = Vec::new();
        if let Some(after) = &after {
            parameters.push((after, Type::TEXT));
        }
        if let Some(upto) = &upto {
            parameters.push((upto, Type::TEXT));
        }
        let rows = client.execute_typed(&sql, &parameters).await?;
        if let Some(trace) = self.trace.filter(|_| status.batch == 0) {
            // `verify --locks`: the locks one batch holds, read inside it.
            let script = self.script();
            let statement = script.statements().ok().and_then(|s| s.first());
            if let Some(statement) = statement {
                let messages = client.simple_query(trace.tracer.probe_sql()).await?;
                trace.tracer.record(
                    statement.position.line,
                    statement.text(&script.sql),
                    messages,
                );
            }
        }
        let ms = elapsed_ms(*started);
        match &upto {
            Some(upto) => {
                let mark = BatchMark {
                    direction: self.direction_word().into(),
                    batch: status.batch + 1,
                    after: upto.clone(),
                    keys: status.keys_done + size,
                    rows: status.rows + rows,
                    ms: earlier_ms + ms.max(0) as u64,
                };
                let detail = serde_json::to_string(&mark).unwrap_or_default();
                let event = super::NewEvent {
                    detail: Some(&detail),
                    ..self.event(EventKind::BackfillBatch, Some(ms), None)
                };
                self.history.event(client, &event).await?;
            }
            None => self.record_done(status, rows, ms, earlier_ms).await?,
        }
        client.batch_execute("COMMIT").await?;
        Ok(BatchDone {
            upto,
            rows,
            held_ms: elapsed_ms(began).max(0) as u64,
        })
    }

    /// In the last batch's transaction: the history row written (up) or
    /// removed (down), with its event.
    async fn record_done(
        &self,
        status: &BackfillProgress,
        rows: u64,
        ms: i64,
        earlier_ms: u64,
    ) -> Result<(), tokio_postgres::Error> {
        let (client, migration) = (self.client, self.migration);
        let total_ms = earlier_ms + ms.max(0) as u64;
        let detail = format!(
            "backfill: {} rows in {} batches, {total_ms} ms in all{}",
            status.rows + rows,
            status.batch + 1,
            status
                .resumed_after_batch
                .map(|b| format!(" (resumed after batch {b})"))
                .unwrap_or_default()
        );
        match self.direction {
            Direction::Up => {
                let row = super::history_row(migration, Some(total_ms as i64), true, None);
                self.history.insert(client, &row).await?;
                let event = self.event(EventKind::Applied, Some(total_ms as i64), Some(&detail));
                self.history.event(client, &event).await
            }
            Direction::Down => {
                self.history
                    .delete(client, migration.version.clone())
                    .await?;
                let event = self.event(EventKind::RolledBack, Some(total_ms as i64), Some(&detail));
                self.history.event(client, &event).await
            }
        }
    }

    /// The key: the directive's column, or the table's one-column primary
    /// key; it must be `NOT NULL` (a NULL key is in no range) and have an
    /// index that starts with it (each batch looks up its range by it). It
    /// need not be unique: a batch takes every row of its last key.
    async fn backfill_key(
        &self,
        batched: &BatchedStatement,
        named: Option<Identifier>,
    ) -> Result<Key, Box<MigrationFailure>> {
        const KEY: &str = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),
                EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indkey[0] = a.attnum),
                a.attnotnull
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
             WHERE c.oid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
               AND CASE WHEN $2::text IS NULL
                   THEN a.attnum = (SELECT i.indkey[0] FROM pg_index i
                                    WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1)
                   ELSE a.attname = $2::text END";
        let script = self.script();
        let refuse = |message: String| {
            self.unrunnable(SourceProblem {
                path: script.path.clone(),
                position: None,
                message,
            })
        };
        let named_text = named.as_ref().map(|k| k.as_str().to_string());
        let rows = self
            .client
            .query_typed(
                KEY,
                &[(&batched.table, Type::TEXT), (&named_text, Type::TEXT)],
            )
            .await
            .map_err(|error| self.not_started(Stage::Setup, error))?;
        let Some(row) = rows.first() else {
            let exists = self
                .client
                .query_typed_one(
                    "SELECT to_regclass($1::text) IS NOT NULL",
                    &[(&batched.table, Type::TEXT)],
                )
                .await
                .map(|r| r.get::<_, bool>(0))
                .unwrap_or(false);
            return Err(refuse(match (&named, exists) {
                (_, false) => format!("the backfill's table {} does not exist", batched.table),
                (Some(key), true) => format!("{} has no column `{key}` to run the batches by", batched.table),
                (None, true) => format!(
                    "{} has no one-column primary key to run the batches by; name a unique, indexed column: `-- schemactl:backfill key <column>`",
                    batched.table
                ),
            }));
        };
        let column: String = row.get(0);
        let indexed: bool = row.get(2);
        let not_null: bool = row.get(3);
        if !not_null {
            return Err(refuse(format!(
                "{}.{column} may be NULL, and rows whose key is NULL fall in no batch's range, so they would be skipped; \
                 name a NOT NULL column with `key` (the primary key is one)",
                batched.table
            )));
        }
        if !indexed {
            return Err(refuse(format!(
                "{}.{column} has no index that starts with it, so every batch would scan the table to find its range; \
                 add one (CREATE INDEX CONCURRENTLY, in a migration before this one) or name an indexed column with `key`",
                batched.table
            )));
        }
        Ok(Key {
            column: Identifier::parse(&column).map_err(refuse)?,
            sql_type: row.get(1),
        })
    }

    /// The progress an interrupted earlier run of this script committed, if
    /// the script is unchanged since (a changed one starts again).
    async fn resume_point(&self) -> Option<BatchMark> {
        let (checksum, detail) = self
            .history
            .backfill_progress(self.client, &self.migration.version)
            .await
            .ok()??;
        if checksum.as_deref() != Some(self.script().checksum.as_str()) {
            return None;
        }
        serde_json::from_str::<BatchMark>(detail.as_deref()?)
            .ok()
            .filter(|mark| mark.direction == self.direction_word())
    }

    /// The table's rows as the planner last counted them, partitions included.
    async fn estimated_rows(&self, batched: &BatchedStatement) -> Option<u64> {
        const ESTIMATE: &str = "SELECT sum(greatest(c.reltuples, 0))::bigint FROM pg_class c
             WHERE c.oid = to_regclass($1) OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass($1))";
        let row = self
            .client
            .query_typed_one(ESTIMATE, &[(&batched.table, Type::TEXT)])
            .await
            .ok()?;
        let rows: Option<i64> = row.get(0);
        rows.filter(|r| *r > 0).map(|r| r as u64)
    }

    /// With `--replica-url`: a connection to the replica, which must be one
    /// (a primary never lags, and the throttle would silently never wait).
    async fn replica(&self) -> Result<Option<tokio_postgres::Client>, Box<MigrationFailure>> {
        let Some(url) = &self.settings.backfill.replica else {
            return Ok(None);
        };
        let refuse = |message: String| {
            self.unrunnable(SourceProblem {
                path: self.script().path.clone(),
                position: None,
                message,
            })
        };
        let target = crate::postgres::DatabaseTarget::parse(url)
            .map_err(|e| refuse(format!("--replica-url: {e}")))?;
        let replica = target
            .connect()
            .await
            .map_err(|e| refuse(format!("--replica-url: {e}")))?;
        let standby: bool = replica
            .query_typed_one("SELECT pg_is_in_recovery()", &[])
            .await
            .map(|r| r.get(0))
            .map_err(|e| refuse(format!("--replica-url: {}", super::describe(&e))))?;
        if !standby {
            return Err(refuse(format!(
                "--replica-url {} is not a replica (pg_is_in_recovery() is false), so its lag cannot hold the backfill back; give a standby's connection string",
                target.display()
            )));
        }
        Ok(Some(replica))
    }

    /// The backfill stops before its next batch: what committed stays
    /// (resumable, exit 3), or with no batch yet, nothing was applied.
    async fn stopped_between_batches(
        &self,
        started: Instant,
        status: &BackfillProgress,
        error: tokio_postgres::Error,
        what: &str,
    ) -> Box<MigrationFailure> {
        let failure = Failure {
            stage: Stage::Batch,
            error,
            outcome: if status.batch == 0 {
                FailureOutcome::RolledBack
            } else {
                FailureOutcome::BackfillInterrupted
            },
        };
        self.log_failure(started, &failure).await;
        let mut failure = self.failure(failure);
        failure.message = format!("{what}: {}", failure.message);
        failure
    }

    /// Waits while the replica lags further behind than
    /// `--max-replication-lag` (the time since the last transaction it
    /// replayed, while it has received WAL it has not replayed; unknown,
    /// so waited out, when it has replayed none since it started); returns
    /// the ms waited. A lag that cannot be read (the replica went away) is
    /// not taken for none: after three tries a second apart, the backfill
    /// stops before its next batch.
    async fn wait_for_replica(
        &self,
        replica: Option<&tokio_postgres::Client>,
        started: Instant,
        status: &BackfillProgress,
    ) -> Result<u64, Box<MigrationFailure>> {
        const LAG: &str = "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
                  ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 'Infinity') END::float8";
        let Some(replica) = replica else {
            return Ok(0);
        };
        let limit = self.settings.backfill.max_replication_lag;
        let waiting = Instant::now();
        let mut failed_reads = 0;
        loop {
            let lag = match replica.query_typed_one(LAG, &[]).await {
                Ok(row) => Duration::try_from_secs_f64(row.get::<_, f64>(0).max(0.0))
                    .unwrap_or(Duration::MAX),
                Err(error) if failed_reads >= 2 => {
                    let what = format!(
                        "--replica-url: the replica's lag could not be read before batch {}",
                        status.batch + 1
                    );
                    return Err(self
                        .stopped_between_batches(started, status, error, &what)
                        .await);
                }
                Err(_) => {
                    failed_reads += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if lag <= limit {
                return Ok(elapsed_ms(waiting).max(0) as u64);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
