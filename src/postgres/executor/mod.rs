//! Running one migration script and recording it.
//!
//! A transactional script runs as `RESET ALL; BEGIN; SELECT <its id,
//! timeouts, checks>; <statements>; <history row and event>; COMMIT`, so the schema change and
//! its record commit together or not at all. These messages are pipelined:
//! all are sent at once and the answers read in order, so a migration costs
//! one round trip however many statements it has. Each statement is still a
//! message of its own, so an error is traced to its statement, line and
//! column: once one fails, PostgreSQL rejects everything after it in the
//! transaction (SQLSTATE 25P02), and the `COMMIT` turns into a rollback.
//!
//! A `no-transaction` script first records a failed "in progress" row, then
//! runs its statements strictly one after the other (each commits on its
//! own, so nothing may run after a failure), then marks the row applied: a
//! crash in between leaves a visible failed row that `migrate` refuses to
//! pass until someone looks (`schemactl repair`).

mod backfill;
mod link;

pub use backfill::ProgressSink;
pub(crate) use link::{fate, Link, Ran};

use super::describe;
use super::history_table::{HistoryWriter, NewEvent, NewRow};
use super::lock_trace::LockTracer;
use crate::config::ExecutionSettings;
use crate::model::duration::elapsed_ms;
use crate::model::history::EventKind;
use crate::model::text_position::{char_to_byte, LineIndex, TextPosition};
use crate::model::SourceProblem;
use crate::model::{Direction, Execution, Migration, Script, Statement};
use crate::{FailureOutcome, MigrationFailure, TransactionFate};
use futures_util::future::{BoxFuture, FutureExt};
use std::time::Instant;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

impl ExecutionSettings {
    /// The timeouts `script` runs with, in whole milliseconds (its own
    /// directives first, then the settings).
    fn for_script(&self, script: &Script) -> (u64, u64) {
        let directives = &script.directives;
        (
            directives
                .lock_timeout
                .as_ref()
                .unwrap_or(&self.lock_timeout)
                .millis(),
            directives
                .statement_timeout
                .as_ref()
                .unwrap_or(&self.statement_timeout)
                .millis(),
        )
    }

    /// The setup of a transactional script: a clean session, the
    /// transaction, then one `SELECT` of the transaction's id (its first
    /// column: the answer's first value is read as the id) that also sets
    /// the transaction's timeouts (`set_config(…, true)` is `SET LOCAL`)
    /// and evaluates `checks` (expressions that fail the statement, and so
    /// abort the transaction just begun). Every statement here is paid by
    /// every migration: one `SELECT` costs less than one statement each.
    fn transaction_setup(&self, script: &Script, checks: &[String]) -> String {
        let (lock_timeout, statement_timeout) = self.for_script(script);
        let checks: String = checks.iter().map(|check| format!(", {check}")).collect();
        format!(
            "{SESSION_RESET}; BEGIN; SELECT pg_current_xact_id()::text, \
             set_config('lock_timeout', '{lock_timeout}', true), \
             set_config('statement_timeout', '{statement_timeout}', true){checks}"
        )
    }

    /// The setup of a `no-transaction` script: a clean session and its timeouts.
    fn session_setup(&self, script: &Script) -> String {
        let (lock_timeout, statement_timeout) = self.for_script(script);
        format!(
            "{SESSION_RESET}; SET lock_timeout = {lock_timeout}; SET statement_timeout = {statement_timeout}"
        )
    }
}

/// What runs before every script, so that nothing a script set leaks into
/// the next: the session user (a `SET SESSION AUTHORIZATION`), every setting
/// (`RESET ALL`), and the role, which `RESET ALL` leaves alone (`RESET ROLE`
/// returns to the role the session started with, `--role`'s).
const SESSION_RESET: &str = "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; RESET ROLE";

/// After a failure (and a `ROLLBACK`): what became of the run's
/// transaction, by the server's own account, and whether it sits prepared.
const TRANSACTION_STATUS: &str = "SELECT pg_xact_status($1::text::xid8), \
     (SELECT gid FROM pg_prepared_xacts WHERE transaction = $1::text::xid8::xid)";

/// Whether a statement resets `lock_timeout` or `statement_timeout` to the
/// server's default (`RESET ALL`, `RESET lock_timeout`, `SET … TO
/// DEFAULT`): schemactl sets its timeouts again after it, so that the rest
/// of the script keeps them. A script that sets a value of its own keeps it.
fn resets_timeouts(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ';' || c == '=')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let timeout = |w: &str| matches!(w, "lock_timeout" | "statement_timeout");
    match words.as_slice() {
        ["reset", "all", ..] => true,
        ["reset", name, ..] => timeout(name),
        ["set", "local" | "session", name, rest @ ..] | ["set", name, rest @ ..] => {
            timeout(name) && rest.contains(&"default")
        }
        _ => false,
    }
}

