//! The schema as an entity-relationship diagram (`dump --format mermaid`
//! or `dot`): its tables with their columns (primary and foreign key
//! columns marked), and each foreign key as an edge from the referencing
//! table to the referenced one, with its columns and `ON DELETE` action.
//! Read from the catalog; schemactl's own history tables are left out.

mod svg;
mod text;

use crate::Error;
use tokio_postgres::Client;

/// One table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct Entity {
    /// `orders`, or `app.orders` outside `public`.
    pub(crate) name: String,
    /// Its columns, in order.
    pub(crate) columns: Vec<Attribute>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct Attribute {
    /// The column's name.
    pub(crate) name: String,
    /// Its type as PostgreSQL writes it.
    pub(crate) sql_type: String,
    /// Part of the primary key.
    pub(crate) primary_key: bool,
    /// Part of a foreign key.
    pub(crate) foreign_key: bool,
    /// `NOT NULL`.
    pub(crate) not_null: bool,
}

/// One foreign key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct Relation {
    /// Its name.
    pub(crate) name: String,
    /// The referencing table.
    pub(crate) from: String,
    /// Its columns.
    pub(crate) from_columns: Vec<String>,
    /// The referenced table.
    pub(crate) to: String,
    /// Its columns.
    pub(crate) to_columns: Vec<String>,
    /// `CASCADE`, `RESTRICT`, `SET NULL`, `SET DEFAULT` or `NO ACTION`.
    pub(crate) on_delete: String,
    /// Every referencing column is `NOT NULL` (each row has a parent).
    pub(crate) required: bool,
}

/// The diagram: read with `ErDiagram::of_database`, drawn with
/// [`ErDiagram::to_mermaid`], [`ErDiagram::to_dot`] or [`ErDiagram::to_svg`],
/// or serialised (its tables with their columns, its foreign keys).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, schemars::JsonSchema)]
pub struct ErDiagram {
    /// The tables, by name.
    pub(crate) entities: Vec<Entity>,
    /// The foreign keys, by table and name.
    pub(crate) relations: Vec<Relation>,
}

impl ErDiagram {
    /// How many tables it shows.
    pub fn table_count(&self) -> usize {
        self.entities.len()
    }

    /// How many foreign keys it shows.
    pub fn foreign_key_count(&self) -> usize {
        self.relations.len()
    }
}

const TABLES: &str = "SELECT c.oid::bigint, CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END,
        n.nspname || '.' || c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 2";

const COLUMNS: &str = "SELECT a.attrelid::bigint, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
        EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'p' AND a.attnum = ANY (k.conkey)),
        EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'f' AND a.attnum = ANY (k.conkey))
    FROM pg_attribute a
    WHERE a.attrelid = ANY ($1::bigint[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attrelid, a.attnum";

const FOREIGN_KEYS: &str = "SELECT k.conname::text, k.conrelid::bigint, k.confrelid::bigint,
        ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
        ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i),
        CASE k.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END,
        NOT EXISTS (SELECT 1 FROM unnest(k.conkey) u(n) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n WHERE NOT a.attnotnull)
    FROM pg_constraint k
    WHERE k.contype = 'f' AND k.conrelid = ANY ($1::bigint[]::oid[]) AND k.conparentid = 0
    ORDER BY k.conrelid, k.conname";

/// Reads the diagram of the database `client` is connected to, leaving out
/// the `excluded` tables (`schema.table`).
pub(crate) async fn read(client: &Client, excluded: &[String]) -> Result<ErDiagram, Error> {
    let failed = |e: tokio_postgres::Error| {
        crate::postgres::history_table::database("cannot read the schema for its diagram", &e)
    };
    let tables: Vec<(i64, String)> = client
        .query(TABLES, &[])
        .await
        .map_err(failed)?
        .iter()
        .filter(|row| !excluded.contains(&row.get::<_, String>(2)))
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let oids: Vec<i64> = tables.iter().map(|(oid, _)| *oid).collect();
    let name_of = |oid: i64| {
        tables
            .iter()
            .find(|(o, _)| *o == oid)
            .map(|(_, n)| n.clone())
    };
    let mut entities: Vec<Entity> = tables
        .iter()
        .map(|(_, name)| Entity {
            name: name.clone(),
            columns: Vec::new(),
        })
        .collect();
    for row in client.query(COLUMNS, &[&oids]).await.map_err(failed)? {
        let Some(table) = name_of(row.get(0)) else {
            continue;
        };
        if let Some(entity) = entities.iter_mut().find(|e| e.name == table) {
            entity.columns.push(Attribute {
                name: row.get(1),
                sql_type: row.get(2),
                not_null: row.get(3),
                primary_key: row.get(4),
                foreign_key: row.get(5),
            });
        }
    }
    let mut relations = Vec::new();
    for row in client.query(FOREIGN_KEYS, &[&oids]).await.map_err(failed)? {
        let (Some(from), Some(to)) = (name_of(row.get(1)), name_of(row.get(2))) else {
            continue;
        };
        relations.push(Relation {
            name: row.get(0),
            from,
            from_columns: row.get(3),
            to,
            to_columns: row.get(4),
            on_delete: row.get(5),
            required: row.get(6),
        });
    }
    Ok(ErDiagram {
        entities,
        relations,
    })
}

/// Text safe in SVG and HTML: every `&`, `<`, `>`, `"` and `'` as an
/// entity (quick-xml's escaping), so that names can never become markup.
fn markup(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// Two tables and the foreign key between them, for the renderers' tests.
#[cfg(test)]
fn sample() -> ErDiagram {
    let column = |name: &str, sql_type: &str, primary_key, foreign_key| Attribute {
        name: name.into(),
        sql_type: sql_type.into(),
        primary_key,
        foreign_key,
        not_null: true,
    };
    ErDiagram {
        entities: vec![
            Entity {
                name: "app.orders".into(),
                columns: vec![
                    column("id", "bigint", true, false),
                    column("customer_id", "bigint", false, true),
                    column("total", "numeric(10,2)", false, false),
                ],
            },
            Entity {
                name: "customers".into(),
                columns: vec![column("id", "bigint", true, false)],
            },
        ],
        relations: vec![Relation {
            name: "orders_customer_id_fkey".into(),
            from: "app.orders".into(),
            from_columns: vec!["customer_id".into()],
            to: "customers".into(),
            to_columns: vec!["id".into()],
            on_delete: "CASCADE".into(),
            required: true,
        }],
    }
}
