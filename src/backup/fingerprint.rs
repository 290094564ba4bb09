//! Every table's row count and fingerprint asked of the server: for
//! backups whose archive schemactl cannot read (and those made before the
//! rows were read from the archive), in the backup's own snapshot and again
//! after a restore; and the row counts after restoring any backup. The
//! fingerprint is the sum of each row's 64-bit hash
//! (`hashtextextended` of the row's text: a third of the time `md5` takes
//! on a 1 GB table), which does not depend on the order rows come back in
//! and needs constant memory on the server (a table of any size is one
//! sequential scan).

use super::manifest::TableRows;
use crate::Error;
use tokio_postgres::Client;

/// The tables that hold rows (plain tables and partitions; not those of
/// extensions, whose rows `pg_dump` leaves to the extension).
const TABLES: &str = "SELECT format('%I.%I', n.nspname, c.relname) \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind = 'r' AND c.relpersistence <> 't' \
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' \
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                       AND d.objid = c.oid AND d.deptype = 'e') \
     ORDER BY 1";

/// Every table's rows, by name.
pub(crate) async fn read(client: &Client) -> Result<Vec<TableRows>, Error> {
    let failed = |e: tokio_postgres::Error| {
        crate::postgres::history_table::database("cannot read the tables' row counts", &e)
    };
    let names: Vec<String> = client
        .query(TABLES, &[])
        .await
        .map_err(failed)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let counts = names.iter().map(|table| {
        let sql = format!(
            "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM ONLY {table} t"
        );
        async move {
            let row = client.query_one(&sql, &[]).await.map_err(failed)?;
            Ok::<_, Error>(TableRows {
                table: table.clone(),
                rows: row.get(0),
                fingerprint: row.get(1),
            })
        }
    });
    // Pipelined on the one connection (the snapshot's), in order.
    futures_util::future::try_join_all(counts).await
}

/// Every table's row count, for a backup whose fingerprints were read from
/// its archive (and checked against it on the way into `pg_restore`): the
/// tables as [`read`] lists them, and those the manifest records, counted
/// by the server; no fingerprints.
pub(crate) async fn count(
    client: &Client,
    recorded: &[TableRows],
) -> Result<Vec<TableRows>, Error> {
    let failed = |e: tokio_postgres::Error| {
        crate::postgres::history_table::database("cannot count the restored tables' rows", &e)
    };
    let names = client
        .query(ALL_TABLES, &[])
        .await
        .map_err(failed)?
        .iter()
        .map(|row| {
            let (schema, table, extension): (String, String, bool) =
                (row.get(0), row.get(1), row.get(2));
            let display = super::archive_rows::qualified(&schema, &table);
            let quoted = format!(
                "{}.{}",
                super::capture::quote(&schema),
                super::capture::quote(&table)
            );
            (display, quoted, extension)
        })
        .filter(|(display, _, extension)| {
            !extension || recorded.iter().any(|t| &t.table == display)
        })
        .collect::<Vec<_>>();
    let counts = names.into_iter().map(|(display, quoted, _)| async move {
        let row = client
            .query_one(&format!("SELECT count(*) FROM ONLY {quoted}"), &[])
            .await
            .map_err(failed)?;
        Ok::<_, Error>(TableRows {
            table: display,
            rows: row.get(0),
            fingerprint: String::new(),
        })
    });
    futures_util::future::try_join_all(counts).await
}

/// The tables [`count`] considers, by their names as they are, with
/// whether an extension owns them.
const ALL_TABLES: &str = "SELECT n.nspname::text, c.relname::text, \
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
               AND d.objid = c.oid AND d.deptype = 'e') \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind = 'r' AND c.relpersistence <> 't' \
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'";

/// What differs between the rows recorded and the rows read; the
/// fingerprints too when `with_fingerprints`.
pub(crate) fn differences(
    recorded: &[TableRows],
    read: &[TableRows],
    with_fingerprints: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for table in recorded {
        match read.iter().find(|t| t.table == table.table) {
            None => out.push(format!("table {} is missing", table.table)),
            Some(found) if found.rows != table.rows => out.push(format!(
                "table {}: {} rows, the backup recorded {}",
                table.table, found.rows, table.rows
            )),
            Some(found) if with_fingerprints && found.fingerprint != table.fingerprint => {
                out.push(format!(
                    "table {}: the same {} rows in number, but other values",
                    table.table, table.rows
                ))
            }
            Some(_) => {}
        }
    }
    for table in read {
        if !recorded.iter().any(|t| t.table == table.table) {
            out.push(format!("table {} was not in the backup", table.table));
        }
    }
    out
}