/// Sends `steps` in order, each once the ones before it are on their way,
/// and stops sending at the first failure already known when its turn
/// comes; then `tail`, which sends what it sends once it has what it waits
/// for (the transaction id), so that its messages follow every step's. Every
/// step and the tail are then driven together (the connection hands each
/// answer to its own request, in order, so none may be left unread).
/// Returns every step with its result (`None`: not sent), and the tail's.
async fn send_in_order<T>(
    steps: Vec<(Stage, Pending<'_>)>,
    stopped: &std::sync::atomic::AtomicBool,
    tail: impl std::future::Future<Output = T>,
) -> (Vec<(Stage, Option<Result<(), tokio_postgres::Error>>)>, T) {
    use std::sync::atomic::Ordering;
    use std::task::Poll;
    enum Step<'a> {
        Done(Result<(), tokio_postgres::Error>),
        Waiting(Pending<'a>),
        Skipped,
    }
    let mut sent = Vec::with_capacity(steps.len());
    let mut halted = false;
    for (stage, mut step) in steps {
        if halted {
            sent.push((stage, Step::Skipped));
            continue;
        }
        // The first poll of a driver call encodes and queues its message
        // (or fails on the client without sending anything).
        let first = futures_util::future::poll_fn(|cx| Poll::Ready(step.as_mut().poll(cx))).await;
        match first {
            Poll::Ready(result) => {
                halted = result.is_err();
                sent.push((stage, Step::Done(result)));
            }
            Poll::Pending => sent.push((stage, Step::Waiting(step))),
        }
    }
    stopped.store(halted, Ordering::SeqCst);
    let (stages, states): (Vec<Stage>, Vec<Step<'_>>) = sent.into_iter().unzip();
    let answers = futures_util::future::join_all(states.into_iter().map(|state| async move {
        match state {
            Step::Done(result) => Some(result),
            Step::Waiting(step) => Some(step.await),
            Step::Skipped => None,
        }
    }));
    let (answers, tail) = futures_util::future::join(answers, tail).await;
    (stages.into_iter().zip(answers).collect(), tail)
}

/// What the tail of a transactional run did: the history write and
/// `COMMIT`, sent once the transaction's id was known.
struct Tail {
    /// The run's transaction id (`None`: it was never read).
    transaction: Option<String>,
    /// The history write's result (`None`: not sent).
    recorded: Option<Result<(), tokio_postgres::Error>>,
    /// `COMMIT`'s result (`None`: not sent).
    committed: Option<Result<(), tokio_postgres::Error>>,
}

/// The first column of the first row of a simple query's answer.
pub(crate) fn first_value(messages: &[tokio_postgres::SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    })
}

/// What PostgreSQL says became of the run's transaction after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ServerOutcome {
    /// `pg_xact_status` = committed: what the script ran before it ended
    /// the transaction is there.
    Committed,
    /// Aborted (or never began): nothing of it remains.
    Aborted,
    /// Prepared (`PREPARE TRANSACTION`), neither committed nor rolled back.
    Prepared(String),
    /// The server could not say (the connection is gone, or the id is too
    /// old to be known).
    Unknown,
}

/// Asks the server what became of `transaction` (after the session's
/// `ROLLBACK`, so that "in progress" can only mean prepared).
async fn server_outcome(client: &Client, transaction: &str) -> ServerOutcome {
    let rows = match client
        .query_typed(
            TRANSACTION_STATUS,
            &[(&transaction, tokio_postgres::types::Type::TEXT)],
        )
        .await
    {
        Ok(rows) => rows,
        Err(_) => return ServerOutcome::Unknown,
    };
    let Some(row) = rows.first() else {
        return ServerOutcome::Unknown;
    };
    let status: Option<String> = row.try_get(0).ok().flatten();
    let prepared: Option<String> = row.try_get(1).ok().flatten();
    match (status.as_deref(), prepared) {
        (_, Some(gid)) => ServerOutcome::Prepared(gid),
        (Some("committed"), None) => ServerOutcome::Committed,
        (Some("aborted"), None) => ServerOutcome::Aborted,
        _ => ServerOutcome::Unknown,
    }
}

/// Where a traced run reports its locks (`verify --locks`): the tracer,
/// and a second connection to the same database that watches the locks of
/// `no-transaction` statements while they run.
#[derive(Clone, Copy)]
pub struct Trace<'a> {
    /// The tracer of this script.
    pub tracer: &'a LockTracer,
    /// The watching connection.
    pub observer: &'a Client,
}

/// The history row of `migration`, applied with its up script.
fn history_row<'m>(
    migration: &'m Migration,
    execution_ms: Option<i64>,
    success: bool,
    error: Option<&'m str>,
) -> NewRow<'m> {
    let script = &migration.up;
    NewRow {
        version: migration.version.clone(),
        name: &migration.name,
        checksum: &script.checksum,
        down_checksum: migration.down.as_ref().map(|d| &d.checksum),
        down_script: migration.down.as_ref().map(|d| d.sql.as_str()),
        phase: script
            .directives
            .phase
            .map(crate::model::phase::Phase::as_str),
        execution_ms,
        success,
        baselined: false,
        error,
    }
}

/// Applies `migration`'s up script and records it. Returns its duration in ms.
pub async fn apply(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    settings: &ExecutionSettings,
) -> Result<i64, Box<MigrationFailure>> {
    apply_traced(client, history, migration, settings, None).await
}

/// [`apply`], tracing the locks each statement takes.
pub async fn apply_traced(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    settings: &ExecutionSettings,
    trace: Option<Trace<'_>>,
) -> Result<i64, Box<MigrationFailure>> {
    apply_surrounded(client, history, migration, settings, trace, None).await
}

