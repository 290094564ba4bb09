//! The data side of `verify --data`: give every empty table a few generated
//! rows ([`fill_empty_tables`]), read a fingerprint of every table's rows
//! ([`read`]: a row count, a hash of the rows and one per column, each
//! independent of row order and of column order), and tell from two
//! fingerprints whether a round trip kept the rows ([`compare`]).
//!
//! Values are made from each column's type (numbers, text within its
//! length, booleans, dates and times, intervals, UUIDs, JSON, enums, arrays,
//! network addresses, `bytea`, `tsvector`, pgvector's `vector`), domains
//! through their base type, and foreign keys from rows of the referenced
//! table. Identity, serial and generated columns get theirs from the
//! server. Three rows are tried, then one, then one with only what is
//! required; a table none of those fit (a CHECK that names its values, a
//! required column of a type without a generator) is listed with
//! PostgreSQL's reason, never guessed.

use crate::postgres::describe;
use crate::postgres::text_rows::text_rows;
use crate::Error;
use std::collections::{BTreeMap, BTreeSet};
use tokio_postgres::Client;

/// A table `verify --data` could not give rows, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnfillableTable {
    /// `public.orders`.
    pub table: String,
    /// PostgreSQL's error for the last attempt, or what is missing.
    pub reason: String,
}

/// Whether a migration's rows survive its up and down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataClass {
    /// Schema and rows restored.
    Reversible,
    /// Schema restored, rows lost or changed (a dropped column re-added
    /// empty, rows deleted by the up).
    Lossy,
    /// No down script, or it fails or does not restore the schema.
    Irreversible,
}

/// The data verdict of one migration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DataVerdict {
    /// The class.
    pub class: DataClass,
    /// Why, when irreversible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The tables whose rows differ, when lossy.
    pub tables: Vec<TableChange>,
}

impl DataVerdict {
    /// An irreversible verdict.
    pub fn irreversible(reason: &str) -> Self {
        Self {
            class: DataClass::Irreversible,
            reason: Some(reason.to_string()),
            tables: Vec::new(),
        }
    }
}

/// How one table's rows differ after a round trip.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableChange {
    /// `public.orders`.
    pub table: String,
    /// Rows before the up.
    pub rows_before: i64,
    /// Rows after the down.
    pub rows_after: i64,
    /// The columns whose values differ (or are gone).
    pub columns: Vec<String>,
}

/// The fingerprint of one table's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    rows: i64,
    /// Hash of the rows, each with its columns in name order.
    whole: String,
    /// Hash of each column's values, by column name.
    columns: BTreeMap<String, String>,
}

/// Every table's fingerprint, by qualified name.
pub type TableRows = BTreeMap<String, Fingerprint>;

/// One column of a table to fill or read.
#[derive(Debug, Clone)]
struct Column {
    table: String,
    name: String,
    required: bool,
    server_made: bool,
    has_default: bool,
    type_sql: String,
    base: TypeInfo,
    element: Option<TypeInfo>,
}

#[derive(Debug, Clone)]
struct TypeInfo {
    name: String,
    category: String,
    sql: String,
    typmod: i32,
}

