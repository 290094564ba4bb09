//! History tables of other migration tools. A database another tool has
//! migrated shows every schemactl migration as pending, and `migrate` would
//! fail on "relation already exists": when schemactl has no history of its
//! own but one of these tables exists, schemactl says so and names the
//! adoption command.

use super::history_table::database;
use crate::Error;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// The history tables of other tools, by the tool's name.
pub const KNOWN: &[(&str, &str)] = &[
    ("sqlx", "_sqlx_migrations"),
    ("diesel", "__diesel_schema_migrations"),
    ("golang-migrate or dbmate", "schema_migrations"),
    ("goose", "goose_db_version"),
    ("Flyway", "flyway_schema_history"),
    ("refinery", "refinery_schema_history"),
    ("pop", "schema_migration"),
];

pub use crate::model::adoption::ForeignHistory;

/// The first known foreign history table on the search path, if any.
pub async fn detect(client: &Client) -> Result<Option<ForeignHistory>, Error> {
    let names: Vec<&str> = KNOWN.iter().map(|(_, table)| *table).collect();
    let rows = client
        .query_typed(
            "SELECT name FROM unnest($1::text[]) WITH ORDINALITY AS k(name, n) \
             WHERE to_regclass(quote_ident(name)) IS NOT NULL ORDER BY n LIMIT 1",
            &[(&names, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(|e| database("cannot look for other tools' history tables", &e))?;
    let found: Option<String> = rows.first().and_then(|row| row.try_get(0).ok());
    Ok(found.and_then(|name| {
        KNOWN
            .iter()
            .find(|(_, table)| *table == name)
            .map(|(tool, table)| ForeignHistory { tool, table })
    }))
}
