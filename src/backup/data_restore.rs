//! `rollback --restore-data`: the rows a migration destroyed, put back in
//! the rollback's own transaction after its down script re-created the
//! structure. The migration's pre-migration backup (its `data-backup`
//! event names it) is checked, decrypted and loaded into temporary tables
//! first; then a dropped table's rows are inserted again (sequences set
//! past them), and a dropped or retyped column's values are set again by
//! primary key. The rows each statement touched are reported.

use super::capture::quote;
use super::encryption::Identities;
use super::manifest::{BackupId, CapturedTable, Manifest};
use super::store::Store;
use crate::model::history::HistoryTable;
use crate::model::Version;
use crate::postgres::executor::Surrounding;
use crate::postgres::history_table::database;
use crate::Error;
use futures_util::SinkExt;
use std::io::Read;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// One table's data put back by `rollback --restore-data`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct RestoredTable {
    /// The pre-migration backup it came from.
    pub backup: BackupId,
    /// The migration's version.
    pub version: String,
    /// The table.
    pub table: String,
    /// The columns set again by primary key; empty when whole rows were
    /// inserted again.
    pub columns: Vec<String>,
    /// Rows in the backup.
    pub rows_in_backup: i64,
    /// Rows the rollback inserted or updated.
    pub rows_restored: u64,
}

/// The backup a migration's latest `data-backup` event names, if any.
pub(crate) async fn recorded_backup(
    client: &Client,
    history: &HistoryTable,
    version: &Version,
) -> Result<Option<BackupId>, Error> {
    let sql = format!(
        "SELECT detail FROM {} WHERE version = $1 AND event = 'data-backup' ORDER BY id DESC LIMIT 1",
        history.qualified_events()
    );
    let rows = client
        .query_typed(&sql, &[(version, Type::TEXT)])
        .await
        .map_err(|e| database("cannot read the migration's data-backup event", &e))?;
    Ok(rows.first().and_then(|row| {
        let detail: Option<String> = row.get(0);
        let id = detail?
            .strip_prefix("backup ")?
            .split(':')
            .next()?
            .to_string();
        BackupId::try_from(id).ok()
    }))
}

/// A backup's tables loaded into temporary tables, and the statements
/// that put them back.
pub(crate) struct PreparedRestore {
    manifest: Manifest,
    /// Each table with its temporary table and the index of its
    /// counted statement in `surrounding.after`.
    tables: Vec<(CapturedTable, String, usize)>,
    /// Run after the down script, in its transaction.
    pub surrounding: Surrounding,
}

/// Checks and loads backup `id`'s tables, ready for the down script.
pub(crate) async fn prepare(
    client: &Client,
    store: &Store,
    identities: Option<&Identities>,
    id: &BackupId,
) -> Result<PreparedRestore, Error> {
    let manifest = store.manifest(id)?;
    super::restoring::check_files(store, &manifest)?;
    let Some(captured) = manifest.captured.clone() else {
        return Err(Error::InvalidArgument(format!(
            "backup {id} is not a pre-migration backup: restore it with `schemactl backup restore {id}`"
        )));
    };
    let mut tables = Vec::new();
    let mut after = Vec::new();
    for (index, table) in captured.tables.into_iter().enumerate() {
        if table.key.is_empty() && !table.lost_columns.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{} has no primary key, so the values of {} cannot be matched to its rows: roll back without --restore-data, \
                 then put them back by hand from `schemactl backup export {id}` ({})",
                table.table,
                table.lost_columns.join(", "),
                table.file
            )));
        }
        let temporary = format!("schemactl_restore_{index}");
        load(client, store, &manifest, identities, &table, &temporary).await?;
        let counted = after.len();
        after.extend(put_back(&table, &temporary));
        tables.push((table, temporary, counted));
    }
    Ok(PreparedRestore {
        manifest,
        tables,
        surrounding: Surrounding::new(Vec::new(), after),
    })
}

/// The statements that put `table` back from `temporary`; the first one's
/// row count is what was restored.
fn put_back(table: &CapturedTable, temporary: &str) -> Vec<String> {
    let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    if table.lost_columns.is_empty() {
        let list = columns.join(", ");
        let mut statements = vec![format!(
            "INSERT INTO {} ({list}) OVERRIDING SYSTEM VALUE SELECT {list} FROM pg_temp.{temporary}",
            table.table
        )];
        for column in table.columns.iter().filter(|c| c.sequence) {
            statements.push(format!(
                "SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence('{}', '{}') AS s, (SELECT max({}) FROM {}) AS m) AS q \
                 WHERE s IS NOT NULL AND m IS NOT NULL",
                table.table.replace('\'', "''"),
                column.name.replace('\'', "''"),
                quote(&column.name),
                table.table
            ));
        }
        return statements;
    }
    let set: Vec<String> = table
        .lost_columns
        .iter()
        .map(|c| format!("{0} = s.{0}", quote(c)))
        .collect();
    let matched: Vec<String> = table
        .key
        .iter()
        .map(|k| format!("t.{0} = s.{0}", quote(k)))
        .collect();
    vec![format!(
        "UPDATE {} AS t SET {} FROM pg_temp.{temporary} AS s WHERE {}",
        table.table,
        set.join(", "),
        matched.join(" AND ")
    )]
}