/// [`apply_traced`], with `surrounding` statements in the migration's
/// own transaction (a transactional script only).
pub async fn apply_surrounded(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    settings: &ExecutionSettings,
    trace: Option<Trace<'_>>,
    surrounding: Option<&Surrounding>,
) -> Result<i64, Box<MigrationFailure>> {
    let run = Run {
        client,
        history,
        migration,
        direction: Direction::Up,
        settings,
        trace,
        surrounding,
    };
    let script = &migration.up;
    if script.execution() == Execution::Backfill {
        return run.backfill_timed(&mut |_| {}).await;
    }
    let row = |execution_ms, success, error| history_row(migration, execution_ms, success, error);
    let started = Instant::now();
    if script.execution() != Execution::Transaction {
        let note = crate::model::history::STARTED_NOTE;
        let started_row = row(Some(0), false, Some(note));
        let started_event = run.event(EventKind::Started, Some(0), None);
        run.bookkeeping(FailureOutcome::NotStarted, async {
            tokio::try_join!(
                history.insert(client, &started_row),
                history.event(client, &started_event)
            )
            .map(drop)
        })
        .await?;
        run.outside_transaction(started).await?;
        let ms = elapsed_ms(started);
        let applied = run.event(EventKind::Applied, Some(ms), None);
        run.bookkeeping(FailureOutcome::FailedOutsideTransaction, async {
            client.batch_execute("BEGIN").await?;
            // Both queued at once; the first one's error is the cause.
            let (finished, logged) = tokio::join!(
                history.finish(client, migration.version.clone(), true, ms, None),
                history.event(client, &applied),
            );
            finished?;
            logged?;
            client.batch_execute("COMMIT").await
        })
        .await?;
        return Ok(ms);
    }
    run.recorded_in_transaction(started, Link::default())
        .await
        .map(|_| elapsed_ms(started))
}

/// Runs `migration`'s transactional script in `direction` with its history
/// change, chained by `link` to the runs before and after it on `client`.
pub(crate) async fn run_linked(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    direction: Direction,
    settings: &ExecutionSettings,
    link: Link,
) -> Result<Ran, Box<MigrationFailure>> {
    Run::plain(client, history, migration, direction, settings)
        .recorded_in_transaction(Instant::now(), link)
        .await
}

/// Runs `migration`'s `-- schemactl:backfill` script in `direction` in
/// batches, each its own transaction, telling `progress` after each; the
/// last batch records the migration (applied, or rolled back). Returns the
/// time this run took in ms.
pub async fn backfill(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    direction: Direction,
    settings: &ExecutionSettings,
    progress: ProgressSink<'_>,
) -> Result<i64, Box<MigrationFailure>> {
    Run::plain(client, history, migration, direction, settings)
        .backfill_timed(progress)
        .await
}

/// Runs `migration`'s down script and removes its history row. Returns its
/// duration in ms. The planner has checked that the down script exists.
pub async fn revert(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    settings: &ExecutionSettings,
) -> Result<i64, Box<MigrationFailure>> {
    revert_traced(client, history, migration, settings, None).await
}

/// [`revert`], tracing the locks each statement takes.
pub async fn revert_traced(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    settings: &ExecutionSettings,
    trace: Option<Trace<'_>>,
) -> Result<i64, Box<MigrationFailure>> {
    revert_surrounded(client, history, migration, settings, trace, None).await
}

/// [`revert_traced`], with `surrounding` statements in the rollback's
/// own transaction (a transactional down script only).
pub async fn revert_surrounded(
    client: &Client,
    history: &HistoryWriter,
    migration: &Migration,
    settings: &ExecutionSettings,
    trace: Option<Trace<'_>>,
    surrounding: Option<&Surrounding>,
) -> Result<i64, Box<MigrationFailure>> {
    let run = Run {
        client,
        history,
        migration,
        direction: Direction::Down,
        settings,
        trace,
        surrounding,
    };
    let Some(script) = &migration.down else {
        return Ok(0);
    };
    if script.execution() == Execution::Backfill {
        return run.backfill_timed(&mut |_| {}).await;
    }
    let started = Instant::now();
    if script.execution() != Execution::Transaction {
        let note = crate::model::history::ROLLBACK_STARTED_NOTE;
        let started_event = run.event(EventKind::Started, Some(0), Some("rollback"));
        run.bookkeeping(FailureOutcome::NotStarted, async {
            tokio::try_join!(
                history.finish(client, migration.version.clone(), false, 0, Some(note)),
                history.event(client, &started_event),
            )
            .map(drop)
        })
        .await?;
        run.outside_transaction(started).await?;
        let ms = elapsed_ms(started);
        let rolled_back = run.event(EventKind::RolledBack, Some(ms), None);
        run.bookkeeping(FailureOutcome::FailedOutsideTransaction, async {
            client.batch_execute("BEGIN").await?;
            let (deleted, logged) = tokio::join!(
                history.delete(client, migration.version.clone()),
                history.event(client, &rolled_back)
            );
            deleted?;
            logged?;
            client.batch_execute("COMMIT").await
        })
        .await?;
        return Ok(ms);
    }
    run.recorded_in_transaction(started, Link::default())
        .await
        .map(|_| elapsed_ms(started))
}

/// Statements schemactl runs in a migration's own transaction around its
/// script (the data backup before a destructive migration, the data
/// restored after a down script): `before` right after the transaction
/// starts, `after` right behind the script, so that they commit or roll
/// back with it.
#[derive(Debug, Default)]
pub struct Surrounding {
    /// Run before the script.
    pub before: Vec<String>,
    /// Run after the script; the rows each one touched are kept.
    pub after: Vec<String>,
    touched: std::sync::Mutex<Vec<u64>>,
}

