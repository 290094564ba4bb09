//! Reading other tools' history tables, for `baseline --from <tool>`: what
//! each tool recorded as applied, in its own terms (the table is only
//! read, never changed). The tables' shapes are the tools' own DDL:
//!
//! - sqlx `_sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT,
//!   installed_on TIMESTAMPTZ, success BOOLEAN, checksum BYTEA,
//!   execution_time BIGINT)` — one row per migration; `success = false`
//!   marks a failed (dirty) one.
//! - diesel `__diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY,
//!   run_on TIMESTAMP)` — one row per migration, the version without dashes.
//! - golang-migrate `schema_migrations (version BIGINT PRIMARY KEY, dirty
//!   BOOLEAN)` — one row: the current version; everything up to it is
//!   applied. `dirty` means the last run failed halfway.
//! - dbmate `schema_migrations (version VARCHAR(128) PRIMARY KEY)` — one
//!   row per migration.
//! - goose `goose_db_version (id SERIAL, version_id BIGINT, is_applied
//!   BOOLEAN, tstamp TIMESTAMP)` — a log; a version's latest row says
//!   whether it is applied; version 0 is goose's own first row.
//! - Flyway `flyway_schema_history (installed_rank INT, version VARCHAR,
//!   description VARCHAR, type VARCHAR, script VARCHAR, checksum INT,
//!   installed_on TIMESTAMP, success BOOLEAN, …)` — a log in rank order;
//!   `BASELINE` rows mean "everything up to here", `UNDO_SQL` rows undo a
//!   version, rows without a version are repeatables.
//! - refinery `refinery_schema_history (version INT4, name VARCHAR,
//!   applied_on VARCHAR, checksum VARCHAR)`.
//! - gobuffalo/pop `schema_migration (version VARCHAR(48) UNIQUE)` — one
//!   row per migration (Ory's projects use it, with 20-digit versions).

use super::history_table::database;
use crate::model::identifier::Identifier;
use crate::model::Version;
use crate::Error;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

pub use crate::model::adoption::{ForeignRow, Recorded, Tool};

/// golang-migrate keeps one row: `SetVersion` (database/postgres/
/// postgres.go) empties the table and inserts the version it is at,
/// and with `-1` (`database.NilVersion`, nothing applied) inserts a
/// row only when dirty.
fn golang_migrate_rows(
    table: &Identifier,
    rows: &[tokio_postgres::Row],
) -> Result<Recorded, Error> {
    let tool = Tool::GolangMigrate;
    if rows.len() > 1 {
        return Err(refused(
            tool,
            table,
            format!(
                "it has {} rows, and golang-migrate keeps exactly one (it empties the table each time it records a version), \
                 so another program wrote them. Keep only the row of the version the database really is at \
                 (`migrate version` with golang-migrate tells it), then import again",
                rows.len()
            ),
        ));
    }
    let Some(row) = rows.first() else {
        return Ok(Recorded::Versions(Vec::new()));
    };
    let written = text(row, 0).unwrap_or_default();
    if !flag(row, 4) {
        return Err(refused(
            tool,
            table,
            format!(
                "it is dirty at version {written}: its last run failed halfway. Finish or undo that migration by hand, \
                 then `migrate force <version>` with golang-migrate, and import again"
            ),
        ));
    }
    if written.trim() == "-1" {
        // Nothing applied: golang-migrate's "no version".
        return Ok(Recorded::Versions(Vec::new()));
    }
    let current = version(tool, table, &written)?;
    Ok(Recorded::UpTo(current, Vec::new()))
}

