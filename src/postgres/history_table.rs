//! The history tables: `schema_versions` (one row per applied migration) and
//! `schema_versions_events` (an append-only log of everything that happened:
//! applies, failures, rollbacks, baselines, repairs).
//!
//! Both are created on first use by commands that change the database;
//! read-only commands (`status`, `validate`, `migrate --dry-run`) treat a
//! missing table as an empty history and never create it.

use super::describe;
use crate::model::history::{AppliedMigration, EventKind};
use crate::model::Checksum;
use crate::model::Version;
use crate::Error;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Statement};

/// The shape of the history tables this release writes.
const FORMAT: u32 = 3;
/// The table comment that records it.
const FORMAT_COMMENT: &str = "schemactl history, format 3";

/// The format a history table's comment names.
fn format_of(comment: &str) -> Option<u32> {
    comment
        .strip_prefix("schemactl history, format ")?
        .trim()
        .parse()
        .ok()
}

/// How long the history-format upgrade may wait for its locks, and how
/// often it tries again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeLimits {
    /// `lock_timeout` of each attempt, in ms (0 is raised to 1: never
    /// without a limit).
    pub lock_timeout_ms: u64,
    /// Further attempts after a lock timeout.
    pub retries: u32,
}

impl Default for UpgradeLimits {
    fn default() -> Self {
        Self {
            lock_timeout_ms: 5_000,
            retries: 3,
        }
    }
}

/// The SQL expression recorded as "who": the database user and the client
/// address as the server sees it.
const ACTOR: &str = "current_user || '@' || coalesce(host(inet_client_addr()), 'local')";

/// An integer expression that is 0 while the current transaction is the
/// one whose id (`pg_current_xact_id()`, read right after the run's
/// `BEGIN`) is parameter `$param`, and fails with `division_by_zero`
/// (SQLSTATE 22012) otherwise: the script ended the transaction the run
/// opened. A transaction id cannot be made up by a script: a new
/// transaction never has an old one's id. No `CASE`: a generic plan of a
/// prepared statement may evaluate a `CASE` branch that is not taken, so
/// the guard is plain arithmetic, right in every plan.
fn transaction_guard(param: usize) -> String {
    format!("(1 / coalesce(pg_current_xact_id() = ${param}::text::xid8, false)::int - 1)")
}

/// What the server writes after a `started` event's detail: the session
/// that runs the script, by process id and start time (microseconds since
/// the epoch: a reused process id has another start). `started_session`
/// looks it up.
const SESSION_DETAIL: &str = "'session ' || pg_backend_pid() || ' since ' || \
     (SELECT (extract(epoch FROM backend_start) * 1000000)::bigint FROM pg_stat_activity WHERE pid = pg_backend_pid())";

/// Milliseconds since the transaction began: the duration of a migration
/// whose history row is written in its own transaction, measured by the
/// server (the row is sent in the same pipeline as the migration).
const ELAPSED: &str = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint";

pub use crate::model::history::HistoryTable;

impl HistoryTable {
    pub(super) fn qualified(&self) -> String {
        format!("{}.{}", self.schema.quoted(), self.table.quoted())
    }

    pub(crate) fn qualified_events(&self) -> String {
        format!("{}.{}", self.schema.quoted(), self.events.quoted())
    }

    /// Every table schemactl itself keeps: the history, its events and the
    /// lease of `lock_mode = "table"`, quoted and schema-qualified.
    pub(crate) fn own_tables(&self) -> Vec<String> {
        let lease = format!("{}_lock", self.table.as_str());
        vec![
            self.qualified(),
            self.qualified_events(),
            format!(
                "{}.\"{}\"",
                self.schema.quoted(),
                lease.replace('"', "\"\"")
            ),
        ]
    }

    /// Whether the history table exists.
    pub async fn exists(&self, client: &Client) -> Result<bool, Error> {
        // query_typed skips the separate prepare round trip: this is on the
        // path of every no-op deploy.
        let rows = client
            .query_typed(
                "SELECT to_regclass($1) IS NOT NULL",
                &[(&self.qualified(), Type::TEXT)],
            )
            .await
            .map_err(|e| database("cannot look for the history table", &e))?;
        Ok(rows.first().is_some_and(|row| row.get(0)))
    }

    /// Creates the schema (when missing) and both tables (when missing),
    /// upgrading a table of an earlier schemactl under the default limits
    /// (a 5 s lock timeout, 3 retries).
    pub async fn ensure(&self, client: &Client) -> Result<(), Error> {
        self.ensure_within(client, &UpgradeLimits::default()).await
    }