/// The columns of the tables to fill (`leaves` false: partitioned parents
/// and plain tables, as rows are inserted through the parent) or to read
/// (`leaves` true: plain tables and partitions, which hold the rows).
async fn columns(client: &Client, excluded: &[String], leaves: bool) -> Result<Vec<Column>, Error> {
    let excluded_sql = excluded
        .iter()
        .map(|name| format!("'{}'", name.replace('\'', "''")))
        .chain(std::iter::once("''".to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    let kinds = if leaves {
        "c.relkind = 'r'"
    } else {
        "(c.relkind = 'p' OR (c.relkind = 'r' AND NOT c.relispartition))"
    };
    let sql = format!(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname),
                a.attnotnull::text,
                (a.attidentity <> '' OR a.attgenerated <> '' OR coalesce(pg_get_expr(ad.adbin, ad.adrelid) LIKE 'nextval(%', false))::text,
                (ad.adbin IS NOT NULL)::text,
                format_type(a.atttypid, a.atttypmod),
                bt.typname, bt.typcategory, format_type(bt.oid, NULL), (CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END)::text,
                et.typname, et.typcategory, format_type(et.oid, NULL)
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         JOIN pg_type t ON t.oid = a.atttypid
         JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
         LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
         LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
         WHERE {kinds} AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
           AND (quote_ident(n.nspname) || '.' || quote_ident(c.relname)) NOT IN ({excluded_sql})
           AND (n.nspname || '.' || c.relname) NOT IN ({excluded_sql})
         ORDER BY 1, a.attnum"
    );
    let rows = text_rows(client, &sql, "cannot read the tables' columns").await?;
    Ok(rows
        .into_iter()
        .map(|r| Column {
            table: r[0].clone(),
            name: r[1].clone(),
            required: r[2] == "true",
            server_made: r[3] == "true",
            has_default: r[4] == "true",
            type_sql: r[5].clone(),
            base: TypeInfo {
                name: r[6].clone(),
                category: r[7].clone(),
                sql: r[8].clone(),
                typmod: r[9].parse().unwrap_or(-1),
            },
            element: (!r[10].is_empty()).then(|| TypeInfo {
                name: r[10].clone(),
                category: r[11].clone(),
                sql: r[12].clone(),
                typmod: -1,
            }),
        })
        .collect())
}

/// An expression of type `info` for row `g.i`, when schemactl can make one.
/// Dates and times also grow with the column's `ordinal`, so that a later
/// column (`ends_at`) is later than an earlier one (`starts_at`).
fn value(info: &TypeInfo, element: Option<&TypeInfo>, ordinal: usize) -> Option<String> {
    let cast = &info.sql;
    Some(match (info.category.as_str(), info.name.as_str()) {
        ("N", _) => format!("(g.i)::{cast}"),
        ("S", "bpchar" | "varchar") if info.typmod > 4 => {
            format!("left('v' || g.i, {})::{cast}", info.typmod - 4)
        }
        ("S", _) => format!("('v' || g.i)::{cast}"),
        ("B", _) => "(g.i % 2 = 1)".to_string(),
        ("D", _) => format!(
            "('2024-01-01 00:00:00+00'::timestamptz + (g.i * 100 + {ordinal}) * interval '1 day 1 second')::{cast}"
        ),
        ("T", _) => format!("(g.i * interval '1 minute')::{cast}"),
        ("E", _) => format!(
            "(enum_range(NULL::{cast}))[1 + (g.i - 1) % cardinality(enum_range(NULL::{cast}))]"
        ),
        ("I", _) => format!("('10.0.' || g.i || '.0/24')::{cast}"),
        ("R", _) => format!("'empty'::{cast}"),
        ("G", "point") => "point(g.i, g.i)".to_string(),
        ("U", "uuid") => "md5('schemactl' || g.i)::uuid".to_string(),
        ("U", "json" | "jsonb") => format!("json_build_object('n', g.i)::{cast}"),
        ("U", "bytea") => "decode(md5(g.i::text), 'hex')".to_string(),
        ("U", "xml") => "('<v>' || g.i || '</v>')::xml".to_string(),
        ("U", "tsvector") => "to_tsvector('simple', 'v' || g.i)".to_string(),
        ("U", "macaddr") => "('08:00:2b:01:02:' || lpad(g.i::text, 2, '0'))::macaddr".to_string(),
        ("U", "vector" | "halfvec") if info.typmod > 0 => {
            format!("array_fill(g.i::real, ARRAY[{}])::{cast}", info.typmod)
        }
        ("A", _) => match element.and_then(|e| value(e, None, ordinal)) {
            Some(inner) => format!("ARRAY[{inner}]::{cast}"),
            None => format!("'{{}}'::{cast}"),
        },
        _ => return None,
    })
}

/// The values single-column CHECK constraints list (`status IN ('open',
/// 'closed')`, which PostgreSQL keeps as `= ANY (ARRAY[…])`), by table and
/// column.
async fn listed_values(client: &Client) -> Result<BTreeMap<(String, String), Vec<String>>, Error> {
    let sql = "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname), pg_get_constraintdef(k.oid)
               FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
               WHERE k.contype = 'c' AND array_length(k.conkey, 1) = 1";
    let mut out = BTreeMap::new();
    for row in text_rows(client, sql, "cannot read the CHECK constraints").await? {
        if let Some(values) = any_array_literals(&row[2]) {
            out.insert((row[0].clone(), row[1].clone()), values);
        }
    }
    Ok(out)
}

/// The literals of the first `= ANY (ARRAY[…])` of a constraint, as written
/// (`'open'::text`).
fn any_array_literals(definition: &str) -> Option<Vec<String>> {
    let start = definition.find("= ANY (ARRAY[")? + "= ANY (ARRAY[".len();
    let rest = &definition[start..];
    let mut values = Vec::new();
    let mut chars = rest.char_indices().peekable();
    let mut current = String::new();
    let mut in_string = false;
    while let Some((_, ch)) = chars.next() {
        match ch {
            '\'' if in_string && chars.peek().map(|(_, c)| *c) == Some('\'') => {
                current.push_str("''");
                chars.next();
            }
            '\'' => {
                in_string = !in_string;
                current.push(ch);
            }
            ',' | ']' if !in_string => {
                let value = current.trim().to_string();
                if !value.starts_with('\'') {
                    return None;
                }
                values.push(value);
                current.clear();
                if ch == ']' {
                    return (!values.is_empty()).then_some(values);
                }
            }
            _ => current.push(ch),
        }
    }
    None
}

/// A foreign key of a table: its columns and where they point.
struct ForeignKey {
    columns: Vec<String>,
    table: String,
    referenced: Vec<String>,
}

async fn foreign_keys(client: &Client) -> Result<BTreeMap<String, Vec<ForeignKey>>, Error> {
    let sql = "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                      (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.i) FROM unnest(f.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.n),
                      quote_ident(rn.nspname) || '.' || quote_ident(r.relname),
                      (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.i) FROM unnest(f.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.n)
               FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_class r ON r.oid = f.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
               WHERE f.contype = 'f' AND f.conparentid = 0
               ORDER BY 1, f.conname";
    let mut out: BTreeMap<String, Vec<ForeignKey>> = BTreeMap::new();
    for row in text_rows(client, sql, "cannot read the foreign keys").await? {
        out.entry(row[0].clone()).or_default().push(ForeignKey {
            columns: row[1].split(',').map(str::to_string).collect(),
            table: row[2].clone(),
            referenced: row[3].split(',').map(str::to_string).collect(),
        });
    }
    Ok(out)
}

/// Gives every empty table (outside `excluded`) a few generated rows,
/// referenced tables first; returns the tables that could not be filled.
pub async fn fill_empty_tables(
    client: &Client,
    excluded: &[String],
) -> Result<Vec<UnfillableTable>, Error> {
    let columns = columns(client, excluded, false).await?;
    let mut tables: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for column in columns {
        tables.entry(column.table.clone()).or_default().push(column);
    }
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let emptiness = tables
        .keys()
        .map(|t| {
            format!(
                "SELECT '{}' WHERE NOT EXISTS (SELECT 1 FROM {t})",
                t.replace('\'', "''")
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut empty: BTreeSet<String> =
        text_rows(client, &emptiness, "cannot tell which tables are empty")
            .await?
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
    let keys = foreign_keys(client).await?;
    let listed = listed_values(client).await?;
    let mut unfillable = Vec::new();
    // Referenced tables first: a table waits while a table it references
    // is still empty and fillable; a cycle is filled as it stands.
    while !empty.is_empty() {
        let ready: Vec<String> = empty
            .iter()
            .filter(|t| {
                keys.get(*t)
                    .into_iter()
                    .flatten()
                    .all(|k| k.table == **t || !empty.contains(&k.table))
            })
            .cloned()
            .collect();
        let batch = if ready.is_empty() {
            empty.iter().cloned().collect()
        } else {
            ready
        };
        for table in batch {
            empty.remove(&table);
            let no_keys = Vec::new();
            let table_keys = keys.get(&table).unwrap_or(&no_keys);
            if let Err(reason) = fill(client, &table, &tables[&table], table_keys, &listed).await {
                unfillable.push(UnfillableTable { table, reason });
            }
        }
    }
    Ok(unfillable)
}

/// Inserts rows into one empty table: three, then one, then one with only
/// the required columns.
async fn fill(
    client: &Client,
    table: &str,
    columns: &[Column],
    keys: &[ForeignKey],
    listed: &BTreeMap<(String, String), Vec<String>>,
) -> Result<(), String> {
    let mut last_error = String::new();
    for (rows, only_required) in [(3, false), (1, false), (1, true)] {
        let mut names = Vec::new();
        let mut values = Vec::new();
        let mut joins = Vec::new();
        let mut missing = None;
        for (ordinal, column) in columns.iter().enumerate() {
            if column.server_made {
                continue;
            }
            let allowed = listed.get(&(table.to_string(), column.name.clone()));
            let key = keys.iter().enumerate().find_map(|(k, key)| {
                key.columns
                    .iter()
                    .position(|c| *c == column.name)
                    .map(|p| (k, p))
            });
            let value = match key {
                Some((k, position)) => Some(format!("fk{k}.v{position}")),
                None if only_required && (!column.required || column.has_default) => None,
                None => match allowed {
                    Some(values) => Some(format!(
                        "(ARRAY[{}])[1 + (g.i - 1) % {}]",
                        values.join(", "),
                        values.len()
                    )),
                    // An e-mail address is the one text format common enough to guess.
                    None if column.base.category == "S" && column.name.contains("email") => {
                        Some("'v' || g.i || '@example.com'".to_string())
                    }
                    None => value(&column.base, column.element.as_ref(), ordinal),
                }
                .map(|v| format!("({v})::{}", column.type_sql)),
            };
            match value {
                Some(value) => {
                    names.push(column.name.clone());
                    values.push(value);
                }
                None if column.required && !column.has_default => {
                    missing = Some(format!(
                        "column {} is NOT NULL and of type {}, which schemactl cannot make values for",
                        column.name, column.type_sql
                    ));
                }
                None => {}
            }
        }
        if let Some(reason) = missing {
            return Err(reason);
        }
        for (k, key) in keys.iter().enumerate() {
            let picked = key
                .referenced
                .iter()
                .enumerate()
                .map(|(p, c)| format!("{c} AS v{p}"))
                .collect::<Vec<_>>()
                .join(", ");
            let order = key.referenced.join(", ");
            joins.push(format!(
                "LEFT JOIN LATERAL (SELECT {picked} FROM {t} ORDER BY {order} OFFSET (g.i - 1) % greatest((SELECT count(*) FROM {t}), 1) LIMIT 1) fk{k} ON true",
                t = key.table
            ));
        }
        let sql = if names.is_empty() {
            format!("INSERT INTO {table} DEFAULT VALUES;").repeat(rows)
        } else {
            format!(
                "INSERT INTO {table} ({}) SELECT {} FROM generate_series(1, {rows}) AS g(i) {}",
                names.join(", "),
                values.join(", "),
                joins.join(" ")
            )
        };
        match client.batch_execute(&sql).await {
            Ok(()) => return Ok(()),
            Err(e) => last_error = describe(&e),
        }
    }
    Err(last_error)
}

/// The fingerprint of every table's rows (partitions one by one).
pub async fn read(client: &Client, excluded: &[String]) -> Result<TableRows, Error> {
    let columns = columns(client, excluded, true).await?;
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for column in columns {
        tables.entry(column.table).or_default().push(column.name);
    }
    if tables.is_empty() {
        return Ok(TableRows::new());
    }
    let hash =
        |expr: &str| format!("md5(coalesce(string_agg({expr}, E'\\n' ORDER BY {expr}), ''))");
    let sql = tables
        .iter()
        .map(|(table, columns)| {
            let mut sorted = columns.clone();
            sorted.sort();
            let texts: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("coalesce({c}::text, '\\N') AS c{i}"))
                .collect();
            let hashes: Vec<String> = (0..columns.len()).map(|i| hash(&format!("c{i}"))).collect();
            format!(
                "SELECT '{}', concat_ws(' ', count(*), {}, {}) FROM (SELECT ROW({})::text AS r, {} FROM {table}) x",
                table.replace('\'', "''"),
                hash("r"),
                hashes.join(", "),
                sorted.join(", "),
                texts.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut out = TableRows::new();
    for row in text_rows(client, &sql, "cannot read the tables' rows").await? {
        let mut parts = row[1].split(' ');
        let rows = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let whole = parts.next().unwrap_or_default().to_string();
        let names = &tables[&row[0]];
        let columns = names
            .iter()
            .cloned()
            .zip(parts.map(str::to_string))
            .collect();
        out.insert(
            row[0].clone(),
            Fingerprint {
                rows,
                whole,
                columns,
            },
        );
    }
    Ok(out)
}

/// Whether the rows `before` an up are the rows `after` its down (tables
/// that are gone are a schema difference, reported by the schema check).
pub fn compare(before: &TableRows, after: &TableRows) -> DataVerdict {
    let mut tables = Vec::new();
    for (table, old) in before {
        let Some(new) = after.get(table) else {
            continue;
        };
        if old == new {
            continue;
        }
        let mut columns: Vec<String> = old
            .columns
            .iter()
            .filter(|(name, hash)| new.columns.get(*name) != Some(*hash))
            .map(|(name, _)| name.clone())
            .collect();
        if columns.is_empty() && old.rows == new.rows && old.whole != new.whole {
            columns.push("(values moved between rows)".to_string());
        }
        tables.push(TableChange {
            table: table.clone(),
            rows_before: old.rows,
            rows_after: new.rows,
            columns,
        });
    }
    DataVerdict {
        class: if tables.is_empty() {
            DataClass::Reversible
        } else {
            DataClass::Lossy
        },
        reason: None,
        tables,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(category: &str, name: &str, sql: &str, typmod: i32) -> TypeInfo {
        TypeInfo {
            name: name.into(),
            category: category.into(),
            sql: sql.into(),
            typmod,
        }
    }

    #[test]
    fn values_respect_lengths_and_arrays_use_their_element() {
        let varchar = info("S", "varchar", "character varying", 7);
        assert_eq!(
            value(&varchar, None, 0).as_deref(),
            Some("left('v' || g.i, 3)::character varying")
        );
        let array = info("A", "_int4", "integer[]", -1);
        let int = info("N", "int4", "integer", -1);
        assert_eq!(
            value(&array, Some(&int), 0).as_deref(),
            Some("ARRAY[(g.i)::integer]::integer[]")
        );
        assert_eq!(value(&info("X", "unknown", "x", -1), None, 0), None);
        assert_eq!(
            any_array_literals("CHECK ((status = ANY (ARRAY['open'::text, 'it''s'::text])))"),
            Some(vec![
                "'open'::text".to_string(),
                "'it''s'::text".to_string()
            ])
        );
        assert_eq!(any_array_literals("CHECK ((n > 0))"), None);
    }

    #[test]
    fn a_changed_column_makes_the_table_lossy() {
        let fingerprint = |note: &str| Fingerprint {
            rows: 3,
            whole: format!("w{note}"),
            columns: [
                ("id".to_string(), "a".to_string()),
                ("note".to_string(), note.to_string()),
            ]
            .into_iter()
            .collect(),
        };
        let before: TableRows = [("public.t".to_string(), fingerprint("x"))].into();
        assert_eq!(compare(&before, &before).class, DataClass::Reversible);
        let after: TableRows = [("public.t".to_string(), fingerprint("y"))].into();
        let verdict = compare(&before, &after);
        assert_eq!(verdict.class, DataClass::Lossy);
        assert_eq!(verdict.tables[0].columns, vec!["note".to_string()]);
    }
}