/// Flyway's rows in the order it ran them: a `BASELINE` row imports
/// everything up to it, an undo removes its version, a repeatable's latest
/// run counts.
fn flyway_rows(table: &Identifier, rows: &[tokio_postgres::Row]) -> Result<Recorded, Error> {
    let tool = Tool::Flyway;
    let mut applied: Vec<ForeignRow> = Vec::new();
    let mut baseline = None;
    for row in rows {
        let kind = text(row, 5).unwrap_or_default();
        let Some(written) = text(row, 0) else {
            // A repeatable migration: no version; its latest run
            // is what Flyway compares the file with.
            if let Some(repeatable) = flyway_repeatable(tool, table, row)? {
                applied.retain(|r| r.version != repeatable.version);
                applied.push(repeatable);
            }
            continue;
        };
        let v = version(tool, table, &written)?;
        if !flag(row, 4) {
            return Err(refused(
                tool,
                table,
                format!("Flyway recorded version {written} as failed; repair it with `flyway repair` (or finish it by hand), then import again"),
            ));
        }
        match kind.as_str() {
            "BASELINE" => baseline = Some(v),
            k if k.starts_with("UNDO") => applied.retain(|r| r.version != v),
            _ => applied.push(ForeignRow {
                version: v,
                name: text(row, 1),
                applied_at: text(row, 2),
                checksum: text(row, 3),
            }),
        }
    }
    Ok(match baseline {
        Some(v) => Recorded::UpTo(v, applied),
        None => Recorded::Versions(applied),
    })
}

/// The other tools' rows: one per applied version (goose's latest row per
/// version says whether it is applied).
fn rows_of(
    tool: Tool,
    table: &Identifier,
    rows: &[tokio_postgres::Row],
) -> Result<Recorded, Error> {
    let mut applied = Vec::new();
    for row in rows {
        let written = text(row, 0).unwrap_or_default();
        let v = version(tool, table, &written)?;
        if row.try_get::<_, Option<bool>>(4).ok().flatten().is_none() {
            return Err(refused(
                tool,
                table,
                format!("its row for version {written} has no applied/success flag (NULL), which {tool} never writes; \
                         set it by hand to what happened (true when the migration is in the schema), then import again"),
            ));
        }
        if !flag(row, 4) {
            if tool == Tool::Goose {
                continue; // rolled back: its latest row says not applied
            }
            return Err(refused(
                tool,
                table,
                format!("{tool} recorded version {written} as failed; resolve it with {tool} first, then import again"),
            ));
        }
        applied.push(ForeignRow {
            version: v,
            name: text(row, 1),
            applied_at: text(row, 2),
            checksum: text(row, 3),
        });
    }
    Ok(Recorded::Versions(applied))
}

/// A text column; NULL (or unreadable) is `None`.
fn text(row: &tokio_postgres::Row, i: usize) -> Option<String> {
    row.try_get::<_, Option<String>>(i).ok().flatten()
}

/// A flag column; NULL (or unreadable) counts as false: not applied, or dirty.
fn flag(row: &tokio_postgres::Row, i: usize) -> bool {
    row.try_get::<_, Option<bool>>(i)
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// A Flyway row without a version: a repeatable migration's run, named by
/// its script (`R__<name>.sql`, in a folder or not). A failed run is
/// refused like a failed version.
fn flyway_repeatable(
    tool: Tool,
    table: &Identifier,
    row: &tokio_postgres::Row,
) -> Result<Option<ForeignRow>, Error> {
    let Some(script) = text(row, 6) else {
        return Ok(None);
    };
    let file = script.rsplit(['/', '\\']).next().unwrap_or(&script);
    let Some(name) = file
        .strip_prefix("R__")
        .and_then(|n| n.strip_suffix(".sql"))
    else {
        return Ok(None);
    };
    if !flag(row, 4) {
        return Err(refused(
            tool,
            table,
            format!("Flyway recorded the repeatable {script} as failed; repair it with `flyway repair` (or finish it by hand), then import again"),
        ));
    }
    Ok(Some(ForeignRow {
        version: Version::repeatable(name),
        name: Some(name.to_string()),
        applied_at: text(row, 2),
        checksum: text(row, 3),
    }))
}

fn refused(tool: Tool, table: &Identifier, what: String) -> Error {
    Error::refused(
        crate::error::refusal::RefusalKind::ForeignHistory,
        format!("cannot import {tool}'s history {table}; nothing was changed: {what}"),
    )
}

/// A tool's version as schemactl compares it: diesel's without dashes,
/// Flyway's dotted, others integers; the text is kept as written.
fn version(tool: Tool, table: &Identifier, text: &str) -> Result<Version, Error> {
    let text = text.trim();
    // Only diesel writes dashes (its folder dates); elsewhere a `-` is a
    // negative number, never a version.
    let digits: String = match tool {
        Tool::Diesel => text.chars().filter(|c| *c != '-').collect(),
        _ => text.to_string(),
    };
    let kind = match tool {
        Tool::Diesel => crate::model::VersionKind::Lexical,
        Tool::Flyway => crate::model::VersionKind::Dotted,
        _ => crate::model::VersionKind::Integer,
    };
    Version::of_kind(&digits, kind).ok_or_else(|| {
        refused(
            tool,
            table,
            format!("version `{text}` is not one schemactl can place"),
        )
    })
}

/// Whether `table` exists (on the search path, or qualified).
pub async fn exists(client: &Client, table: &Identifier) -> Result<bool, Error> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table.quoted()])
        .await
        .map_err(|e| database("cannot look for a history table", &e))?;
    Ok(row.get(0))
}