impl Surrounding {
    /// `before` and `after` statements.
    pub fn new(before: Vec<String>, after: Vec<String>) -> Self {
        Self {
            before,
            after,
            touched: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The rows each `after` statement touched, in order (after a run).
    pub fn touched(&self) -> Vec<u64> {
        self.touched.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// One script being run.
struct Run<'a> {
    client: &'a Client,
    history: &'a HistoryWriter,
    migration: &'a Migration,
    direction: Direction,
    settings: &'a ExecutionSettings,
    trace: Option<Trace<'a>>,
    surrounding: Option<&'a Surrounding>,
}

type Pending<'a> = BoxFuture<'a, Result<(), tokio_postgres::Error>>;

impl<'a> Run<'a> {
    /// A run with no lock tracing and nothing of schemactl's around the script.
    fn plain(
        client: &'a Client,
        history: &'a HistoryWriter,
        migration: &'a Migration,
        direction: Direction,
        settings: &'a ExecutionSettings,
    ) -> Self {
        Run {
            client,
            history,
            migration,
            direction,
            settings,
            trace: None,
            surrounding: None,
        }
    }

    fn script(&self) -> &'a Script {
        match self.direction {
            Direction::Up => &self.migration.up,
            Direction::Down => self.migration.down.as_ref().unwrap_or(&self.migration.up),
        }
    }

    fn event(
        &self,
        kind: EventKind,
        execution_ms: Option<i64>,
        detail: Option<&'a str>,
    ) -> NewEvent<'a> {
        NewEvent {
            kind,
            version: self.migration.version.clone(),
            name: &self.migration.name,
            checksum: Some(&self.script().checksum),
            execution_ms,
            detail,
        }
    }

    fn statements(&self) -> Result<&'a [Statement], Box<MigrationFailure>> {
        self.script()
            .statements()
            .map_err(|problem| self.unrunnable(problem))
    }

    /// The transactional script with its history change (the applied row,
    /// or the row's removal), chained by `link`. A script that committed
    /// part of itself before failing leaves a failed row, so that `migrate`
    /// stops until someone has looked.
    async fn recorded_in_transaction(
        &self,
        started: Instant,
        link: Link,
    ) -> Result<Ran, Box<MigrationFailure>> {
        let (client, history, migration) = (self.client, self.history, self.migration);
        let result = match self.direction {
            Direction::Up => {
                let applied_row = history_row(migration, None, true, None);
                let record = |transaction: String| {
                    let applied_row = &applied_row;
                    async move {
                        history
                            .insert_with_event(
                                client,
                                applied_row,
                                EventKind::Applied,
                                None,
                                &transaction,
                            )
                            .await
                    }
                    .boxed()
                };
                self.in_transaction(started, record, link).await
            }
            Direction::Down => {
                let rolled_back = self.event(EventKind::RolledBack, None, None);
                let record = |transaction: String| {
                    let rolled_back = &rolled_back;
                    async move {
                        history
                            .delete_with_event(client, rolled_back, &transaction)
                            .await
                    }
                    .boxed()
                };
                self.in_transaction(started, record, link).await
            }
        };
        let Err(failure) = result else {
            return result;
        };
        if failure.outcome == FailureOutcome::PartiallyApplied {
            let ms = elapsed_ms(started);
            let _ = match self.direction {
                Direction::Up => {
                    let failed_row =
                        history_row(migration, Some(ms), false, Some(&failure.message));
                    history.insert(client, &failed_row).await
                }
                Direction::Down => {
                    let message = format!("rollback partially applied: {}", failure.message);
                    history
                        .finish(client, migration.version.clone(), false, ms, Some(&message))
                        .await
                }
            };
        }
        Err(failure)
    }

