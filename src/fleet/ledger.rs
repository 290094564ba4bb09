//! The run ledger: what a fleet run did to each target, written as it goes
//! so that a run killed half-way can be resumed (`--resume RUN`). It lives
//! in a local file (`.schemactl/fleet/<run>.jsonl`, one JSON document per
//! line, appended and flushed at every change) or, when a control database
//! is configured, in two tables there (`schemactl_fleet_runs`,
//! `schemactl_fleet_targets`), which every shard of a Kubernetes Job can
//! reach. It names targets as reports do: never with a password.
//!
//! The ledger is a shortcut, not the truth: each target's own history
//! table says what is applied. A target recorded `running` when the
//! process died is simply run again; its history makes that safe.

use crate::postgres::checked_row::column;
use crate::postgres::{describe, DatabaseTarget};
use crate::Error;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio_postgres::Client;

/// Where a target stands in a run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TargetState {
    /// Started, not finished (or the process died while it ran).
    Running,
    /// Finished successfully.
    Done,
    /// Finished with an error.
    Failed,
    /// Not started: a canary failed, or too many targets failed.
    NotRun,
    /// Not started: done already in the run being resumed.
    Skipped,
}

impl TargetState {
    /// The word reports and the ledger use.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Running => "running",
            TargetState::Done => "done",
            TargetState::Failed => "failed",
            TargetState::NotRun => "not-run",
            TargetState::Skipped => "skipped",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            TargetState::Running,
            TargetState::Done,
            TargetState::Failed,
            TargetState::NotRun,
            TargetState::Skipped,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// One change of one target's state.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct LedgerEntry {
    /// The target's name (no password).
    pub target: String,
    /// Its new state.
    pub state: TargetState,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Its version after the change, when known.
    pub version: Option<String>,
    /// How many migrations the run applied (or rolled back) on it.
    pub applied: usize,
    /// Why it failed.
    pub error: Option<String>,
    /// For a rollback: the version it is being rolled back to, fixed when
    /// the target started, so that a resumed `--steps` rollback does not
    /// undo more than asked.
    pub rollback_to: Option<String>,
}

impl LedgerEntry {
    /// `target` entering `state` now, carrying `rollback_to` along (the
    /// version a rollback fixed for it, kept through every later entry).
    pub fn now(target: &str, state: TargetState, rollback_to: Option<String>) -> Self {
        Self {
            target: target.to_string(),
            state,
            at: now(),
            version: None,
            applied: 0,
            error: None,
            rollback_to,
        }
    }
}

/// What a run was.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RunHeader {
    /// The run id.
    pub run: String,
    /// The verb (`migrate`, `rollback`, …).
    pub verb: String,
    /// The shard it covered (`INDEX/COUNT`), if any.
    pub shard: Option<String>,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// How many targets it covered.
    pub targets: usize,
    /// Their names (no password), so that a resume can tell when the list
    /// changed; empty in ledgers written before schemactl kept them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_names: Vec<String>,
}

impl RunHeader {
    /// Refuses to resume over a target list other than the run's own: a
    /// target added since would otherwise be left behind unnoticed, and a
    /// removed one reported as finished.
    fn check_same_targets(&self, current: &[String]) -> Result<(), Error> {
        let changed = if self.target_names.is_empty() {
            (self.targets != current.len()).then(|| {
                format!(
                    "it covered {} target(s), the list now has {}",
                    self.targets,
                    current.len()
                )
            })
        } else {
            let before: std::collections::BTreeSet<&String> = self.target_names.iter().collect();
            let now: std::collections::BTreeSet<&String> = current.iter().collect();
            let named = |names: Vec<&&String>| {
                let shown: Vec<&str> = names.iter().take(5).map(|n| n.as_str()).collect();
                let more = names.len().saturating_sub(shown.len());
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("{}{more}", shown.join(", "))
            };
            let added: Vec<&&String> = now.difference(&before).collect();
            let removed: Vec<&&String> = before.difference(&now).collect();
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("added {}", named(added)));
            }
            if !removed.is_empty() {
                parts.push(format!("removed {}", named(removed)));
            }
            (!parts.is_empty()).then(|| parts.join("; "))
        };
        match changed {
            None => Ok(()),
            Some(what) => Err(Error::refused(crate::error::refusal::RefusalKind::Fleet, format!(
                "the target list changed since run {} started ({what}): a resume covers the run's own targets; restore the list, or start a new run (without --resume), which skips nothing",
                self.run
            ))),
        }
    }
}