/// The one tool whose history table the database has, for `--from auto`.
/// `schema_migrations` is golang-migrate's when it has a `dirty` column,
/// dbmate's otherwise.
pub async fn detect(client: &Client) -> Result<Vec<Tool>, Error> {
    let mut found = Vec::new();
    for tool in Tool::ALL {
        let table = Identifier::parse(tool.default_table()).map_err(Error::InvalidArgument)?;
        if !exists(client, &table).await? {
            continue;
        }
        if matches!(tool, Tool::GolangMigrate | Tool::Dbmate) {
            let dirty: bool = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('schema_migrations') AND attname = 'dirty' AND NOT attisdropped)",
                    &[],
                )
                .await
                .map_err(|e| database("cannot read schema_migrations' columns", &e))?
                .get(0);
            if dirty != (tool == Tool::GolangMigrate) {
                continue;
            }
        }
        found.push(tool);
    }
    Ok(found)
}

/// Reads what `tool` recorded in `table`.
pub async fn read(client: &Client, tool: Tool, table: &Identifier) -> Result<Recorded, Error> {
    if !exists(client, table).await? {
        return Err(Error::refused(
            crate::error::refusal::RefusalKind::ForeignHistory,
            format!(
            "there is no table {table} to import {tool}'s history from; name the table with --table"
        ),
        ));
    }
    let t = table.quoted();
    let sql = match tool {
        Tool::Sqlx => format!("SELECT version::text, description::text, installed_on::text, encode(checksum, 'hex'), success FROM {t} ORDER BY version"),
        Tool::Diesel => format!("SELECT version::text, NULL::text, run_on::text, NULL::text, true FROM {t} ORDER BY version"),
        Tool::Dbmate | Tool::Pop => format!("SELECT version::text, NULL::text, NULL::text, NULL::text, true FROM {t} ORDER BY version"),
        Tool::GolangMigrate => format!("SELECT version::text, NULL::text, NULL::text, NULL::text, NOT dirty FROM {t}"),
        Tool::Goose => format!(
            "SELECT DISTINCT ON (version_id) version_id::text, NULL::text, tstamp::text, NULL::text, is_applied \
             FROM {t} WHERE version_id <> 0 ORDER BY version_id, id DESC"
        ),
        Tool::Flyway => format!(
            "SELECT version::text, description::text, installed_on::text, checksum::text, success, type::text, script::text \
             FROM {t} ORDER BY installed_rank"
        ),
        Tool::Refinery => format!("SELECT version::text, name::text, applied_on::text, checksum::text, true FROM {t} ORDER BY version"),
    };
    let rows = client.query(&sql, &[]).await.map_err(|e| {
        if e.code() == Some(&SqlState::UNDEFINED_COLUMN) {
            refused(
                tool,
                table,
                format!(
                    "it does not have {tool}'s columns ({})",
                    super::describe(&e)
                ),
            )
        } else {
            database(&format!("cannot read {tool}'s history table {table}"), &e)
        }
    })?;
    match tool {
        Tool::GolangMigrate => golang_migrate_rows(table, &rows),
        Tool::Flyway => flyway_rows(table, &rows),
        _ => rows_of(tool, table, &rows),
    }
}