    /// The script and `record` in one pipelined transaction.
    ///
    /// The messages are sent in order, each as soon as the one before it is
    /// on its way, and sending stops at the first failure that is already
    /// known (a statement the client could not send, say): `COMMIT` is only
    /// ever sent behind a complete script. Right after `BEGIN` the run reads
    /// its transaction's id; `record` (given that id) fails unless it runs
    /// in that very transaction, and is sent with `COMMIT` as soon as the id
    /// arrives, behind the script. After a failure the outcome is the
    /// server's: `pg_xact_status` of that id says whether the script had
    /// committed part of itself, was rolled back, or sits prepared.
    async fn in_transaction<'r>(
        &self,
        started: Instant,
        record: impl FnOnce(String) -> Pending<'r>,
        link: Link,
    ) -> Result<Ran, Box<MigrationFailure>> {
        let script = self.script();
        let statements = self.statements()?;
        let mut steps: Vec<(Stage, Pending<'_>)> = Vec::with_capacity(statements.len() + 1);
        let (send_id, id) = tokio::sync::oneshot::channel::<String>();
        let client = self.client;
        // One message: the setup, and the id of the transaction it began
        // (the id, the run's hold on the migration lock and, chained, the
        // previous run's commit, checked in one statement).
        let Link { after, queued } = link;
        let mut checks: Vec<String> = self.history.lock_check.iter().cloned().collect();
        let predecessor = after.map(|(transaction, fate)| {
            checks.extend(link::committed_guard(&transaction));
            fate
        });
        let setup = self.settings.transaction_setup(script, &checks);
        steps.push((
            Stage::Setup,
            async move {
                let messages = client.simple_query(&setup).await?;
                if let Some(id) = first_value(&messages) {
                    let _ = send_id.send(id);
                }
                Ok(())
            }
            .boxed(),
        ));
        self.surrounding_steps(true, &mut steps);
        self.statement_steps(statements, &mut steps);
        self.surrounding_steps(false, &mut steps);
        let stopped = std::sync::atomic::AtomicBool::new(false);
        let tail = async {
            let Ok(transaction) = id.await else {
                return Tail {
                    transaction: None,
                    recorded: None,
                    committed: None,
                };
            };
            if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                return Tail {
                    transaction: Some(transaction),
                    recorded: None,
                    committed: None,
                };
            }
            // Committed only behind a run that committed.
            if !link::predecessor_committed(predecessor.as_ref()).await {
                return Tail {
                    transaction: Some(transaction),
                    recorded: None,
                    committed: None,
                };
            }
            // Queued in this order, and the next run told once they are.
            let ending = vec![
                (Stage::Record, record(transaction.clone())),
                (Stage::Commit, client.batch_execute("COMMIT").boxed()),
            ];
            let ending_stopped = std::sync::atomic::AtomicBool::new(false);
            let told = async {
                if let Some(queued) = queued {
                    let _ = queued.send(transaction.clone());
                }
            };
            let (ended, ()) = send_in_order(ending, &ending_stopped, told).await;
            let mut ended = ended.into_iter().map(|(_, result)| result);
            Tail {
                recorded: ended.next().flatten(),
                committed: ended.next().flatten(),
                transaction: Some(transaction),
            }
        };
        let (results, tail) = send_in_order(steps, &stopped, tail).await;
        if !link::predecessor_committed(predecessor.as_ref()).await {
            // The run before did not commit: neither may this one.
            let _ = client.batch_execute("ROLLBACK").await;
            return Ok(Ran::Withdrawn);
        }
        let mut failures = results
            .into_iter()
            .filter_map(|(stage, result)| match result {
                Some(Err(error)) => Some((stage, error)),
                _ => None,
            })
            .chain(
                tail.recorded
                    .and_then(Result::err)
                    .map(|e| (Stage::Record, e)),
            )
            .chain(
                tail.committed
                    .and_then(Result::err)
                    .map(|e| (Stage::Commit, e)),
            );
        let Some((stage, error)) = failures.next() else {
            if tail.transaction.is_some() && !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                return Ok(Ran::Committed(elapsed_ms(started)));
            }
            // Nothing failed, yet the history write was never sent: the
            // transaction id never came back. Roll back and say so.
            let _ = self.client.batch_execute("ROLLBACK").await;
            let mut failure = self.unrunnable(SourceProblem {
                path: script.path.clone(),
                position: None,
                message: "the server did not give the transaction's id, so the history write was not sent; the transaction was rolled back".into(),
            });
            failure.outcome = FailureOutcome::RolledBack;
            return Err(failure);
        };
        Err(self
            .failed_in_transaction(started, stage, error, tail.transaction.as_deref())
            .await)
    }

    /// After a failure inside the transaction: rolls it back, asks the
    /// server what became of it (`pg_xact_status`), logs, and says so.
    async fn failed_in_transaction(
        &self,
        started: Instant,
        stage: Stage,
        error: tokio_postgres::Error,
        transaction: Option<&str>,
    ) -> Box<MigrationFailure> {
        let connection_lost = error.is_closed();
        let _ = self.client.batch_execute("ROLLBACK").await;
        let server = match transaction {
            _ if connection_lost => ServerOutcome::Unknown,
            Some(transaction) => server_outcome(self.client, transaction).await,
            // The transaction's id was never read: the setup itself failed.
            None if matches!(stage, Stage::Setup) => ServerOutcome::Aborted,
            None => ServerOutcome::Unknown,
        };
        let ended_by_script = matches!(stage, Stage::Record)
            && error.code() == Some(&tokio_postgres::error::SqlState::DIVISION_BY_ZERO);
        let outcome = match server {
            ServerOutcome::Committed => FailureOutcome::PartiallyApplied,
            // Rolled back by the script itself, which went on outside it.
            ServerOutcome::Aborted if ended_by_script => FailureOutcome::PartiallyApplied,
            ServerOutcome::Aborted => FailureOutcome::RolledBack,
            ServerOutcome::Prepared(_) => FailureOutcome::PartiallyApplied,
            ServerOutcome::Unknown => FailureOutcome::Unknown,
        };
        let failure = Failure {
            stage,
            error,
            outcome,
        };
        self.log_failure(started, &failure).await;
        let mut failure = self.failure(failure);
        if outcome == FailureOutcome::PartiallyApplied {
            failure.own_transaction = match server {
                ServerOutcome::Committed => Some(TransactionFate::Committed),
                ServerOutcome::Aborted => Some(TransactionFate::Aborted),
                _ => None,
            };
        }
        if let ServerOutcome::Prepared(gid) = server {
            failure.message = format!(
                "the script prepared the transaction schemactl opened for it (PREPARE TRANSACTION '{gid}'): its changes are neither committed nor rolled back. \
                 Decide: `ROLLBACK PREPARED '{gid}'` (then the migration can run again) or `COMMIT PREPARED '{gid}'` (then `schemactl repair`)"
            );
        }
        failure
    }

    /// The [`Surrounding`] statements before (or after) the script, as steps.
    fn surrounding_steps(&self, before: bool, steps: &mut Vec<(Stage, Pending<'a>)>) {
        let Some(surrounding) = self.surrounding else {
            return;
        };
        let client = self.client;
        if before {
            // A new attempt (after a lock timeout) counts anew.
            if let Ok(mut touched) = surrounding.touched.lock() {
                touched.clear();
            }
            for sql in &surrounding.before {
                steps.push((Stage::Before, client.batch_execute(sql).boxed()));
            }
            return;
        }
        for sql in &surrounding.after {
            let touched = &surrounding.touched;
            steps.push((
                Stage::After,
                async move {
                    let rows = client.execute_typed(sql.as_str(), &[]).await?;
                    if let Ok(mut touched) = touched.lock() {
                        touched.push(rows);
                    }
                    Ok(())
                }
                .boxed(),
            ));
        }
    }

    /// Each statement of a transactional script as a step, with the
    /// timeouts set again after a `RESET`, and the lock probe of a traced run.
    fn statement_steps(&self, statements: &'a [Statement], steps: &mut Vec<(Stage, Pending<'a>)>) {
        let script = self.script();
        let (lock_timeout, statement_timeout) = self.settings.for_script(script);
        let reassert = format!(
            "SET LOCAL lock_timeout = {lock_timeout}; SET LOCAL statement_timeout = {statement_timeout}"
        );
        for (index, statement) in statements.iter().enumerate() {
            let text = statement.text(&script.sql);
            steps.push((
                Stage::Statement(index),
                self.client.batch_execute(text).boxed(),
            ));
            if resets_timeouts(text) {
                // A RESET must not leave the rest of the script without them.
                let client = self.client;
                let reassert = reassert.clone();
                steps.push((
                    Stage::Statement(index),
                    async move { client.batch_execute(&reassert).await }.boxed(),
                ));
            }
            if let Some(trace) = self.trace {
                // In the same pipeline, so it reads the locks right after it.
                let (client, tracer) = (self.client, trace.tracer);
                let (sql, line) = (tracer.probe_sql(), statement.position.line);
                steps.push((
                    Stage::Statement(index),
                    async move {
                        let messages = client.simple_query(sql).await?;
                        tracer.record(line, text, messages);
                        Ok(())
                    }
                    .boxed(),
                ));
            }
        }
    }

    /// The statements one by one, each committing on its own.
    async fn outside_transaction(&self, started: Instant) -> Result<(), Box<MigrationFailure>> {
        let script = self.script();
        let statements = self.statements()?;
        let setup = self.settings.session_setup(script);
        let mut result = self
            .client
            .batch_execute(&setup)
            .await
            .map_err(|error| Failure {
                stage: Stage::Setup,
                error,
                outcome: FailureOutcome::FailedOutsideTransaction,
            });
        if result.is_ok() && script.execution() == Execution::OneMessage {
            result = self.as_one_message().await;
        } else if result.is_ok() {
            for (index, statement) in statements.iter().enumerate() {
                let text = statement.text(&script.sql);
                let run = self.client.batch_execute(text);
                let mut ran = match self.trace {
                    Some(trace) => {
                        let line = statement.position.line;
                        trace.tracer.watch(trace.observer, line, text, run).await
                    }
                    None => run.await,
                };
                if ran.is_ok() && resets_timeouts(text) {
                    let (lock_timeout, statement_timeout) = self.settings.for_script(script);
                    ran = self
                        .client
                        .batch_execute(&format!(
                            "SET lock_timeout = {lock_timeout}; SET statement_timeout = {statement_timeout}"
                        ))
                        .await;
                }
                if let Err(error) = ran {
                    result = Err(Failure {
                        stage: Stage::Statement(index),
                        error,
                        outcome: FailureOutcome::FailedOutsideTransaction,
                    });
                    break;
                }
            }
        }
        // What the server says of the session now: a script that left a
        // transaction open or prepared did not finish, whatever its
        // statements answered.
        let left_behind = match &result {
            Ok(()) => self.transaction_left_behind(started).await,
            Err(_) => {
                // A statement that failed inside a block the script opened
                // left that block aborted: end it (outside one, a no-op).
                let _ = self.client.batch_execute("ROLLBACK").await;
                None
            }
        };
        let _ = self.client.batch_execute(SESSION_RESET).await;
        let (message, failure) = match (result, left_behind) {
            (Ok(()), None) => return Ok(()),
            (Ok(()), Some(problem)) => {
                let mut failure = self.unrunnable(SourceProblem {
                    path: self.script().path.clone(),
                    position: None,
                    message: problem,
                });
                failure.outcome = FailureOutcome::FailedOutsideTransaction;
                (failure.message.clone(), failure)
            }
            (Err(failure), _) => {
                let message = describe(&failure.error);
                let statements_before = match failure.stage {
                    Stage::Setup => Some(0),
                    Stage::Statement(index) => Some(index),
                    _ => None,
                };
                let mut failure = self.failure(failure);
                failure.statements_before = statements_before;
                (message, failure)
            }
        };
        let ms = elapsed_ms(started);
        let message = match self.direction {
            Direction::Up => message,
            Direction::Down => format!("rollback failed: {message}"),
        };
        let _ = self
            .history
            .finish(
                self.client,
                self.migration.version.clone(),
                false,
                ms,
                Some(&message),
            )
            .await;
        let _ = self
            .history
            .event(
                self.client,
                &self.event(EventKind::Failed, Some(ms), Some(&message)),
            )
            .await;
        Err(failure)
    }

    /// The whole script as one simple-query message, as golang-migrate
    /// sends it: PostgreSQL runs what stands outside the script's own blocks
    /// in the message's implicit transaction, and stops at the first error.
    async fn as_one_message(&self) -> Result<(), Failure> {
        let script = self.script();
        let run = self.client.batch_execute(&script.sql);
        let ran = match self.trace {
            Some(trace) => {
                trace
                    .tracer
                    .watch(trace.observer, 1, &script.sql, run)
                    .await
            }
            None => run.await,
        };
        ran.map_err(|error| Failure {
            stage: Stage::Message,
            error,
            outcome: FailureOutcome::FailedOutsideTransaction,
        })
    }

    /// After a `no-transaction` script: whether it left a transaction open
    /// (a `BEGIN` without its end: rolled back here) or prepared one
    /// (`PREPARE TRANSACTION`) since it started, as the server tells.
    async fn transaction_left_behind(&self, started: Instant) -> Option<String> {
        // `SAVEPOINT` succeeds only inside a transaction block (outside one
        // it fails with 25P01): the server's own word on whether one is open.
        let open = self
            .client
            .batch_execute("SAVEPOINT schemactl_probe")
            .await
            .is_ok();
        let window = elapsed_ms(started) + 1_000;
        let prepared = if open {
            None
        } else {
            let check = format!(
                "SELECT string_agg(gid, ', ') FROM pg_prepared_xacts WHERE database = current_database() \
                 AND owner = current_user AND prepared >= clock_timestamp() - {window} * interval '1 millisecond'"
            );
            let messages = self.client.simple_query(&check).await.ok()?;
            first_value(&messages)
        };
        if open {
            let _ = self.client.batch_execute("ROLLBACK").await;
            return Some("the script left a transaction open (a BEGIN without its COMMIT): what it ran after that BEGIN was not committed, and schemactl rolled it back; end the transaction in the script, or remove the BEGIN".into());
        }
        prepared.map(|gids| {
            format!(
                "the script prepared a transaction (PREPARE TRANSACTION '{gids}'): its changes are neither committed nor rolled back. \
                 Decide: `COMMIT PREPARED '{gids}'` or `ROLLBACK PREPARED '{gids}'`, then `schemactl repair`"
            )
        })
    }

    /// History writes outside the script's own transaction (a
    /// `no-transaction` script): `outcome` says where the script stands if
    /// they fail (before it ran: nothing of it ran; after: it ran, and the
    /// history still marks it failed).
    async fn bookkeeping(
        &self,
        outcome: FailureOutcome,
        work: impl std::future::Future<Output = Result<(), tokio_postgres::Error>>,
    ) -> Result<(), Box<MigrationFailure>> {
        match work.await {
            Ok(()) => Ok(()),
            Err(error) => {
                let _ = self.client.batch_execute("ROLLBACK").await;
                Err(self.failure(Failure {
                    stage: Stage::Record,
                    error,
                    outcome,
                }))
            }
        }
    }

    async fn log_failure(&self, started: Instant, failure: &Failure) {
        let message = describe(&failure.error);
        let event = self.event(EventKind::Failed, Some(elapsed_ms(started)), Some(&message));
        let _ = self.history.event(self.client, &event).await;
    }

    fn unrunnable(&self, problem: SourceProblem) -> Box<MigrationFailure> {
        let script = self.script();
        Box::new(MigrationFailure {
            version: self.migration.version.clone(),
            label: self.migration.label(),
            path: script.path.clone(),
            direction: self.direction,
            transactional: script.execution() == Execution::Transaction,
            execution: script.execution(),
            outcome: FailureOutcome::NotStarted,
            own_transaction: None,
            position: problem.position,
            source_line: None,
            statement: String::new(),
            statement_position: problem.position,
            message: problem.message,
            code: None,
            detail: None,
            hint: None,
            context: None,
            server_version: None,
            applied_before: Vec::new(),
            rolled_back_before: Vec::new(),
            not_reached: Vec::new(),
            lock_contention: None,
            invalid_indexes: Vec::new(),
            statements_before: None,
        })
    }

    /// The statement that failed and the byte offset in the file that the
    /// server's error points to, as far as they are known. A message's error
    /// position counts from the start of the message: for a script sent
    /// whole, from the start of the file (the statement is then the one
    /// that holds that offset, for the report only).
    fn failed_at(
        &self,
        failure: &Failure,
        db: Option<&tokio_postgres::error::DbError>,
    ) -> (Option<&'a Statement>, Option<usize>) {
        let script = self.script();
        let statements = script.statements().ok();
        let pointed = match db.and_then(|d| d.position()) {
            Some(ErrorPosition::Original(p)) => Some((*p as usize).saturating_sub(1)),
            _ => None,
        };
        match failure.stage {
            Stage::Statement(index) => {
                let statement = statements.and_then(|s| s.get(index));
                let offset = statement.zip(pointed).map(|(statement, p)| {
                    statement.start + char_to_byte(statement.text(&script.sql), p)
                });
                (statement, offset)
            }
            // The batch's text is not the file's: only the statement is known.
            Stage::Batch => (statements.and_then(|s| s.first()), None),
            Stage::Message => {
                let offset = pointed.map(|p| char_to_byte(&script.sql, p));
                let statement = offset
                    .and_then(|offset| statements?.iter().take_while(|s| s.start <= offset).last());
                (statement, offset)
            }
            _ => (None, None),
        }
    }

    fn failure(&self, failure: Failure) -> Box<MigrationFailure> {
        let script = self.script();
        let db = failure.error.as_db_error();
        let index = LineIndex::new(&script.sql);
        let (statement, offset) = self.failed_at(&failure, db);
        let position: Option<TextPosition> =
            offset.map(|offset| index.position(&script.sql, offset));
        let context = match db.and_then(|d| d.position()) {
            Some(ErrorPosition::Internal { position, query }) => Some(format!(
                "{}at character {position} of the internal query `{query}`",
                db.and_then(|d| d.where_())
                    .map(|w| format!("{w}; "))
                    .unwrap_or_default()
            )),
            _ => db.and_then(|d| d.where_()).map(str::to_string),
        };
        let mut message = describe(&failure.error);
        let left_transaction = matches!(failure.stage, Stage::Record)
            && failure.error.code() == Some(&tokio_postgres::error::SqlState::DIVISION_BY_ZERO);
        if left_transaction {
            message = "the script ended the transaction schemactl opened for it (a COMMIT, END, ROLLBACK or PREPARE TRANSACTION that was not recognised as one, \
                       for example because the script changes how later text is read): the history write ran in another transaction than the migration's, so it was refused"
                .to_string();
        }
        let lock_lost = matches!(failure.stage, Stage::Record | Stage::Setup)
            && failure.error.code()
                == Some(&tokio_postgres::error::SqlState::INVALID_ARGUMENT_FOR_POWER_FUNCTION);
        if lock_lost {
            message = "this run lost the migration lock (a `pg_advisory_unlock_all()` or `DISCARD ALL` in a migration, perhaps inside a function, \
                       released it): another run could have started, so nothing more is recorded and the run stopped. \
                       Remove that call from the migration"
                .to_string();
        }
        let outcome = failure.outcome;
        if outcome == FailureOutcome::Unknown {
            message.push_str(
                " (the connection failed while the migration was being committed: run `schemactl status` to see whether it was applied)",
            );
        }
        Box::new(MigrationFailure {
            version: self.migration.version.clone(),
            label: self.migration.label(),
            path: script.path.clone(),
            direction: self.direction,
            transactional: script.execution() == Execution::Transaction,
            execution: script.execution(),
            outcome,
            own_transaction: None,
            position,
            source_line: position.map(|p| index.line_text(&script.sql, p.line).to_string()),
            statement: statement.map_or_else(
                || failure.stage.describe().to_string(),
                |s| excerpt(s.text(&script.sql)),
            ),
            statement_position: statement.map(|s| s.position),
            message,
            code: failure.error.code().map(|c| c.code().to_string()),
            detail: db.and_then(|d| d.detail()).map(str::to_string),
            hint: db.and_then(|d| d.hint()).map(str::to_string),
            context,
            server_version: None,
            applied_before: Vec::new(),
            rolled_back_before: Vec::new(),
            not_reached: Vec::new(),
            lock_contention: None,
            invalid_indexes: Vec::new(),
            statements_before: None,
        })
    }
}