/// Where ledgers are kept.
#[derive(Debug, Clone)]
pub(crate) enum LedgerStore {
    /// Files in this directory.
    Directory(PathBuf),
    /// Tables in the control database at this URL.
    Control(String),
}

/// An open ledger of one run.
pub struct Ledger {
    run: String,
    sink: Sink,
}

enum Sink {
    File {
        path: PathBuf,
        file: Mutex<std::fs::File>,
    },
    Table {
        client: Client,
        display: String,
    },
}

const RUNS_TABLE: &str = "public.schemactl_fleet_runs";
const TARGETS_TABLE: &str = "public.schemactl_fleet_targets";

/// Now, as the ledger writes times.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Refuses a run id that is not one schemactl could have made: letters,
/// digits, `-` and `_` only, so that `--resume ../../x` cannot read or
/// append outside the ledger directory.
fn check_run_id(run: &str) -> Result<(), Error> {
    let valid = !run.is_empty()
        && run.len() <= 64
        && run
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "`{run}` is not a run id (they look like 20261123T194512Z-3fa2c1, as each run prints): give the id alone, not a path"
        )))
    }
}

/// A new run id: the start time and a random suffix, e.g.
/// `20261123T194512Z-3fa2c1`.
fn new_run_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{:06x}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        rand::random::<u32>() & 0xff_ffff
    )
}

fn database_error(context: &str, error: &tokio_postgres::Error) -> Error {
    Error::Database {
        context: context.to_string(),
        message: describe(error),
        sqlstate: error.code().map(|c| c.code().to_string()),
    }
}

impl Ledger {
    /// Starts the ledger of a new run.
    pub async fn start(
        store: &LedgerStore,
        verb: &str,
        shard: Option<String>,
        targets: &[String],
        connect_timeout: std::time::Duration,
    ) -> Result<Self, Error> {
        let header = RunHeader {
            run: new_run_id(),
            verb: verb.to_string(),
            shard,
            started_at: now(),
            targets: targets.len(),
            target_names: targets.to_vec(),
        };
        let sink = match store {
            LedgerStore::Directory(dir) => {
                crate::devserver::state_dir::create(dir)?;
                let path = dir.join(format!("{}.jsonl", header.run));
                let sink = Sink::open(path, |path| {
                    std::fs::OpenOptions::new()
                        .create_new(true)
                        .append(true)
                        .open(path)
                })?;
                sink.append_line(&header)?;
                sink
            }
            LedgerStore::Control(url) => {
                let (client, display) = control(url, connect_timeout).await?;
                ensure_tables(&client).await?;
                client
                    .execute(
                        &format!("INSERT INTO {RUNS_TABLE} (run, verb, shard, started_at, targets, target_names) VALUES ($1, $2, $3, $4::text::timestamptz, $5, $6)"),
                        &[&header.run, &header.verb, &header.shard, &header.started_at, &(header.targets as i64), &header.target_names],
                    )
                    .await
                    .map_err(|e| database_error("cannot start the fleet ledger", &e))?;
                Sink::Table { client, display }
            }
        };
        Ok(Self {
            run: header.run,
            sink,
        })
    }