    /// [`HistoryTable::ensure`], upgrading within `limits`.
    pub async fn ensure_within(
        &self,
        client: &Client,
        limits: &UpgradeLimits,
    ) -> Result<(), Error> {
        let (schema, table, events) = (
            self.schema.quoted(),
            self.qualified(),
            self.qualified_events(),
        );
        // Presence, and the history's format, in one round trip: this runs
        // before every write.
        let rows = client
            .query_typed(
                "SELECT to_regnamespace($1) IS NOT NULL, to_regclass($2) IS NOT NULL, to_regclass($3) IS NOT NULL,
                        (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                          WHERE a.attrelid = to_regclass($2) AND a.attname = 'version' AND NOT a.attisdropped),
                        obj_description(to_regclass($2), 'pg_class'),
                        (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = to_regclass($2)
                                AND a.attname IN ('down_script', 'phase') AND NOT a.attisdropped) = 2",
                &[(&schema, Type::TEXT), (&table, Type::TEXT), (&events, Type::TEXT)],
            )
            .await
            .map_err(|e| database("cannot look for the history tables", &e))?;
        let Some(present) = rows.first() else {
            return Err(Error::Database {
                context: "cannot look for the history tables".into(),
                message: "no answer".into(),
                sqlstate: None,
            });
        };
        let (schema, table, events): (bool, bool, bool) =
            (present.get(0), present.get(1), present.get(2));
        if schema && table && events {
            let shape = Shape {
                version_kind: present.get(3),
                comment: present.get(4),
                has_down_script: present.get(5),
            };
            return self.upgrade(client, shape, limits).await;
        }
        let mut ddl = String::new();
        if !schema {
            ddl.push_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {};\n",
                self.schema.quoted()
            ));
        }
        ddl.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {} (
                version text PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                down_checksum text,
                down_script text,
                phase text,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL,
                execution_ms bigint NOT NULL DEFAULT 0,
                success boolean NOT NULL,
                baselined boolean NOT NULL DEFAULT false,
                schemactl_version text NOT NULL,
                error text
            );
            CREATE TABLE IF NOT EXISTS {} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at timestamptz NOT NULL DEFAULT clock_timestamp(),
                event text NOT NULL,
                version text,
                name text,
                checksum text,
                actor text NOT NULL,
                schemactl_version text NOT NULL,
                execution_ms bigint,
                detail text
            );
            COMMENT ON TABLE {} IS '{FORMAT_COMMENT}';",
            self.qualified(),
            self.qualified_events(),
            self.qualified()
        ));
        client.batch_execute(&ddl).await.map_err(|e| {
            database(
                &format!("cannot create the history table {}", self.display()),
                &e,
            )
        })
    }

    /// Brings a history table of an earlier schemactl (of `shape`) to this
    /// release's, in one transaction (the caller holds the migration lock),
    /// and records that it did; refuses a table of a newer schemactl.
    ///
    /// Format 1 (schemactl 0.1 before text versions) kept versions as
    /// `bigint`; format 2 keeps them as text, so that dotted (Flyway) and
    /// diesel versions are stored as written (an integer's text is the
    /// integer). Format 3 adds `down_script`: each migration's down script
    /// as it was when applied, so that `rollback` can undo a migration whose
    /// files a rolled-back application no longer ships. Every row survives.
    async fn upgrade(
        &self,
        client: &Client,
        shape: Shape,
        limits: &UpgradeLimits,
    ) -> Result<(), Error> {
        if let Some(newer) = shape
            .comment
            .as_deref()
            .and_then(format_of)
            .filter(|f| *f > FORMAT)
        {
            return Err(Error::refused(crate::error::refusal::RefusalKind::NewerHistoryFormat, format!(
                "{} was made by a newer schemactl (history format {newer}; this one writes format {FORMAT}); \
                 upgrade schemactl before running it against this database",
                self.display()
            )));
        }
        let text_versions = shape.version_kind.as_deref() != Some("bigint");
        if text_versions && shape.has_down_script {
            return Ok(());
        }
        let (versions, events) = (self.qualified(), self.qualified_events());
        let mut changes = String::new();
        let mut said = Vec::new();
        if !text_versions {
            changes.push_str(&format!(
                "ALTER TABLE {versions} ALTER COLUMN version TYPE text USING version::text;
                 ALTER TABLE {events} ALTER COLUMN version TYPE text USING version::text;"
            ));
            said.push("versions stored as text");
        }
        if !shape.has_down_script {
            changes.push_str(&format!(
                "ALTER TABLE {versions} ADD COLUMN IF NOT EXISTS down_script text, ADD COLUMN IF NOT EXISTS phase text;"
            ));
            said.push("down scripts and phases stored when applied");
        }
        let from = match (text_versions, shape.comment.as_deref().and_then(format_of)) {
            (false, _) => 1,
            (true, Some(format)) => format,
            (true, None) => 2,
        };
        // The ALTERs take ACCESS EXCLUSIVE locks: queued behind a reader
        // without a timeout, they would stop every other reader of the
        // history, and a session idle in a transaction would hang the run.
        let sql = format!(
            "BEGIN;
             SET LOCAL lock_timeout = {};
             {changes}
             COMMENT ON TABLE {versions} IS '{FORMAT_COMMENT}';
             INSERT INTO {events} (event, actor, schemactl_version, detail)
                 VALUES ('upgraded', {ACTOR}, '{}', 'history format {from} -> {FORMAT}: {}');
             COMMIT;",
            limits.lock_timeout_ms.max(1),
            crate::VERSION,
            said.join(", ")
        );
        let mut attempt = 0;
        loop {
            let Err(e) = client.batch_execute(&sql).await else {
                return Ok(());
            };
            let _ = client.batch_execute("ROLLBACK").await;
            let timed_out = e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE);
            if timed_out && attempt < limits.retries {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250 << attempt.min(4))).await;
                continue;
            }
            let mut context = format!("cannot upgrade the history table {}", self.display());
            if timed_out {
                context.push_str(&format!(
                    " (it needs an exclusive lock on it for a moment, and other sessions held it for {} attempt(s) of {} ms: \
                     run again when they are done, or raise --lock-timeout)",
                    attempt + 1,
                    limits.lock_timeout_ms.max(1)
                ));
            }
            return Err(database(&context, &e));
        }
    }

    /// Every recorded migration, by version; empty when the table does not exist.
    ///
    /// Nothing is taken on trust: a table of the right name whose columns
    /// have other types is "not a schemactl history table"; NULLs where a
    /// value is needed and versions recorded twice are named, row by row,
    /// with the fix ([`Error::CorruptHistory`]).
    pub async fn read(&self, client: &Client) -> Result<Vec<AppliedMigration>, Error> {
        if !self.exists(client).await? {
            return Ok(Vec::new());
        }
        let shape_sql = "SELECT a.attrelid = to_regclass($1), a.attname::text, format_type(a.atttypid, a.atttypmod) \
                         FROM pg_attribute a WHERE a.attrelid IN (to_regclass($1), to_regclass($2)) \
                         AND a.attnum > 0 AND NOT a.attisdropped";
        let rows_sql = format!(
            "SELECT version::text, name, checksum, down_checksum, applied_at, applied_by, execution_ms, success, \
                    baselined, schemactl_version, error
             FROM {} ORDER BY version",
            self.qualified()
        );
        let (table, events) = (self.qualified(), self.qualified_events());
        let shape_params = [
            (&table as &(dyn ToSql + Sync), Type::TEXT),
            (&events as &(dyn ToSql + Sync), Type::TEXT),
        ];
        let (shape, rows) = tokio::join!(
            client.query_typed(shape_sql, &shape_params),
            client.query_typed(&rows_sql, &[]),
        );
        let shape = shape.map_err(|e| database(&format!("cannot read {}", self.display()), &e))?;
        let shape: Vec<ShapeColumn> = shape
            .iter()
            .filter_map(|row| {
                Some(ShapeColumn {
                    of_main: row.try_get::<_, Option<bool>>(0).ok()??,
                    name: row.try_get::<_, Option<String>>(1).ok()??,
                    kind: row.try_get::<_, Option<String>>(2).ok()??,
                })
            })
            .collect();
        self.check_shape(&shape)?;
        let rows = rows.map_err(|e| database(&format!("cannot read {}", self.display()), &e))?;
        self.applied_from(&rows)
    }

    /// The applied migrations of the history's rows, in version order, or
    /// every problem that makes the history unreadable.
    pub(super) fn applied_from<R: HistoryValues>(
        &self,
        rows: &[R],
    ) -> Result<Vec<AppliedMigration>, Error> {
        let table = self.qualified();
        let mut problems = Vec::new();
        let mut applied: Vec<AppliedMigration> = Vec::with_capacity(rows.len());
        for row in rows {
            match history_row(row) {
                Ok(migration) => {
                    if let Some(previous) =
                        applied.last().filter(|p| p.version == migration.version)
                    {
                        problems.push(format!(
                            "version {} is recorded more than once ({} and {}): delete the extra rows by hand \
                             (`SELECT ctid, * FROM {table} WHERE version = {}`, then `DELETE FROM {table} WHERE ctid = '<ctid>'`) \
                             and give the table its primary key back (`ALTER TABLE {table} ADD PRIMARY KEY (version)`)",
                            migration.version, previous.name, migration.name, migration.version
                        ));
                        continue;
                    }
                    applied.push(migration);
                }
                Err(problem) => problems.push(problem),
            }
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(Error::CorruptHistory {
                table: self.display(),
                problems,
            });
        }
        Ok(applied)
    }

    /// Checks that the history tables have the columns and types schemactl
    /// reads and writes (extra columns are allowed).
    pub(super) fn check_shape(&self, columns: &[ShapeColumn]) -> Result<(), Error> {
        const TEXT: &[&str] = &["text", "character varying"];
        const EXPECTED: &[(&str, &[&str])] = &[
            ("version", &["text", "bigint"]),
            ("name", TEXT),
            ("checksum", TEXT),
            ("down_checksum", TEXT),
            ("applied_at", &["timestamp with time zone"]),
            ("applied_by", TEXT),
            ("execution_ms", &["bigint"]),
            ("success", &["boolean"]),
            ("baselined", &["boolean"]),
            ("schemactl_version", TEXT),
            ("error", TEXT),
        ];
        const EXPECTED_EVENTS: &[(&str, &[&str])] = &[
            ("event", TEXT),
            ("version", &["text", "bigint"]),
            ("name", TEXT),
            ("checksum", TEXT),
            ("actor", TEXT),
            ("schemactl_version", TEXT),
            ("execution_ms", &["bigint"]),
            ("detail", TEXT),
        ];
        let mut main = Vec::new();
        let mut events = Vec::new();
        for column in columns {
            let pair = (column.name.clone(), column.kind.clone());
            if column.of_main {
                main.push(pair);
            } else {
                events.push(pair);
            }
        }
        let mut wrong = Vec::new();
        let mut check =
            |table: String, found: &[(String, String)], expected: &[(&str, &[&str])]| {
                for (column, types) in expected {
                    match found.iter().find(|(name, _)| name == column) {
                        None => wrong.push(format!("{table} has no column `{column}`")),
                        Some((_, kind)) if !types.iter().any(|t| kind.starts_with(t)) => wrong
                            .push(format!(
                                "column `{column}` of {table} is {kind}, where schemactl needs {}",
                                types[0]
                            )),
                        Some(_) => {}
                    }
                }
            };
        check(self.display(), &main, EXPECTED);
        if !events.is_empty() {
            check(
                format!("{}.{}", self.schema, self.events),
                &events,
                EXPECTED_EVENTS,
            );
        }
        if wrong.is_empty() {
            return Ok(());
        }
        Err(Error::Config {
            path: "history table".into(),
            message: format!(
                "{} exists but is not a schemactl history table ({}); nothing was read or written. \
                 Point schemactl at its own table with --history-table (or --history-schema), or rename this one",
                self.display(),
                wrong.join("; ")
            ),
        })
    }

    /// The statements a run writes the history with. The three a
    /// transactional migration ends with are prepared (parsing them with
    /// each use costs about 0.3 ms a migration); the rest, and those three
    /// once a script's `DEALLOCATE ALL` took them away
    /// (`HistoryWriter::use_unnamed`), are sent as unnamed statements.
    ///
    /// `lock` (from [`super::MigrationLock`]) makes each migration's
    /// transaction hold the lock at transaction level too, and the end of a
    /// `no-transaction` migration fail once the session lost it. Without
    /// `named`, nothing is prepared (through a transaction pooler a prepared
    /// statement lives in one of its server sessions, not in the client's).
    pub(crate) async fn writer(
        &self,
        client: &Client,
        lock: Option<&super::MigrationLock>,
        named: bool,
    ) -> Result<HistoryWriter, Error> {
        let (versions, events) = (self.qualified(), self.qualified_events());
        let lock_check = lock.map(super::MigrationLock::transaction_check);
        let lock = lock
            .map(|lock| format!(" || left('', {})", lock.held_guard()))
            .unwrap_or_default();
        // The down script and the phase are always the last parameters:
        // $10 and $11 here, $13 and $14 in the statements below (after the
        // event's kind, its detail and the transaction guard).
        let insert_sql = format!(
            "INSERT INTO {versions} (version, name, checksum, down_checksum, applied_by, execution_ms, success, baselined, schemactl_version, error, down_script, phase)
             VALUES ($1, $2, $3, $4, {ACTOR}, coalesce($5, {ELAPSED}), $6, $7, $8, $9, $10, $11)"
        );
        // A `started` event names the session that runs the script, in
        // the server's words (see `started_session`).
        let event_sql = format!(
            "INSERT INTO {events} (event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
             VALUES ($1, $2, $3, $4, {ACTOR}, $5, coalesce($6, {ELAPSED}),
                     CASE WHEN $1 = 'started' THEN concat_ws(' ', $7, {session}) ELSE $7 END)",
            session = SESSION_DETAIL
        );
        // The row and its event in one statement: the hot path of `migrate`.
        // It commits only inside the transaction the run opened (the guard).
        let guarded_insert_sql = format!(
            "INSERT INTO {versions} (version, name, checksum, down_checksum, applied_by, execution_ms, success, baselined, schemactl_version, error, down_script, phase)
             VALUES ($1::text || left('', {guard}), $2, $3, $4, {ACTOR}, coalesce($5, {ELAPSED}), $6, $7, $8, $9, $13, $14)",
            guard = transaction_guard(12)
        );
        let insert_with_event_sql = format!(
            "WITH new_row AS ({guarded_insert_sql} RETURNING version, name, checksum, execution_ms)
             INSERT INTO {events} (event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
             SELECT $10, version, name, checksum, {ACTOR}, $8, execution_ms, $11 FROM new_row"
        );
        // A repeatable migration applied again replaces its row.
        let upsert_with_event_sql = format!(
            "WITH new_row AS ({guarded_insert_sql}
                 ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum,
                     down_checksum = EXCLUDED.down_checksum, down_script = EXCLUDED.down_script, phase = EXCLUDED.phase,
                     applied_at = now(), applied_by = EXCLUDED.applied_by,
                     execution_ms = EXCLUDED.execution_ms, success = EXCLUDED.success, baselined = false,
                     schemactl_version = EXCLUDED.schemactl_version, error = EXCLUDED.error
                 RETURNING version, name, checksum, execution_ms)
             INSERT INTO {events} (event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
             SELECT $10, version, name, checksum, {ACTOR}, $8, execution_ms, $11 FROM new_row"
        );
        let delete_with_event_sql = format!(
            "WITH gone AS (DELETE FROM {versions} WHERE version = $1::text || left('', {guard}) RETURNING version, name)
             INSERT INTO {events} (event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
             SELECT $2, version, name, $3, {ACTOR}, $4, coalesce($5, {ELAPSED}), $6 FROM gone",
            guard = transaction_guard(7)
        );
        let prepare = |sql: &str| {
            let sql = sql.to_string();
            async move {
                client
                    .prepare(&sql)
                    .await
                    .map_err(|e| database("cannot prepare the history statements", &e))
            }
        };
        let prepared = if named {
            Some(tokio::try_join!(
                prepare(&insert_with_event_sql),
                prepare(&upsert_with_event_sql),
                prepare(&delete_with_event_sql),
            )?)
        } else {
            None
        };
        Ok(HistoryWriter {
            lock_check,
            unnamed: std::sync::atomic::AtomicBool::new(prepared.is_none()),
            prepared,
            insert: insert_sql,
            finish: format!("UPDATE {versions} SET success = $2, execution_ms = $3, error = $4 WHERE version = $1::text{lock}"),
            delete: format!("DELETE FROM {versions} WHERE version = $1::text{lock}"),
            event: event_sql,
            accept_checksum: format!("UPDATE {versions} SET checksum = $2, down_checksum = $3, down_script = $4 WHERE version = $1"),
            // The newest batch of a backfill of this version since it was
            // last applied, rolled back or repaired.
            backfill_progress: format!(
                "SELECT checksum, detail FROM {events} WHERE version = $1::text AND event = 'backfill-batch'
                   AND id > coalesce((SELECT max(id) FROM {events} WHERE version = $1::text
                       AND event IN ('applied', 'rolled-back', 'baselined', 'repair-remove-failed', 'repair-mark-applied', 'repair-forget')), 0)
                 ORDER BY id DESC LIMIT 1"
            ),
            insert_with_event: insert_with_event_sql,
            upsert_with_event: upsert_with_event_sql,
            delete_with_event: delete_with_event_sql,
            versions,
        })
    }
}

/// The statements that write the history during one run.
#[derive(Debug)]
pub struct HistoryWriter {
    /// The statement that takes the migration lock at transaction level in
    /// each migration's transaction, when a run holds one.
    pub(crate) lock_check: Option<String>,
    /// `insert_with_event`, `upsert_with_event`, `delete_with_event`
    /// (`None`: sent unnamed from the start).
    prepared: Option<(Statement, Statement, Statement)>,
    /// Set once the prepared ones are gone (a script's `DEALLOCATE ALL`).
    unnamed: std::sync::atomic::AtomicBool,
    insert: String,
    insert_with_event: String,
    upsert_with_event: String,
    delete_with_event: String,
    finish: String,
    delete: String,
    event: String,
    accept_checksum: String,
    backfill_progress: String,
    /// The quoted, qualified history table.
    versions: String,
}

/// What [`HistoryTable::upgrade`] needs to know of an existing table.
struct Shape {
    /// The `version` column's type.
    version_kind: Option<String>,
    /// The table's comment (it names the format).
    comment: Option<String>,
    /// Whether it has the `down_script` and `phase` columns (format 3).
    has_down_script: bool,
}

/// The values of a new history row.
#[derive(Debug, Clone)]
pub struct NewRow<'a> {
    /// The version.
    pub version: Version,
    /// The name.
    pub name: &'a str,
    /// Checksum of the up script.
    pub checksum: &'a Checksum,
    /// Checksum of the down script, when there is one.
    pub down_checksum: Option<&'a Checksum>,
    /// The down script's text, kept for a rollback without its file.
    pub down_script: Option<&'a str>,
    /// The phase its up script declares (`expand`, `contract`).
    pub phase: Option<&'a str>,
    /// How long it ran; `None`: since the transaction began.
    pub execution_ms: Option<i64>,
    /// Whether it completed.
    pub success: bool,
    /// Recorded by `baseline`.
    pub baselined: bool,
    /// The error, or the in-progress note.
    pub error: Option<&'a str>,
}

