//! The history tables: `schema_versions` (one row per applied migration) and
//! `schema_versions_events` (an append-only log of everything that happened:
//! applies, failures, rollbacks, baselines, repairs).
//!
//! Both are created on first use by commands that change the database;
//! read-only commands (`status`, `validate`, `migrate --dry-run`) treat a
//! missing table as an empty history and never create it.

use super::describe;
use crate::history::{AppliedMigration, EventKind};
use crate::identifier::Identifier;
use crate::migration::Checksum;
use crate::Error;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Statement};

/// The SQL expression recorded as "who": the database user and the client
/// address as the server sees it.
const ACTOR: &str = "current_user || '@' || coalesce(host(inet_client_addr()), 'local')";

/// Milliseconds since the transaction began: the duration of a migration
/// whose history row is written in its own transaction, measured by the
/// server (the row is sent in the same pipeline as the migration).
const ELAPSED: &str = "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint";

/// Where the history lives.
#[derive(Debug, Clone)]
pub struct HistoryTable {
    schema: Identifier,
    table: Identifier,
    events: Identifier,
}

impl HistoryTable {
    /// The history in `schema.table`, with its events in `schema.table_events`.
    pub fn new(schema: Identifier, table: Identifier) -> Result<Self, String> {
        let events = Identifier::parse(&format!("{table}_events"))?;
        Ok(Self {
            schema,
            table,
            events,
        })
    }

    /// `public.schema_versions`, for messages.
    pub fn display(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// The schema name.
    pub fn schema(&self) -> &Identifier {
        &self.schema
    }

    /// The table name.
    pub fn table(&self) -> &Identifier {
        &self.table
    }

    fn qualified(&self) -> String {
        format!("{}.{}", self.schema.quoted(), self.table.quoted())
    }

    fn qualified_events(&self) -> String {
        format!("{}.{}", self.schema.quoted(), self.events.quoted())
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

    /// Creates the schema (when missing) and both tables (when missing).
    pub async fn ensure(&self, client: &Client) -> Result<(), Error> {
        let (schema, table, events) = (
            self.schema.quoted(),
            self.qualified(),
            self.qualified_events(),
        );
        let rows = client
            .query_typed(
                "SELECT to_regnamespace($1) IS NOT NULL, to_regclass($2) IS NOT NULL, to_regclass($3) IS NOT NULL",
                &[(&schema, Type::TEXT), (&table, Type::TEXT), (&events, Type::TEXT)],
            )
            .await
            .map_err(|e| database("cannot look for the history tables", &e))?;
        let Some(present) = rows.first() else {
            return Err(Error::Database {
                context: "cannot look for the history tables".into(),
                message: "no answer".into(),
            });
        };
        let (schema, table, events): (bool, bool, bool) =
            (present.get(0), present.get(1), present.get(2));
        if schema && table && events {
            return Ok(());
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
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                down_checksum text,
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
                version bigint,
                name text,
                checksum text,
                actor text NOT NULL,
                schemactl_version text NOT NULL,
                execution_ms bigint,
                detail text
            );",
            self.qualified(),
            self.qualified_events()
        ));
        client.batch_execute(&ddl).await.map_err(|e| {
            database(
                &format!("cannot create the history table {}", self.display()),
                &e,
            )
        })
    }

