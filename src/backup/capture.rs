//! Keeping the data a migration destroys (`migrate --backup auto`), in
//! two steps that the server decides. In the migration's own transaction,
//! before its script: each table it destroys data of is locked as its
//! script would lock it, and the rows it loses (the primary key and the
//! lost columns, or every column) are copied into a staging table beside
//! the history, described by the table's comment. They commit or roll
//! back with the migration. After the commit, [`export`] writes every
//! staging table into the store as a pre-migration backup and drops it;
//! staging tables left by a run that died in between are exported by the
//! next one.

use super::encryption::{Encryption, Sealer};
use super::manifest::{
    BackupId, BackupKind, CapturedColumn, CapturedData, CapturedTable, FileContent, Manifest,
    PostgresPart, StoredFile, TableRows, FORMAT,
};
use super::store::Store;
use crate::lint::DestroyedData;
use crate::model::history::HistoryTable;
use crate::model::Migration;
use crate::postgres::history_table::database;
use crate::Error;
use futures_util::future::try_join_all;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use time::OffsetDateTime;
use tokio_postgres::Client;

/// Staging tables' names start with this.
const STAGING_PREFIX: &str = "schemactl_data_";

/// What a staging table's comment says of it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct Staged {
    backup: BackupId,
    #[schemars(with = "String")]
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    version: String,
    migration: String,
    table: CapturedTable,
}

/// The statements that keep `migration`'s destroyed data, to run in its
/// transaction before its script; empty when it destroys none of what
/// exists now (a table it creates itself, a column it adds).
pub(crate) async fn statements(
    client: &Client,
    history: &HistoryTable,
    migration: &Migration,
    destroyed: &[DestroyedData],
) -> Result<Vec<String>, Error> {
    let created_at = OffsetDateTime::now_utc();
    let backup = BackupId::new(created_at);
    let mut tables: Vec<CapturedTable> = Vec::new();
    // Every table's columns in one pipelined round trip (and the tables a
    // cascade reaches in one more).
    let resolved = try_join_all(destroyed.iter().map(|lost| resolve(client, lost))).await?;
    for (lost, table) in destroyed.iter().zip(resolved) {
        let mut found = Vec::from_iter(table);
        if lost.cascade && !found.is_empty() {
            let referencing = referencing_tables(client, lost).await?;
            let reached = try_join_all(referencing.iter().map(|r| resolve(client, r))).await?;
            found.extend(reached.into_iter().flatten());
        }
        for table in found {
            if !tables.iter().any(|t| t.table == table.table) {
                tables.push(table);
            }
        }
    }
    let mut statements = Vec::new();
    for (index, table) in tables.into_iter().enumerate() {
        let staging = format!(
            "{}.\"{STAGING_PREFIX}{}_{index}\"",
            history.schema().quoted(),
            backup.as_str().to_lowercase().replace('-', "_")
        );
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        let comment = Staged {
            backup: backup.clone(),
            created_at,
            version: migration.version.to_string(),
            migration: migration.name.clone(),
            table: CapturedTable {
                file: format!("data/{index}.copy.zst.age"),
                ..table.clone()
            },
        };
        let comment = serde_json::to_string(&comment).map_err(|e| Error::Io {
            path: migration.up.path.clone(),
            source: std::io::Error::other(e),
        })?;
        statements.push(format!(
            "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            table.table
        ));
        statements.push(format!(
            "CREATE TABLE {staging} AS SELECT {} FROM {}",
            columns.join(", "),
            table.table
        ));
        statements.push(format!(
            "COMMENT ON TABLE {staging} IS '{}'",
            comment.replace('\'', "''")
        ));
    }
    Ok(statements)
}