    /// Opens the ledger of run `run` to go on with it: refused when it was
    /// another verb, another shard or another target list than `targets`.
    /// Returns each target's last entry.
    pub async fn resume(
        store: &LedgerStore,
        run: &str,
        verb: &str,
        shard: Option<String>,
        targets: &[String],
        connect_timeout: std::time::Duration,
    ) -> Result<(Self, HashMap<String, LedgerEntry>), Error> {
        check_run_id(run)?;
        let (sink, header, entries) = match store {
            LedgerStore::Directory(dir) => {
                let path = dir.join(format!("{run}.jsonl"));
                let (header, entries, whole_lines) = read_file(&path, run)?;
                let sink = Sink::open(path, |path| {
                    let file = std::fs::OpenOptions::new().append(true).open(path)?;
                    // A torn last line is cut off before appending to it.
                    file.set_len(whole_lines)?;
                    Ok(file)
                })?;
                (sink, header, entries)
            }
            LedgerStore::Control(url) => {
                let (client, display) = control(url, connect_timeout).await?;
                ensure_tables(&client).await?;
                let (header, entries) = read_tables(&client, run, &display).await?;
                (Sink::Table { client, display }, header, entries)
            }
        };
        if header.verb != verb {
            return Err(Error::refused(crate::error::refusal::RefusalKind::Fleet, format!(
                "run {run} was `fleet {}`, not `fleet {verb}`: resume it with the same verb, or start a new run",
                header.verb
            )));
        }
        if header.shard != shard {
            return Err(Error::refused(
                crate::error::refusal::RefusalKind::Fleet,
                format!(
                    "run {run} covered shard {}, not {}: resume it with the same --shard",
                    header.shard.as_deref().unwrap_or("(all)"),
                    shard.as_deref().unwrap_or("(all)")
                ),
            ));
        }
        header.check_same_targets(targets)?;
        Ok((
            Self {
                run: run.to_string(),
                sink,
            },
            entries,
        ))
    }

    /// The run id.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// Where it is kept, for messages.
    pub fn location(&self) -> String {
        match &self.sink {
            Sink::File { path, .. } => path.display().to_string(),
            Sink::Table { display, .. } => format!("{TARGETS_TABLE} on {display}"),
        }
    }

    /// Records a change of a target's state.
    pub async fn record(&self, entry: &LedgerEntry) -> Result<(), Error> {
        match &self.sink {
            Sink::File { .. } => self.sink.append_line(entry),
            Sink::Table { client, .. } => client
                .execute(
                    &format!(
                        "INSERT INTO {TARGETS_TABLE} (run, target, state, at, version, applied, error, rollback_to) \
                         VALUES ($1, $2, $3, $4::text::timestamptz, $5, $6, $7, $8) \
                         ON CONFLICT (run, target) DO UPDATE SET state = excluded.state, at = excluded.at, \
                         version = excluded.version, applied = excluded.applied, error = excluded.error, \
                         rollback_to = COALESCE(excluded.rollback_to, {TARGETS_TABLE}.rollback_to)"
                    ),
                    &[
                        &self.run,
                        &entry.target,
                        &entry.state.as_str(),
                        &entry.at,
                        &entry.version,
                        &(entry.applied as i64),
                        &entry.error,
                        &entry.rollback_to,
                    ],
                )
                .await
                .map(|_| ())
                .map_err(|e| database_error("cannot write the fleet ledger", &e)),
        }
    }
}

impl Sink {
    fn open(
        path: PathBuf,
        open: impl FnOnce(&Path) -> std::io::Result<std::fs::File>,
    ) -> Result<Self, Error> {
        match open(&path) {
            Ok(file) => Ok(Sink::File {
                path,
                file: Mutex::new(file),
            }),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    fn append_line<T: serde::Serialize>(&self, value: &T) -> Result<(), Error> {
        let Sink::File { path, file } = self else {
            return Ok(());
        };
        let mut line = serde_json::to_string(value)
            .map_err(|e| Error::InvalidArgument(format!("cannot serialise a ledger entry: {e}")))?;
        line.push('\n');
        // One write per line: a killed process leaves whole lines (and at
        // worst a torn last one, which reading skips).
        let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line.as_bytes()).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })
    }
}

