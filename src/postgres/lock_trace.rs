//! The locks a migration really takes, measured on the scratch database of
//! `verify --locks`: after each statement of a transactional script, the
//! relation locks its own session holds (from `pg_locks`, inside the
//! migration's transaction, where they accumulate until `COMMIT`); for a
//! `no-transaction` statement (`CREATE INDEX CONCURRENTLY`), the locks a
//! second connection sees it hold while it runs. A table whose
//! `relfilenode` changed was rewritten; a table that gained a validated
//! CHECK or foreign-key constraint, or whose existing column became NOT
//! NULL without a validated `CHECK (column IS NOT NULL)` to prove it, was
//! scanned whole under the lock held then.

use super::lock_blockers::named_relations;
use super::text_rows::{text_rows, texts};
use crate::Error;
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio_postgres::{Client, SimpleQueryMessage};

/// PostgreSQL's table lock modes, weakest first.
pub const LOCK_MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// How strong a lock mode is (0: unknown).
pub fn strength(mode: &str) -> usize {
    LOCK_MODES
        .iter()
        .position(|m| *m == mode)
        .map_or(0, |p| p + 1)
}

/// Whether a mode blocks writes (ShareLock and up) on a table others use:
/// `AccessExclusiveLock` also blocks reads.
pub fn blocks_writes(mode: &str) -> bool {
    strength(mode) >= strength("ShareLock")
}

/// One table lock a statement took.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct TableLock {
    /// `public.orders`.
    pub table: String,
    /// `AccessExclusiveLock`, …
    pub mode: String,
    /// Whether the table existed before the script.
    pub pre_existing: bool,
}

impl TableLock {
    /// Whether its mode blocks writes (ShareLock and up) on a table others
    /// use; `AccessExclusiveLock` also blocks reads.
    pub fn blocks_writes(&self) -> bool {
        blocks_writes(&self.mode)
    }

    /// Whether its mode conflicts with more than `other`'s does.
    pub fn is_stronger_than(&self, other: &TableLock) -> bool {
        strength(&self.mode) > strength(&other.mode)
    }
}

/// What one statement did to the tables.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct StatementTrace {
    /// Line of the statement in its file.
    pub line: usize,
    /// Its first line.
    pub statement: String,
    /// The locks its session held after it (new or stronger ones), or, for
    /// a `no-transaction` statement, saw it hold while it ran.
    pub locks: Vec<TableLock>,
    /// Tables it rewrote (their `relfilenode` changed).
    pub rewritten: Vec<String>,
    /// Tables it scanned whole to validate a constraint or NOT NULL.
    pub scanned: Vec<String>,
    /// Whether the locks were seen from a second connection while it ran
    /// (a `no-transaction` statement): a short statement may hold a lock
    /// too briefly to be seen.
    pub observed: bool,
}

/// One table as the catalog shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TableState {
    name: String,
    filenode: String,
    /// Validated CHECK and foreign-key constraints (when read).
    validated: Option<i64>,
    /// NOT NULL columns no validated `CHECK (column IS NOT NULL)` proves
    /// (PostgreSQL 12+ sets those without a scan), and all columns, when
    /// read: a column that was there and becomes NOT NULL unproven was
    /// scanned; a new NOT NULL column with a constant default was not.
    unproven_not_null: Option<(Vec<String>, Vec<String>)>,
}

/// The tables of the database, by oid.
type Tables = BTreeMap<String, TableState>;

/// The user tables whose oid satisfies `{filter}`, with their
/// `relfilenode`, validated CHECK and foreign-key constraints, the NOT NULL
/// columns no validated `CHECK (column IS NOT NULL)` proves, and all
/// columns. These cost a look at each table's constraints and columns, so
/// they are read only for the tables a script names and the ones a
/// statement locked.
fn tables_sql(filter: &str) -> String {
    format!(
        "SELECT c.oid::text, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relfilenode::text,
                (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('c', 'f') AND k.convalidated)::text,
                (SELECT coalesce(string_agg(quote_ident(a.attname), chr(31) ORDER BY a.attnum), '') FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attnotnull AND NOT a.attisdropped
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c' AND k.convalidated
                                   AND k.conkey = ARRAY[a.attnum]
                                   AND pg_get_expr(k.conbin, k.conrelid) IN (quote_ident(a.attname) || ' IS NOT NULL', '(' || quote_ident(a.attname) || ' IS NOT NULL)'))),
                (SELECT coalesce(string_agg(quote_ident(a.attname), chr(31) ORDER BY a.attnum), '') FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_toast%' AND ({filter})"
    )
}

/// Every user table's oid, name and `relfilenode` (cheap: no counts).
const ALL_TABLES: &str = "SELECT c.oid::text, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relfilenode::text
 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'";