/// The values of a new event.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// What happened.
    pub kind: EventKind,
    /// The version it happened to.
    pub version: Version,
    /// The migration's name.
    pub name: &'a str,
    /// The checksum involved.
    pub checksum: Option<&'a Checksum>,
    /// How long it took; `None`: since the transaction began.
    pub execution_ms: Option<i64>,
    /// Anything else worth keeping (errors, old checksums).
    pub detail: Option<&'a str>,
}

impl HistoryWriter {
    /// From now on, sends the prepared statements' text as unnamed
    /// statements: a script deallocated them (`prepared statement does not
    /// exist`, SQLSTATE 26000). Returns whether it was not so already.
    pub fn use_unnamed(&self) -> bool {
        !self.unnamed.swap(true, std::sync::atomic::Ordering::SeqCst)
    }

    /// Runs `sql` (prepared as `statement`, if it is) with typed `params`.
    async fn run(
        &self,
        client: &Client,
        statement: Option<&Statement>,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<(), tokio_postgres::Error> {
        let Some(statement) =
            statement.filter(|_| !self.unnamed.load(std::sync::atomic::Ordering::SeqCst))
        else {
            return client.query_typed(sql, params).await.map(drop);
        };
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(value, _)| *value).collect();
        client.execute(statement, &values).await.map(drop)
    }