/// The header, each target's last entry, and the length of the file's
/// whole lines.
fn read_file(
    path: &Path,
    run: &str,
) -> Result<(RunHeader, HashMap<String, LedgerEntry>, u64), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => Error::InvalidArgument(format!(
            "no ledger of run {run} at {}: give the run id a previous run printed (its ledger directory is --ledger-dir)",
            path.display()
        )),
        _ => Error::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let whole_lines = text.rfind('\n').map_or(0, |end| end + 1) as u64;
    let mut lines = text.lines();
    let header: RunHeader = lines
        .next()
        .and_then(|line| serde_json::from_str(line).ok())
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{}: not a schemactl fleet ledger (its first line is not a run header)",
                path.display()
            ))
        })?;
    let lines: Vec<&str> = lines.collect();
    let mut entries = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<LedgerEntry>(line) {
            Ok(entry) => {
                entries.insert(entry.target.clone(), entry);
            }
            // A torn last line: the process died while writing it.
            Err(_) if i + 1 == lines.len() => {}
            Err(e) => {
                return Err(Error::InvalidArgument(format!(
                    "{}:{}: not a ledger entry ({e})",
                    path.display(),
                    i + 2
                )))
            }
        }
    }
    Ok((header, entries, whole_lines))
}

async fn control(url: &str, timeout: std::time::Duration) -> Result<(Client, String), Error> {
    let target = DatabaseTarget::parse(url)?.with_connect_timeout(timeout);
    let client = target.connect().await?;
    Ok((client, target.display().to_string()))
}

async fn ensure_tables(client: &Client) -> Result<(), Error> {
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
            run text PRIMARY KEY,
            verb text NOT NULL,
            shard text,
            started_at timestamptz NOT NULL,
            targets bigint NOT NULL);
         ALTER TABLE {RUNS_TABLE} ADD COLUMN IF NOT EXISTS target_names text[];
         CREATE TABLE IF NOT EXISTS {TARGETS_TABLE} (
            run text NOT NULL REFERENCES {RUNS_TABLE} (run) ON DELETE CASCADE,
            target text NOT NULL,
            state text NOT NULL,
            at timestamptz NOT NULL,
            version text,
            applied bigint NOT NULL DEFAULT 0,
            error text,
            rollback_to text,
            PRIMARY KEY (run, target));"
    );
    // Shards starting together race to create the tables: the loser's
    // CREATE fails on the catalog's unique index; once they exist it passes.
    let mut attempt = 0;
    loop {
        match client.batch_execute(&sql).await {
            Ok(()) => return Ok(()),
            Err(e)
                if attempt < 3
                    && e.code().is_some_and(|code| {
                        *code == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
                            || *code == tokio_postgres::error::SqlState::DUPLICATE_TABLE
                            || *code == tokio_postgres::error::SqlState::DUPLICATE_OBJECT
                    }) =>
            {
                attempt += 1;
            }
            Err(e) => return Err(database_error("cannot create the fleet ledger tables", &e)),
        }
    }
}

