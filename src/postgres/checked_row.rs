//! Reading rows of tables a person may have made or edited by hand (a
//! control database's ledger, another tool's history) without panicking: a
//! NULL where a value is needed, or a value of another type, is an error
//! naming the table, the column and the fix.

use crate::Error;
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

/// Column `column` of `row`, read from `table`; `fix` says what to do when
/// it does not hold a `T` (e.g. "drop the table; schemactl recreates it").
pub fn column<'a, T: FromSql<'a>>(
    row: &'a Row,
    column: &str,
    table: &str,
    fix: &str,
) -> Result<T, Error> {
    row.try_get(column).map_err(|e| {
        Error::refused(crate::error::refusal::RefusalKind::UnexpectedTableShape, format!(
            "cannot read column `{column}` of {table} ({e}): the table does not have the shape schemactl expects; {fix}"
        ))
    })
}