/// The relation locks a backend holds (`{pid}`: the backend).
fn locks_of(pid: &str) -> String {
    format!(
        "SELECT l.relation::text, l.mode FROM pg_locks l
         WHERE l.pid = {pid} AND l.locktype = 'relation' AND l.granted
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
}

/// Traces one script: create it before the script runs, run
/// [`Self::probe_sql`] after each statement of a transactional script and
/// give its answer to [`Self::record`], and [`Self::watch`] each
/// `no-transaction` statement.
pub struct LockTracer {
    pid: String,
    probe: String,
    before: Tables,
    held: Mutex<BTreeMap<String, String>>,
    last: Mutex<Tables>,
    statements: Mutex<Vec<StatementTrace>>,
}

impl LockTracer {
    /// Reads what the tables are before `script` runs, on the connection
    /// that will run it.
    pub async fn start(client: &Client, script: &str) -> Result<Self, Error> {
        let pid = rows(client, "SELECT pg_backend_pid()::text").await?;
        let pid = pid
            .first()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or_default();
        let mut before: Tables = rows(client, ALL_TABLES)
            .await?
            .iter()
            .map(|r| table_state(r))
            .collect();
        let names: Vec<String> = named_relations(script)
            .into_iter()
            .map(|w| format!("'{}'", w.replace('\'', "''")))
            .collect();
        if !names.is_empty() {
            let named = tables_sql(&format!("c.relname IN ({})", names.join(", ")));
            for row in rows(client, &named).await? {
                let (oid, state) = table_state(&row);
                before.insert(oid, state);
            }
        }
        Ok(Self {
            pid,
            probe: format!(
                "{}; {}",
                locks_of("pg_backend_pid()"),
                tables_sql(
                    "c.oid IN (SELECT relation FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation')"
                )
            ),
            last: Mutex::new(before.clone()),
            before,
            held: Mutex::new(BTreeMap::new()),
            statements: Mutex::new(Vec::new()),
        })
    }

    /// The query a probe runs after a statement, in the same pipeline:
    /// the session's locks and the tables, as one result.
    pub fn probe_sql(&self) -> &str {
        &self.probe
    }

    /// Records what a probe read after the statement at `line`.
    pub fn record(&self, line: usize, statement: &str, messages: Vec<SimpleQueryMessage>) {
        let mut results: Vec<Vec<Vec<String>>> = vec![Vec::new()];
        for message in messages {
            match message {
                SimpleQueryMessage::Row(row) => {
                    if let Some(result) = results.last_mut() {
                        result.push(texts(&row));
                    }
                }
                SimpleQueryMessage::CommandComplete(_) => results.push(Vec::new()),
                _ => {}
            }
        }
        let locks: Vec<(String, String)> = results
            .first()
            .into_iter()
            .flatten()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
        let now: Tables = results
            .get(1)
            .into_iter()
            .flatten()
            .map(|r| table_state(r))
            .collect();
        self.note(line, statement, locks, Some(now), false);
    }

    /// Runs `statement` (a `no-transaction` one) while `observer`, a second
    /// connection, polls the locks this session holds.
    pub async fn watch<F>(
        &self,
        observer: &Client,
        line: usize,
        statement: &str,
        run: F,
    ) -> Result<(), tokio_postgres::Error>
    where
        F: std::future::Future<Output = Result<(), tokio_postgres::Error>>,
    {
        let sql = locks_of(&self.pid);
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut run = std::pin::pin!(run);
        let result = loop {
            tokio::select! {
                result = &mut run => break result,
                polled = observer.simple_query(&sql) => {
                    for message in polled.unwrap_or_default() {
                        if let SimpleQueryMessage::Row(row) = message {
                            let row = texts(&row);
                            let stronger = seen.get(&row[0]).is_none_or(|m| strength(&row[1]) > strength(m));
                            if stronger {
                                seen.insert(row[0].clone(), row[1].clone());
                            }
                        }
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            }
        };
        let now = tables(observer, &seen.keys().collect::<Vec<_>>())
            .await
            .ok();
        // Locks end with each statement outside a transaction.
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.note(line, statement, seen.into_iter().collect(), now, true);
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        result
    }

    fn note(
        &self,
        line: usize,
        statement: &str,
        locks: Vec<(String, String)>,
        now: Option<Tables>,
        observed: bool,
    ) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let name = |oid: &str| {
            now.as_ref()
                .and_then(|t| t.get(oid))
                .or_else(|| last.get(oid))
                .or_else(|| self.before.get(oid))
                .map(|t| t.name.clone())
        };
        let mut new_locks = Vec::new();
        for (oid, mode) in locks {
            let Some(table) = name(&oid) else { continue };
            let stronger = held.get(&oid).is_none_or(|m| strength(&mode) > strength(m));
            if stronger {
                held.insert(oid.clone(), mode.clone());
                new_locks.push(TableLock {
                    table,
                    mode,
                    pre_existing: self.before.contains_key(&oid),
                });
            }
        }
        new_locks.sort_by(|a, b| a.table.cmp(&b.table));
        let (mut rewritten, mut scanned) = (Vec::new(), Vec::new());
        if let Some(now) = now {
            for (oid, state) in &now {
                let Some(previous) = last.get(oid) else {
                    continue;
                };
                if state.filenode != previous.filenode {
                    rewritten.push(state.name.clone());
                }
                let grew = |now: Option<i64>, then: Option<i64>| matches!((now, then), (Some(now), Some(then)) if now > then);
                let newly_not_null = match (&state.unproven_not_null, &previous.unproven_not_null) {
                    (Some((now, _)), Some((then, columns))) => {
                        now.iter().any(|c| columns.contains(c) && !then.contains(c))
                    }
                    _ => false,
                };
                if grew(state.validated, previous.validated) || newly_not_null {
                    scanned.push(state.name.clone());
                }
            }
            last.extend(now);
        }
        self.statements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(StatementTrace {
                line,
                statement: statement
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                locks: new_locks,
                rewritten,
                scanned,
                observed,
            });
    }

    /// The trace, statement by statement.
    pub fn finish(self) -> Vec<StatementTrace> {
        self.statements.into_inner().unwrap_or_default()
    }
}

fn table_state(row: &[String]) -> (String, TableState) {
    (
        row[0].clone(),
        TableState {
            name: row[1].clone(),
            filenode: row[2].clone(),
            validated: row.get(3).and_then(|v| v.parse().ok()),
            unproven_not_null: match (row.get(4), row.get(5)) {
                (Some(not_null), Some(columns)) => Some((split(not_null), split(columns))),
                _ => None,
            },
        },
    )
}

async fn rows(client: &Client, sql: &str) -> Result<Vec<Vec<String>>, Error> {
    text_rows(client, sql, "cannot trace the locks").await
}

fn split(list: &str) -> Vec<String> {
    list.split('\u{1f}')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// The tables with the oids `oids`, counts included.
async fn tables(client: &Client, oids: &[&String]) -> Result<Tables, Error> {
    if oids.is_empty() {
        return Ok(Tables::new());
    }
    let list = oids
        .iter()
        .filter(|o| o.chars().all(|c| c.is_ascii_digit()))
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(rows(client, &tables_sql(&format!("c.oid IN ({list})")))
        .await?
        .iter()
        .map(|r| table_state(r))
        .collect())
}

/// The strongest lock a migration's up script took on each table that
/// existed before it, with the statement that took it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct TableLockSummary {
    /// `public.orders`.
    pub table: String,
    /// The strongest mode.
    pub mode: String,
    /// `migrations/0005_x.up.sql:3`.
    pub statement: String,
    /// Whether the up rewrote it.
    pub rewritten: bool,
    /// Whether the up scanned it whole to validate something.
    pub scanned: bool,
}

impl TableLockSummary {
    /// Whether its mode blocks writes (ShareLock and up) on a table others
    /// use.
    pub fn blocks_writes(&self) -> bool {
        blocks_writes(&self.mode)
    }
}

/// The per-table summary of a script's trace (`path`: the script's file).
pub fn summarise(path: &str, trace: &[StatementTrace]) -> Vec<TableLockSummary> {
    let mut tables: BTreeMap<String, TableLockSummary> = BTreeMap::new();
    for statement in trace {
        for lock in statement.locks.iter().filter(|l| l.pre_existing) {
            let entry = tables
                .entry(lock.table.clone())
                .or_insert_with(|| TableLockSummary {
                    table: lock.table.clone(),
                    mode: String::new(),
                    statement: String::new(),
                    rewritten: false,
                    scanned: false,
                });
            if strength(&lock.mode) > strength(&entry.mode) {
                entry.mode = lock.mode.clone();
                entry.statement = format!("{path}:{}", statement.line);
            }
        }
        for table in &statement.rewritten {
            if let Some(entry) = tables.get_mut(table) {
                entry.rewritten = true;
            }
        }
        for table in &statement.scanned {
            if let Some(entry) = tables.get_mut(table) {
                entry.scanned = true;
            }
        }
    }
    tables.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_ordered_and_the_blocking_ones_flagged() {
        assert!(strength("AccessExclusiveLock") > strength("ShareLock"));
        assert!(strength("ShareUpdateExclusiveLock") < strength("ShareLock"));
        assert!(blocks_writes("ShareRowExclusiveLock"));
        assert!(!blocks_writes("ShareUpdateExclusiveLock"));
        assert_eq!(strength("NoSuchLock"), 0);
    }

    #[test]
    fn the_summary_keeps_the_strongest_lock_and_its_statement() {
        let lock = |mode: &str| TableLock {
            table: "public.t".into(),
            mode: mode.into(),
            pre_existing: true,
        };
        let trace = vec![
            StatementTrace {
                line: 1,
                statement: "a".into(),
                locks: vec![lock("ShareUpdateExclusiveLock")],
                rewritten: vec![],
                scanned: vec![],
                observed: false,
            },
            StatementTrace {
                line: 4,
                statement: "b".into(),
                locks: vec![lock("AccessExclusiveLock")],
                rewritten: vec!["public.t".into()],
                scanned: vec![],
                observed: false,
            },
        ];
        let summary = summarise("m.up.sql", &trace);
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0].mode, "AccessExclusiveLock");
        assert_eq!(summary[0].statement, "m.up.sql:4");
        assert!(summary[0].rewritten && !summary[0].scanned);
    }
}