    /// Inserts a history row.
    pub async fn insert(
        &self,
        client: &Client,
        row: &NewRow<'_>,
    ) -> Result<(), tokio_postgres::Error> {
        self.execute_row(client, None, &self.insert, row, &[]).await
    }

    /// Inserts a history row and its event in one statement, which fails
    /// unless it runs in the transaction `transaction` (its id, as text).
    pub async fn insert_with_event(
        &self,
        client: &Client,
        row: &NewRow<'_>,
        kind: EventKind,
        detail: Option<&str>,
        transaction: &str,
    ) -> Result<(), tokio_postgres::Error> {
        let (statement, sql) = if row.version.is_repeatable() {
            (
                self.prepared.as_ref().map(|p| &p.1),
                &self.upsert_with_event,
            )
        } else {
            (
                self.prepared.as_ref().map(|p| &p.0),
                &self.insert_with_event,
            )
        };
        let kind = kind.as_str();
        self.execute_row(
            client,
            statement,
            sql,
            row,
            &[
                (&kind, Type::TEXT),
                (&detail, Type::TEXT),
                (&transaction, Type::TEXT),
            ],
        )
        .await
    }

    /// Runs `sql` (prepared as `statement`, if it is), whose first nine
    /// parameters are a row's values.
    async fn execute_row(
        &self,
        client: &Client,
        statement: Option<&Statement>,
        sql: &str,
        row: &NewRow<'_>,
        extra: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<(), tokio_postgres::Error> {
        let (checksum, down) = (
            row.checksum.as_str(),
            row.down_checksum.map(Checksum::as_str),
        );
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&row.version, Type::TEXT),
            (&row.name, Type::TEXT),
            (&checksum, Type::TEXT),
            (&down, Type::TEXT),
            (&row.execution_ms, Type::INT8),
            (&row.success, Type::BOOL),
            (&row.baselined, Type::BOOL),
            (&crate::VERSION, Type::TEXT),
            (&row.error, Type::TEXT),
        ];
        params.extend_from_slice(extra);
        params.push((&row.down_script, Type::TEXT));
        params.push((&row.phase, Type::TEXT));
        self.run(client, statement, sql, &params).await
    }

    /// Deletes a history row and appends its event in one statement, which
    /// fails unless it runs in the transaction `transaction`.
    pub async fn delete_with_event(
        &self,
        client: &Client,
        event: &NewEvent<'_>,
        transaction: &str,
    ) -> Result<(), tokio_postgres::Error> {
        let checksum = event.checksum.map(Checksum::as_str);
        let params: [(&(dyn ToSql + Sync), Type); 7] = [
            (&event.version, Type::TEXT),
            (&event.kind.as_str(), Type::TEXT),
            (&checksum, Type::TEXT),
            (&crate::VERSION, Type::TEXT),
            (&event.execution_ms, Type::INT8),
            (&event.detail, Type::TEXT),
            (&transaction, Type::TEXT),
        ];
        self.run(
            client,
            self.prepared.as_ref().map(|p| &p.2),
            &self.delete_with_event,
            &params,
        )
        .await
    }

    /// Sets the outcome of a row inserted before a non-transactional run.
    pub async fn finish(
        &self,
        client: &Client,
        version: Version,
        success: bool,
        execution_ms: i64,
        error: Option<&str>,
    ) -> Result<(), tokio_postgres::Error> {
        client
            .query_typed(
                &self.finish,
                &[
                    (&version, Type::TEXT),
                    (&success, Type::BOOL),
                    (&execution_ms, Type::INT8),
                    (&error, Type::TEXT),
                ],
            )
            .await
            .map(drop)
    }

    /// Deletes a row (rollback, repair).
    pub async fn delete(
        &self,
        client: &Client,
        version: Version,
    ) -> Result<(), tokio_postgres::Error> {
        client
            .query_typed(&self.delete, &[(&version, Type::TEXT)])
            .await
            .map(drop)
    }

    /// Records new checksums for an applied migration (repair).
    /// Sets when a baselined row was applied (another tool's time).
    pub async fn set_applied_at(
        &self,
        client: &Client,
        version: Version,
        at: time::OffsetDateTime,
    ) -> Result<(), tokio_postgres::Error> {
        client
            .execute(
                &format!(
                    "UPDATE {} SET applied_at = $2 WHERE version = $1",
                    self.versions
                ),
                &[&version, &at],
            )
            .await
            .map(drop)
    }

    pub async fn accept_checksum(
        &self,
        client: &Client,
        version: Version,
        checksum: &Checksum,
        down_checksum: Option<&Checksum>,
        down_script: Option<&str>,
    ) -> Result<(), tokio_postgres::Error> {
        let down = down_checksum.map(Checksum::as_str);
        client
            .query_typed(
                &self.accept_checksum,
                &[
                    (&version, Type::TEXT),
                    (&checksum.as_str(), Type::TEXT),
                    (&down, Type::TEXT),
                    (&down_script, Type::TEXT),
                ],
            )
            .await
            .map(drop)
    }

    /// The checksum and detail of the newest `backfill-batch` event of
    /// `version` since it was last applied, rolled back or repaired.
    pub async fn backfill_progress(
        &self,
        client: &Client,
        version: &Version,
    ) -> Result<Option<(Option<String>, Option<String>)>, tokio_postgres::Error> {
        let rows = client
            .query_typed(&self.backfill_progress, &[(version, Type::TEXT)])
            .await?;
        Ok(rows.first().map(|row| (row.get(0), row.get(1))))
    }

    /// Appends an event.
    pub async fn event(
        &self,
        client: &Client,
        event: &NewEvent<'_>,
    ) -> Result<(), tokio_postgres::Error> {
        let checksum = event.checksum.map(Checksum::as_str);
        let params: [(&(dyn ToSql + Sync), Type); 7] = [
            (&event.kind.as_str(), Type::TEXT),
            (&event.version, Type::TEXT),
            (&event.name, Type::TEXT),
            (&checksum, Type::TEXT),
            (&crate::VERSION, Type::TEXT),
            (&event.execution_ms, Type::INT8),
            (&event.detail, Type::TEXT),
        ];
        client.query_typed(&self.event, &params).await.map(drop)
    }
}