async fn read_tables(
    client: &Client,
    run: &str,
    display: &str,
) -> Result<(RunHeader, HashMap<String, LedgerEntry>), Error> {
    let fix = "the ledger tables were changed by hand; drop them (a new run recreates them) and start a new run";
    let header = client
        .query_opt(
            &format!(
                "SELECT verb, shard, started_at::text AS started_at, targets, target_names FROM {RUNS_TABLE} WHERE run = $1"
            ),
            &[&run],
        )
        .await
        .map_err(|e| database_error("cannot read the fleet ledger", &e))?
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "no run {run} in {RUNS_TABLE} on {display}: give the run id a previous run printed"
            ))
        })?;
    let targets: i64 = column(&header, "targets", RUNS_TABLE, fix)?;
    let header = RunHeader {
        run: run.to_string(),
        verb: column(&header, "verb", RUNS_TABLE, fix)?,
        shard: column(&header, "shard", RUNS_TABLE, fix)?,
        started_at: column(&header, "started_at", RUNS_TABLE, fix)?,
        targets: usize::try_from(targets).unwrap_or(0),
        target_names: column::<Option<Vec<String>>>(&header, "target_names", RUNS_TABLE, fix)?
            .unwrap_or_default(),
    };
    let rows = client
        .query(
            &format!("SELECT target, state, at::text AS at, version, applied, error, rollback_to FROM {TARGETS_TABLE} WHERE run = $1"),
            &[&run],
        )
        .await
        .map_err(|e| database_error("cannot read the fleet ledger", &e))?;
    let mut entries = HashMap::new();
    for row in rows {
        let state: String = column(&row, "state", TARGETS_TABLE, fix)?;
        let applied: i64 = column(&row, "applied", TARGETS_TABLE, fix)?;
        let entry = LedgerEntry {
            target: column(&row, "target", TARGETS_TABLE, fix)?,
            state: TargetState::parse(&state).unwrap_or(TargetState::Running),
            at: column(&row, "at", TARGETS_TABLE, fix)?,
            version: column(&row, "version", TARGETS_TABLE, fix)?,
            applied: usize::try_from(applied).unwrap_or(0),
            error: column(&row, "error", TARGETS_TABLE, fix)?,
            rollback_to: column(&row, "rollback_to", TARGETS_TABLE, fix)?,
        };
        entries.insert(entry.target.clone(), entry);
    }
    Ok((header, entries))
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_ids_are_names_not_paths() {
        assert!(super::check_run_id("20261123T194512Z-3fa2c1").is_ok());
        for bad in ["../../x", "a/b", "", ".hidden", "x.jsonl"] {
            assert!(super::check_run_id(bad).is_err(), "{bad}");
        }
        assert!(super::check_run_id(&super::new_run_id()).is_ok());
    }

    use super::*;

    #[tokio::test]
    async fn a_file_ledger_reads_back_each_targets_last_state_and_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let store = LedgerStore::Directory(dir.path().to_path_buf());
        let ledger = Ledger::start(
            &store,
            "migrate",
            None,
            &["a".to_string(), "b".to_string()],
            std::time::Duration::from_secs(1),
        )
        .await
        .unwrap();
        let entry = |target: &str, state| LedgerEntry {
            target: target.into(),
            state,
            at: now(),
            version: None,
            applied: 0,
            error: None,
            rollback_to: None,
        };
        ledger
            .record(&entry("a", TargetState::Running))
            .await
            .unwrap();
        ledger
            .record(&entry("b", TargetState::Running))
            .await
            .unwrap();
        ledger.record(&entry("a", TargetState::Done)).await.unwrap();
        let path = dir.path().join(format!("{}.jsonl", ledger.run()));
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"{\"target\":\"b\",\"sta").unwrap();
        let (_, entries) = Ledger::resume(
            &store,
            ledger.run(),
            "migrate",
            None,
            &["b".to_string(), "a".to_string()],
            std::time::Duration::from_secs(1),
        )
        .await
        .unwrap();
        assert_eq!(entries["a"].state, TargetState::Done);
        assert_eq!(entries["b"].state, TargetState::Running);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
        let refused = Ledger::resume(
            &store,
            ledger.run(),
            "rollback",
            None,
            &["a".to_string(), "b".to_string()],
            std::time::Duration::from_secs(1),
        )
        .await
        .err()
        .unwrap()
        .to_string();
        assert!(refused.contains("was `fleet migrate`"), "{refused}");
        let changed = Ledger::resume(
            &store,
            ledger.run(),
            "migrate",
            None,
            &["a".to_string(), "c".to_string()],
            std::time::Duration::from_secs(1),
        )
        .await
        .err()
        .unwrap()
        .to_string();
        assert!(
            changed.contains("the target list changed") && changed.contains("added c; removed b"),
            "{changed}"
        );
    }
}