    /// Every recorded migration, by version; empty when the table does not exist.
    pub async fn read(&self, client: &Client) -> Result<Vec<AppliedMigration>, Error> {
        if !self.exists(client).await? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT version, name, checksum, down_checksum, applied_at, applied_by, execution_ms, success, \
                    baselined, schemactl_version, error
             FROM {} ORDER BY version",
            self.qualified()
        );
        let rows = client.query_typed(&sql, &[]).await.map_err(|e| {
            if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN) {
                Error::Config {
                    path: "history table".into(),
                    message: format!(
                        "{} exists but is not a schemactl history table ({}); choose another name with --history-table",
                        self.display(),
                        describe(&e)
                    ),
                }
            } else {
                database(&format!("cannot read {}", self.display()), &e)
            }
        })?;
        Ok(rows
            .iter()
            .map(|row| AppliedMigration {
                version: row.get(0),
                name: row.get(1),
                checksum: Checksum::from_recorded(row.get::<_, String>(2)),
                down_checksum: row.get::<_, Option<String>>(3).map(Checksum::from_recorded),
                applied_at: row.get(4),
                applied_by: row.get(5),
                execution_ms: row.get(6),
                success: row.get(7),
                baselined: row.get(8),
                schemactl_version: row.get(9),
                error: row.get(10),
            })
            .collect())
    }

    /// Prepares the statements a run writes the history with.
    pub async fn writer(&self, client: &Client) -> Result<HistoryWriter, Error> {
        let prepare = |sql: String| async move {
            client
                .prepare(&sql)
                .await
                .map_err(|e| database("cannot prepare the history statements", &e))
        };
        let (versions, events) = (self.qualified(), self.qualified_events());
        let insert_sql = format!(
            "INSERT INTO {versions} (version, name, checksum, down_checksum, applied_by, execution_ms, success, baselined, schemactl_version, error)
             VALUES ($1, $2, $3, $4, {ACTOR}, coalesce($5, {ELAPSED}), $6, $7, $8, $9)"
        );
        let event_sql = format!(
            "INSERT INTO {events} (event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
             VALUES ($1, $2, $3, $4, {ACTOR}, $5, coalesce($6, {ELAPSED}), $7)"
        );
        // The row and its event in one statement: the hot path of `migrate`.
        let insert_with_event_sql = format!(
            "WITH new_row AS ({insert_sql} RETURNING version, name, checksum, execution_ms)
             INSERT INTO {events} (event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
             SELECT $10, version, name, checksum, {ACTOR}, $8, execution_ms, $11 FROM new_row"
        );
        let delete_with_event_sql = format!(
            "WITH gone AS (DELETE FROM {versions} WHERE version = $1 RETURNING version, name)
             INSERT INTO {events} (event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
             SELECT $2, version, name, $3, {ACTOR}, $4, coalesce($5, {ELAPSED}), $6 FROM gone"
        );
        let (insert, finish, delete, event, accept_checksum, insert_with_event, delete_with_event) = tokio::try_join!(
            prepare(insert_sql),
            prepare(format!("UPDATE {versions} SET success = $2, execution_ms = $3, error = $4 WHERE version = $1")),
            prepare(format!("DELETE FROM {versions} WHERE version = $1")),
            prepare(event_sql),
            prepare(format!("UPDATE {versions} SET checksum = $2, down_checksum = $3 WHERE version = $1")),
            prepare(insert_with_event_sql),
            prepare(delete_with_event_sql),
        )?;
        Ok(HistoryWriter {
            insert,
            finish,
            delete,
            event,
            accept_checksum,
            insert_with_event,
            delete_with_event,
        })
    }
}

/// Prepared statements that write the history during one run.
#[derive(Debug)]
pub struct HistoryWriter {
    insert: Statement,
    insert_with_event: Statement,
    delete_with_event: Statement,
    finish: Statement,
    delete: Statement,
    event: Statement,
    accept_checksum: Statement,
}

/// The values of a new history row.
#[derive(Debug, Clone)]
pub struct NewRow<'a> {
    /// The version.
    pub version: i64,
    /// The name.
    pub name: &'a str,
    /// Checksum of the up script.
    pub checksum: &'a Checksum,
    /// Checksum of the down script, when there is one.
    pub down_checksum: Option<&'a Checksum>,
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
    pub version: i64,
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
    /// Inserts a history row.
    pub async fn insert(
        &self,
        client: &Client,
        row: &NewRow<'_>,
    ) -> Result<(), tokio_postgres::Error> {
        self.execute_row(client, &self.insert, row, &[]).await
    }

    /// Inserts a history row and its event in one statement.
    pub async fn insert_with_event(
        &self,
        client: &Client,
        row: &NewRow<'_>,
        kind: EventKind,
        detail: Option<&str>,
    ) -> Result<(), tokio_postgres::Error> {
        self.execute_row(
            client,
            &self.insert_with_event,
            row,
            &[&kind.as_str(), &detail],
        )
        .await
    }

    /// Runs a statement whose first nine parameters are a row's values.
    async fn execute_row(
        &self,
        client: &Client,
        statement: &Statement,
        row: &NewRow<'_>,
        extra: &[&(dyn ToSql + Sync)],
    ) -> Result<(), tokio_postgres::Error> {
        let checksum = row.checksum.as_str();
        let down = row.down_checksum.map(Checksum::as_str);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &row.version,
            &row.name,
            &checksum,
            &down,
            &row.execution_ms,
            &row.success,
            &row.baselined,
            &crate::VERSION,
            &row.error,
        ];
        params.extend_from_slice(extra);
        client.execute(statement, &params).await.map(drop)
    }

    /// Deletes a history row and appends its event in one statement.
    pub async fn delete_with_event(
        &self,
        client: &Client,
        event: &NewEvent<'_>,
    ) -> Result<(), tokio_postgres::Error> {
        let checksum = event.checksum.map(Checksum::as_str);
        let params: [&(dyn ToSql + Sync); 6] = [
            &event.version,
            &event.kind.as_str(),
            &checksum,
            &crate::VERSION,
            &event.execution_ms,
            &event.detail,
        ];
        client
            .execute(&self.delete_with_event, &params)
            .await
            .map(drop)
    }

    /// Sets the outcome of a row inserted before a non-transactional run.
    pub async fn finish(
        &self,
        client: &Client,
        version: i64,
        success: bool,
        execution_ms: i64,
        error: Option<&str>,
    ) -> Result<(), tokio_postgres::Error> {
        client
            .execute(&self.finish, &[&version, &success, &execution_ms, &error])
            .await
            .map(drop)
    }

    /// Deletes a row (rollback, repair).
    pub async fn delete(&self, client: &Client, version: i64) -> Result<(), tokio_postgres::Error> {
        client.execute(&self.delete, &[&version]).await.map(drop)
    }

    /// Records new checksums for an applied migration (repair).
    pub async fn accept_checksum(
        &self,
        client: &Client,
        version: i64,
        checksum: &Checksum,
        down_checksum: Option<&Checksum>,
    ) -> Result<(), tokio_postgres::Error> {
        let down = down_checksum.map(Checksum::as_str);
        client
            .execute(
                &self.accept_checksum,
                &[&version, &checksum.as_str(), &down],
            )
            .await
            .map(drop)
    }

    /// Appends an event.
    pub async fn event(
        &self,
        client: &Client,
        event: &NewEvent<'_>,
    ) -> Result<(), tokio_postgres::Error> {
        let checksum = event.checksum.map(Checksum::as_str);
        let params: [&(dyn ToSql + Sync); 7] = [
            &event.kind.as_str(),
            &event.version,
            &event.name,
            &checksum,
            &crate::VERSION,
            &event.execution_ms,
            &event.detail,
        ];
        client.execute(&self.event, &params).await.map(drop)
    }
}

pub(crate) fn database(context: &str, error: &tokio_postgres::Error) -> Error {
    Error::Database {
        context: context.to_string(),
        message: describe(error),
    }
}