/// One history row, every value checked.
fn history_row(row: &impl HistoryValues) -> Result<AppliedMigration, String> {
    let version: Option<String> = row.text(0)?;
    let Some(version) = version.as_deref().map(Version::parse) else {
        return Err("a row has no version (NULL): delete it by hand (`DELETE FROM <history table> WHERE version IS NULL`)".into());
    };
    let field = |column: &str| -> String {
        format!(
            "version {version} has no {column} (NULL): set it by hand, or drop the row with `schemactl repair {}` and record the migration again",
            crate::error::version_flag("--forget", &version)
        )
    };
    macro_rules! required {
        ($index:expr, $column:expr, $read:ident) => {
            row.$read($index)
                .map_err(|e| format!("version {version}: column {}: {e}", $column))?
                .ok_or_else(|| field($column))?
        };
    }
    macro_rules! optional {
        ($index:expr, $column:expr, $read:ident) => {
            row.$read($index)
                .map_err(|e| format!("version {version}: column {}: {e}", $column))?
        };
    }
    Ok(AppliedMigration {
        version: version.clone(),
        name: required!(1, "name", text),
        checksum: Checksum::from_recorded(required!(2, "checksum", text)),
        down_checksum: optional!(3, "down_checksum", text).map(Checksum::from_recorded),
        applied_at: required!(4, "applied_at", instant),
        applied_by: optional!(5, "applied_by", text).unwrap_or_default(),
        execution_ms: optional!(6, "execution_ms", integer).unwrap_or_default(),
        success: required!(7, "success", flag),
        baselined: optional!(8, "baselined", flag).unwrap_or_default(),
        schemactl_version: optional!(9, "schemactl_version", text).unwrap_or_default(),
        error: optional!(10, "error", text),
    })
}