/// The tables that reference `lost` through foreign keys, and those that
/// reference them in turn (what `TRUNCATE … CASCADE` empties), each after
/// every table it references.
async fn referencing_tables(
    client: &Client,
    lost: &DestroyedData,
) -> Result<Vec<DestroyedData>, Error> {
    const REFERENCING: &str = "WITH RECURSIVE r(oid, depth, path) AS ( \
             SELECT to_regclass($1)::oid, 0, ARRAY[to_regclass($1)::oid] \
             UNION ALL \
             SELECT c.conrelid, r.depth + 1, r.path || c.conrelid FROM pg_constraint c JOIN r ON c.confrelid = r.oid \
             WHERE c.contype = 'f' AND NOT c.conrelid = ANY (r.path)) \
         SELECT n.nspname::text, k.relname::text FROM r JOIN pg_class k ON k.oid = r.oid \
         JOIN pg_namespace n ON n.oid = k.relnamespace \
         WHERE r.depth > 0 GROUP BY n.nspname, k.relname ORDER BY max(r.depth), 1, 2";
    let rows = client
        .query(REFERENCING, &[&lost.quoted_table()])
        .await
        .map_err(|e| database("cannot read the tables a TRUNCATE … CASCADE empties", &e))?;
    Ok(rows
        .iter()
        .map(|row| DestroyedData {
            table: vec![row.get(0), row.get(1)],
            columns: Vec::new(),
            loss: crate::lint::DataLoss::Truncate,
            cascade: false,
        })
        .collect())
}

/// The table as the server has it now, with the columns to keep; `None`
/// when it does not exist (yet) or loses no column it has.
async fn resolve(client: &Client, lost: &DestroyedData) -> Result<Option<CapturedTable>, Error> {
    const COLUMNS: &str = "SELECT format('%I.%I', n.nspname, c.relname), a.attname::text, \
            format_type(a.atttypid, a.atttypmod), a.attgenerated <> '', \
            pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL, \
            array_position((SELECT i.indkey::int2[] FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), a.attnum) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p') ORDER BY a.attnum";
    let rows = client
        .query(COLUMNS, &[&lost.quoted_table()])
        .await
        .map_err(|e| {
            database(
                "cannot read the columns of a table the migration destroys",
                &e,
            )
        })?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let name: String = first.get(0);
    let mut key: Vec<(i32, String)> = Vec::new();
    let mut stored: Vec<(String, CapturedColumn)> = Vec::new();
    for row in &rows {
        let column = CapturedColumn {
            name: row.get(1),
            data_type: row.get(2),
            sequence: row.get(4),
        };
        if let Some(position) = row.get::<_, Option<i32>>(5) {
            key.push((position, column.name.clone()));
        }
        // A generated column is computed again, never stored.
        if !row.get::<_, bool>(3) {
            stored.push((column.name.clone(), column));
        }
    }
    key.sort();
    let key: Vec<String> = key.into_iter().map(|(_, name)| name).collect();
    let lost_columns: Vec<String> = lost
        .columns
        .iter()
        .filter(|c| stored.iter().any(|(name, _)| name == *c) && !key.contains(c))
        .cloned()
        .collect();
    let columns: Vec<CapturedColumn> = if lost.whole_table() || key.is_empty() {
        stored.into_iter().map(|(_, c)| c).collect()
    } else if lost_columns.is_empty() {
        return Ok(None);
    } else {
        key.iter()
            .chain(&lost_columns)
            .filter_map(|n| {
                stored
                    .iter()
                    .find(|(name, _)| name == n)
                    .map(|(_, c)| c.clone())
            })
            .collect()
    };
    Ok(Some(CapturedTable {
        table: name,
        loss: lost.loss,
        key,
        lost_columns: if lost.whole_table() {
            Vec::new()
        } else {
            lost_columns
        },
        columns,
        rows: 0,
        fingerprint: String::new(),
        file: String::new(),
    }))
}

/// A name quoted for SQL.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A pre-migration backup written by [`export`].
#[derive(Debug, Clone)]
pub(crate) struct Exported {
    /// Its id.
    pub backup: BackupId,
    /// The migration's version.
    pub version: String,
    /// Its name.
    pub migration: String,
    /// The manifest's tables.
    pub tables: Vec<CapturedTable>,
}

