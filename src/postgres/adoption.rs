//! Whether a database schemactl has no history for is really new. A
//! database another tool migrated (its history table is here), or one with
//! tables of its own, already has a schema: applying every migration from
//! the first would fail on "relation already exists" halfway, or worse,
//! succeed on the always-working ones and record them. Like Flyway, the
//! first `migrate` refuses such a database and names `baseline`.

use super::foreign_history;
use super::history_table::database;
use crate::model::history::HistoryTable;
use crate::Error;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// How many of the tables found are named in messages.
const NAMED: i64 = 5;

pub use crate::model::adoption::Unadopted;

/// Why a database without schemactl history is not new, or `None` when
/// it is: another tool's history table, or tables in the schemas of the
/// schema new tables go to (the first of the search path; a tenant's
/// schema in a fleet of schemas) or the history's schema, schemactl's own
/// history tables and extensions' objects aside. Only meaningful while schemactl's history is empty.
pub async fn check(client: &Client, history: &HistoryTable) -> Result<Option<Unadopted>, Error> {
    if let Some(foreign) = foreign_history::detect(client).await? {
        return Ok(Some(Unadopted::ForeignHistory(foreign)));
    }
    let own = history.own_tables();
    let rows = client
        .query_typed(
            "SELECT c.oid::regclass::text, count(*) OVER () FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname IN (current_schema(), $3) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
               AND NOT c.relispartition \
               AND c.oid <> ALL (SELECT to_regclass(t) FROM unnest($1::text[]) t WHERE to_regclass(t) IS NOT NULL) \
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                               AND d.objid = c.oid AND d.deptype = 'e') \
             ORDER BY 1 LIMIT $2",
            &[
                (&own, Type::TEXT_ARRAY),
                (&NAMED, Type::INT8),
                (&history.schema().as_str(), Type::TEXT),
            ],
        )
        .await
        .map_err(|e| database("cannot check whether the database is empty", &e))?;
    let mut tables = Vec::new();
    let mut count = 0;
    for row in &rows {
        if let (Ok(name), Ok(total)) = (row.try_get::<_, String>(0), row.try_get::<_, i64>(1)) {
            tables.push(name);
            count = total;
        }
    }
    Ok((!tables.is_empty()).then_some(Unadopted::NonEmpty { tables, count }))
}
