//! Real table sizes for lint findings: with a database (the production
//! replica a team already has), each finding about a table's locks or rows
//! says how big the table is, from the catalog's statistics (`reltuples`,
//! `pg_total_relation_size`; no row is read), and findings on small tables
//! can be let through (`--min-table-rows`).

use super::Finding;
use crate::Error;
use std::collections::HashMap;

/// A table's size as the catalog knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct TableSize {
    /// The planner's row estimate; `None` when the table was never analysed.
    pub rows: Option<i64>,
    /// Bytes on disk, with indexes and TOAST.
    pub bytes: i64,
}

impl TableSize {
    /// `84 M rows, 11 GB`.
    pub fn describe(&self) -> String {
        let rows = match self.rows {
            Some(rows) => format!("{} rows", count(rows as f64)),
            None => "rows unknown (never analysed)".into(),
        };
        format!("{rows}, {}", bytes(self.bytes as f64))
    }
}

fn count(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.1} G", n / 1e9),
        n if n >= 1e6 => format!("{:.0} M", n / 1e6),
        n if n >= 1e4 => format!("{:.0} k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Every table, partitioned table and materialized view of the configured
/// database outside the system schemas, by the name lint uses (`orders`,
/// or `app.orders` outside `public`).
pub(crate) async fn of_configured_database(
    connection: &crate::config::ConnectOptions,
    notify: &mut (dyn FnMut(crate::runner::notice::Notice) + Send),
) -> Result<HashMap<String, TableSize>, Error> {
    let session = crate::runner::session::connect(connection, notify).await?;
    read(&session.client).await
}

impl Annotated {
    /// Reads the table sizes of the database `connection` reaches and
    /// annotates `findings` with them: each gets its table size, those on
    /// tables with fewer than `min_rows` rows are dropped, the biggest
    /// tables come first.
    pub async fn from_database(
        findings: &mut Vec<Finding>,
        connection: &crate::config::ConnectOptions,
        min_rows: Option<i64>,
        notify: &mut (dyn FnMut(crate::runner::notice::Notice) + Send),
    ) -> Result<Self, Error> {
        let sizes = of_configured_database(connection, notify).await?;
        Ok(annotate(findings, &sizes, min_rows))
    }
}

/// The size of every table the connection's database holds.
pub(crate) async fn read(
    client: &tokio_postgres::Client,
) -> Result<HashMap<String, TableSize>, Error> {
    let rows = client
        .query(
            "SELECT n.nspname, c.relname, c.reltuples::float8, pg_total_relation_size(c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'm')
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg_toast%'",
            &[],
        )
        .await
        .map_err(|e| {
            Error::InvalidArgument(format!(
                "cannot read table sizes from the database ({e}): the role needs to read pg_class; lint without --table-sizes/--database-url to skip them"
            ))
        })?;
    Ok(rows
        .iter()
        .map(|row| {
            let (schema, table): (String, String) = (row.get(0), row.get(1));
            let tuples: f64 = row.get(2);
            let name = if schema == "public" {
                table
            } else {
                format!("{schema}.{table}")
            };
            let size = TableSize {
                rows: (tuples >= 0.0).then_some(tuples as i64),
                bytes: row.get(3),
            };
            (name, size)
        })
        .collect())
}

/// What annotating findings with table sizes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Annotated {
    /// Findings given a size.
    pub sized: usize,
    /// Findings dropped because their table has fewer rows than the threshold.
    pub below_threshold: usize,
}

/// Puts each finding's table size in it (field and message), drops those on
/// tables with fewer than `min_rows` rows, and ranks the rest: the biggest
/// tables first, then the findings without a size in file order.
pub(crate) fn annotate(
    findings: &mut Vec<Finding>,
    sizes: &HashMap<String, TableSize>,
    min_rows: Option<i64>,
) -> Annotated {
    let mut annotated = Annotated::default();
    for finding in findings.iter_mut() {
        let Some(size) = finding.table.as_ref().and_then(|t| sizes.get(t)) else {
            continue;
        };
        finding.table_size = Some(*size);
        finding.message = format!(
            "{} [{}: {}]",
            finding.message,
            finding.table.as_deref().unwrap_or_default(),
            size.describe()
        );
        annotated.sized += 1;
    }
    if let Some(min_rows) = min_rows {
        let before = findings.len();
        findings.retain(|f| {
            f.table_size
                .is_none_or(|s| s.rows.is_none_or(|rows| rows >= min_rows))
        });
        annotated.below_threshold = before - findings.len();
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.table_size.map_or(-1, |s| s.bytes)));
    annotated
}

#[cfg(test)]
mod tests {
    use super::{bytes, count, TableSize};

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(count(84_000_000.0), "84 M");
        assert_eq!(count(950.0), "950");
        assert_eq!(bytes(11.0 * 1024.0 * 1024.0 * 1024.0), "11.0 GB");
        let size = TableSize {
            rows: None,
            bytes: 8192,
        };
        assert_eq!(size.describe(), "rows unknown (never analysed), 8.0 kB");
    }
}