/// One column of a history table, as the catalog describes it.
#[derive(Debug, Clone)]
pub(super) struct ShapeColumn {
    /// Of the history table (else of its events table).
    pub of_main: bool,
    /// Its name.
    pub name: String,
    /// `format_type` of its type.
    pub kind: String,
}

/// The values of one history row, read in binary (a prepared query) or as
/// text (the one-message peek), by position; `None` for NULL.
pub(super) trait HistoryValues {
    fn text(&self, index: usize) -> Result<Option<String>, String>;
    fn integer(&self, index: usize) -> Result<Option<i64>, String>;
    fn flag(&self, index: usize) -> Result<Option<bool>, String>;
    fn instant(&self, index: usize) -> Result<Option<time::OffsetDateTime>, String>;
}

impl HistoryValues for tokio_postgres::Row {
    fn text(&self, index: usize) -> Result<Option<String>, String> {
        self.try_get(index).map_err(|e| e.to_string())
    }
    fn integer(&self, index: usize) -> Result<Option<i64>, String> {
        self.try_get(index).map_err(|e| e.to_string())
    }
    fn flag(&self, index: usize) -> Result<Option<bool>, String> {
        self.try_get(index).map_err(|e| e.to_string())
    }
    fn instant(&self, index: usize) -> Result<Option<time::OffsetDateTime>, String> {
        self.try_get(index).map_err(|e| e.to_string())
    }
}

pub(crate) fn database(context: &str, error: &tokio_postgres::Error) -> Error {
    Error::Database {
        context: context.to_string(),
        message: describe(error),
        sqlstate: error.code().map(|code| code.code().to_string()),
    }
}

/// Versions travel as text: the history's `version` column is text, so
/// that dotted (Flyway) and dashed (diesel) versions are stored as written.
impl tokio_postgres::types::ToSql for Version {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.as_str().to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&str as tokio_postgres::types::ToSql>::accepts(ty)
    }

    tokio_postgres::types::to_sql_checked!();
}
