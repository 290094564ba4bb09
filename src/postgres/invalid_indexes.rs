//! Indexes PostgreSQL marks INVALID: what a `CREATE INDEX CONCURRENTLY`
//! that failed or was killed leaves behind. Such an index is not used by
//! queries but is still maintained on every write, and a later `CREATE
//! INDEX IF NOT EXISTS` of the same name silently skips it, so schemactl
//! shows them wherever it reports on a database.

use super::history_table::database;
use crate::Error;
use tokio_postgres::Client;

pub use crate::runner::contention::InvalidIndex;

/// Every invalid index outside the system schemas.
pub async fn find(client: &Client) -> Result<Vec<InvalidIndex>, Error> {
    let rows = client
        .query_typed(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname), \
                    quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = ic.relnamespace \
             WHERE NOT i.indisvalid AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' \
             ORDER BY 1",
            &[],
        )
        .await
        .map_err(|e| database("cannot look for invalid indexes", &e))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(InvalidIndex {
                index: row.try_get(0).ok()?,
                table: row.try_get(1).ok()?,
            })
        })
        .collect())
}