/// Which part of a run failed.
#[derive(Debug, Clone, Copy)]
enum Stage {
    Setup,
    /// A [`Surrounding`] statement before the script.
    Before,
    Statement(usize),
    /// A [`Surrounding`] statement after the script.
    After,
    /// The whole script, sent as one message.
    Message,
    /// A batch of a backfill (its range of the one statement).
    Batch,
    Record,
    Commit,
}

impl Stage {
    fn describe(self) -> &'static str {
        match self {
            Stage::Setup => "(starting the transaction and setting the timeouts)",
            Stage::Before => "(keeping the data the migration destroys: migrate --backup)",
            Stage::Statement(_) => "(a statement)",
            Stage::After => "(restoring the data the migration destroyed: rollback --restore-data)",
            Stage::Message => "(the file, sent as one message)",
            Stage::Batch => "(a batch of the backfill)",
            Stage::Record => "(recording the migration in the history)",
            Stage::Commit => "COMMIT (deferred constraints and triggers run here)",
        }
    }
}

/// Why a script stopped, and what of it remains.
struct Failure {
    stage: Stage,
    error: tokio_postgres::Error,
    outcome: FailureOutcome,
}

fn excerpt(statement: &str) -> String {
    let first_line = statement.lines().next().unwrap_or_default().trim();
    let mut out: String = first_line.chars().take(100).collect();
    if out.len() < statement.trim().len() {
        out.push_str(" …");
    }
    out
}

#[cfg(test)]
mod timeout_tests {
    use super::resets_timeouts;

    #[test]
    fn resets_of_the_timeouts_are_recognised_and_explicit_values_kept() {
        for reset in [
            "RESET ALL",
            "reset lock_timeout;",
            "SET lock_timeout TO DEFAULT",
            "SET LOCAL statement_timeout = DEFAULT",
        ] {
            assert!(resets_timeouts(reset), "{reset}");
        }
        for kept in [
            "SET lock_timeout = '10s'",
            "SET search_path TO DEFAULT",
            "RESET search_path",
            "SELECT 1",
        ] {
            assert!(!resets_timeouts(kept), "{kept}");
        }
    }
}