/// Creates `temporary` and copies the table's stored rows into it.
async fn load(
    client: &Client,
    store: &Store,
    manifest: &Manifest,
    identities: Option<&Identities>,
    table: &CapturedTable,
    temporary: &str,
) -> Result<(), Error> {
    let failed = |e: tokio_postgres::Error| database("cannot load the backed-up rows", &e);
    let definition: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("{} {}", quote(&c.name), c.data_type))
        .collect();
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS pg_temp.{temporary}; CREATE TEMPORARY TABLE {temporary} ({})",
            definition.join(", ")
        ))
        .await
        .map_err(failed)?;
    let Some(stored) = manifest.files.iter().find(|f| f.name == table.file) else {
        return Err(Error::InvalidArgument(format!(
            "backup {}'s manifest names no file {}",
            manifest.id, table.file
        )));
    };
    let mut reader = super::restoring::open(store, manifest, stored, identities)?;
    let sink = client
        .copy_in::<_, std::io::Cursor<Vec<u8>>>(&format!("COPY pg_temp.{temporary} FROM STDIN"))
        .await
        .map_err(failed)?;
    futures_util::pin_mut!(sink);
    let mut buffer = vec![0u8; 1 << 18];
    loop {
        let read = reader
            .read(&mut buffer)
            .map_err(|e| super::restoring::unreadable(manifest, stored, e.to_string()))?;
        if read == 0 {
            break;
        }
        sink.send(std::io::Cursor::new(buffer[..read].to_vec()))
            .await
            .map_err(failed)?;
    }
    sink.finish().await.map_err(failed)?;
    Ok(())
}

impl PreparedRestore {
    /// What was put back, once the rollback committed; the temporary
    /// tables are dropped.
    pub(crate) async fn finish(self, client: &Client) -> Vec<RestoredTable> {
        let touched = self.surrounding.touched();
        let captured = self.manifest.captured.as_ref();
        let restored = self
            .tables
            .iter()
            .map(|(table, _, counted)| RestoredTable {
                backup: self.manifest.id.clone(),
                version: captured.map(|c| c.version.clone()).unwrap_or_default(),
                table: table.table.clone(),
                columns: table.lost_columns.clone(),
                rows_in_backup: table.rows,
                rows_restored: touched.get(*counted).copied().unwrap_or(0),
            })
            .collect();
        self.discard(client).await;
        restored
    }

    /// Drops the temporary tables.
    pub(crate) async fn discard(&self, client: &Client) {
        for (_, temporary, _) in &self.tables {
            let _ = client
                .batch_execute(&format!("DROP TABLE IF EXISTS pg_temp.{temporary}"))
                .await;
        }
    }
}

/// A pre-migration backup's tables loaded into temporary tables on
/// `client` (a scratch database) and counted and fingerprinted again:
/// what differs from the manifest, and the rows loaded.
pub(crate) async fn compare(
    client: &Client,
    store: &Store,
    manifest: &Manifest,
    identities: Option<&Identities>,
) -> Result<(Vec<String>, i64), Error> {
    let mut differences = Vec::new();
    let mut rows = 0;
    let tables = manifest.captured.as_ref().map(|c| c.tables.as_slice());
    for (index, table) in tables.unwrap_or_default().iter().enumerate() {
        let temporary = format!("schemactl_restore_{index}");
        load(client, store, manifest, identities, table, &temporary).await?;
        let counted = client
            .query_one(
                &format!(
                    "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM pg_temp.{temporary} t"
                ),
                &[],
            )
            .await
            .map_err(|e| database("cannot count the restored rows", &e))?;
        let (count, fingerprint): (i64, String) = (counted.get(0), counted.get(1));
        rows += count;
        if count != table.rows || fingerprint != table.fingerprint {
            differences.push(format!(
                "table {}: {count} rows (fingerprint {fingerprint}), the backup recorded {} (fingerprint {})",
                table.table, table.rows, table.fingerprint
            ));
        }
    }
    Ok((differences, rows))
}