/// Writes every staging table beside `history` into `store` (one backup
/// per migration), then drops it. A table is dropped only once its backup
/// is whole in the store.
pub(crate) async fn export(
    client: &Client,
    store: &Store,
    encryption: &Encryption,
    history: &HistoryTable,
) -> Result<Vec<Exported>, Error> {
    let staged = staged(client, history).await?;
    let mut backups: BTreeMap<BackupId, Vec<(String, Staged)>> = BTreeMap::new();
    for (name, item) in staged {
        backups
            .entry(item.backup.clone())
            .or_default()
            .push((name, item));
    }
    let mut exported = Vec::new();
    for (backup, tables) in backups {
        exported.push(export_one(client, store, encryption, backup, &tables).await?);
        let drops: Vec<String> = tables
            .iter()
            .map(|(name, _)| format!("DROP TABLE IF EXISTS {name}"))
            .collect();
        client
            .batch_execute(&drops.join("; "))
            .await
            .map_err(|e| database("cannot drop a staging table already in the store", &e))?;
    }
    Ok(exported)
}

/// The staging tables beside `history`, with what their comments say.
async fn staged(client: &Client, history: &HistoryTable) -> Result<Vec<(String, Staged)>, Error> {
    const STAGED: &str = "SELECT format('%I.%I', n.nspname, c.relname), obj_description(c.oid, 'pg_class') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind = 'r' AND starts_with(c.relname, $2) ORDER BY c.relname";
    let rows = client
        .query(STAGED, &[&history.schema().as_str(), &STAGING_PREFIX])
        .await
        .map_err(|e| database("cannot look for staged data to export", &e))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let comment: Option<String> = row.get(1);
            let staged = serde_json::from_str(comment.as_deref()?).ok()?;
            Some((row.get(0), staged))
        })
        .collect())
}

/// One migration's staging tables into one backup.
async fn export_one(
    client: &Client,
    store: &Store,
    encryption: &Encryption,
    backup: BackupId,
    tables: &[(String, Staged)],
) -> Result<Exported, Error> {
    let started = std::time::Instant::now();
    let pending = store.begin(&backup)?;
    let mut captured = Vec::new();
    let mut files = Vec::new();
    for (name, item) in tables {
        let failed = |e: tokio_postgres::Error| database("cannot read a staging table", &e);
        let counted = client
            .query_one(
                &format!("SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM {name} t"),
                &[],
            )
            .await
            .map_err(failed)?;
        let mut sealer =
            Sealer::new(pending.create(&item.table.file)?, encryption).map_err(|source| {
                Error::Io {
                    path: store.location(&backup, &item.table.file),
                    source,
                }
            })?;
        let stream = client
            .copy_out(&format!("COPY {name} TO STDOUT"))
            .await
            .map_err(failed)?;
        futures_util::pin_mut!(stream);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(failed)?;
            sealer.write_all(&chunk).map_err(|source| Error::Io {
                path: store.location(&backup, &item.table.file),
                source,
            })?;
        }
        let (size_bytes, sha256) = sealer.finish().map_err(|source| Error::Io {
            path: store.location(&backup, &item.table.file),
            source,
        })?;
        files.push(StoredFile {
            name: item.table.file.clone(),
            content: FileContent::TableData,
            size_bytes,
            sha256,
        });
        captured.push(CapturedTable {
            rows: counted.get(0),
            fingerprint: counted.get(1),
            ..item.table.clone()
        });
    }
    let first = &tables[0].1;
    let server = client
        .query_one(
            "SELECT current_setting('server_version'), current_database()::text",
            &[],
        )
        .await
        .map_err(|e| database("cannot read the server's version", &e))?;
    let manifest = Manifest {
        format: FORMAT,
        id: backup.clone(),
        created_at: first.created_at,
        kind: BackupKind::PreMigration,
        schemactl_version: crate::VERSION.into(),
        encrypted: matches!(encryption, Encryption::To(_)),
        recipients: encryption.recipients(),
        duration_ms: started.elapsed().as_millis() as u64,
        postgres: PostgresPart {
            database: server.get(1),
            server_version: server.get(0),
            pg_dump_version: String::new(),
            history_version: None,
            tables: captured
                .iter()
                .map(|t| TableRows {
                    table: t.table.clone(),
                    rows: t.rows,
                    fingerprint: t.fingerprint.clone(),
                })
                .collect(),
        },
        mongodb: None,
        captured: Some(CapturedData {
            version: first.version.clone(),
            migration: first.migration.clone(),
            tables: captured.clone(),
        }),
        files,
    };
    pending.finish(&manifest)?;
    Ok(Exported {
        backup,
        version: first.version.clone(),
        migration: first.migration.clone(),
        tables: captured,
    })
}
