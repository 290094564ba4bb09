//! The schema as an entity-relationship diagram (`dump --format mermaid`
//! or `dot`): its tables with their columns (primary and foreign key
//! columns marked), and each foreign key as an edge from the referencing
//! table to the referenced one, with its columns and `ON DELETE` action.
//! Read from the catalog; schemactl's own history tables are left out.

use crate::Error;
use std::fmt::Write;
use tokio_postgres::Client;

/// One table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Entity {
    /// `orders`, or `app.orders` outside `public`.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<Attribute>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Attribute {
    /// The column's name.
    pub name: String,
    /// Its type as PostgreSQL writes it.
    pub sql_type: String,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Part of a foreign key.
    pub foreign_key: bool,
    /// `NOT NULL`.
    pub not_null: bool,
}

/// One foreign key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Relation {
    /// Its name.
    pub name: String,
    /// The referencing table.
    pub from: String,
    /// Its columns.
    pub from_columns: Vec<String>,
    /// The referenced table.
    pub to: String,
    /// Its columns.
    pub to_columns: Vec<String>,
    /// `CASCADE`, `RESTRICT`, `SET NULL`, `SET DEFAULT` or `NO ACTION`.
    pub on_delete: String,
    /// Every referencing column is `NOT NULL` (each row has a parent).
    pub required: bool,
}

/// The diagram.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, schemars::JsonSchema)]
pub struct ErDiagram {
    /// The tables, by name.
    pub entities: Vec<Entity>,
    /// The foreign keys, by table and name.
    pub relations: Vec<Relation>,
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

impl ErDiagram {
    /// A Mermaid `erDiagram`: entities by a plain identifier (`app__orders`
    /// for `app.orders`), types with spaces and commas made into one word.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("erDiagram\n");
        for entity in &self.entities {
            let _ = writeln!(out, "    {} {{", mermaid_name(&entity.name));
            for column in &entity.columns {
                let keys: Vec<&str> = [(column.primary_key, "PK"), (column.foreign_key, "FK")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, key)| *key)
                    .collect();
                let _ = writeln!(
                    out,
                    "        {} {}{}",
                    mermaid_word(&column.sql_type),
                    mermaid_word(&column.name),
                    if keys.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", keys.join(","))
                    }
                );
            }
            out.push_str("    }\n");
        }
        for relation in &self.relations {
            let parent = if relation.required { "||" } else { "|o" };
            let _ = writeln!(
                out,
                "    {} {parent}--o{{ {} : \"{} ON DELETE {}\"",
                mermaid_name(&relation.to),
                mermaid_name(&relation.from),
                relation.from_columns.join(", ").replace('"', "'"),
                relation.on_delete
            );
        }
        out
    }

    /// A Graphviz digraph: a table per node (its columns as rows), an edge
    /// from each referencing table to the table it references.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph schema {\n    rankdir=LR;\n    node [shape=plaintext, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        for entity in &self.entities {
            let mut rows = format!(
                "<TR><TD BGCOLOR=\"lightgrey\" COLSPAN=\"2\"><B>{}</B></TD></TR>",
                html(&entity.name)
            );
            for column in &entity.columns {
                let key = match (column.primary_key, column.foreign_key) {
                    (true, true) => " PK FK",
                    (true, false) => " PK",
                    (false, true) => " FK",
                    _ => "",
                };
                let _ = write!(
                    rows,
                    "<TR><TD ALIGN=\"LEFT\">{}{key}</TD><TD ALIGN=\"LEFT\">{}{}</TD></TR>",
                    html(&column.name),
                    html(&column.sql_type),
                    if column.not_null { " NOT NULL" } else { "" }
                );
            }
            let _ = writeln!(
                out,
                "    {} [label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\">{rows}</TABLE>>];",
                dot_id(&entity.name)
            );
        }
        for relation in &self.relations {
            let _ = writeln!(
                out,
                "    {} -> {} [label={}];",
                dot_id(&relation.from),
                dot_id(&relation.to),
                dot_id(&format!(
                    "{} → {}\nON DELETE {}",
                    relation.from_columns.join(", "),
                    relation.to_columns.join(", "),
                    relation.on_delete
                ))
            );
        }
        out.push_str("}\n");
        out
    }
}

/// An entity name Mermaid reads as one identifier.
fn mermaid_name(name: &str) -> String {
    name.replace('.', "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A type or column name as one Mermaid word.
fn mermaid_word(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' ' => '_',
            ',' => '-',
            c if c.is_alphanumeric() || "_-()[]".contains(c) => c,
            _ => '_',
        })
        .collect()
}

/// A quoted Graphviz ID.
fn dot_id(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

/// Text inside a Graphviz HTML-like label.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagram() -> ErDiagram {
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

    #[test]
    fn mermaid_names_entities_keys_and_relations() {
        insta::assert_snapshot!(diagram().to_mermaid(), @r#"
        erDiagram
            app__orders {
                bigint id PK
                bigint customer_id FK
                numeric(10-2) total
            }
            customers {
                bigint id PK
            }
            customers ||--o{ app__orders : "customer_id ON DELETE CASCADE"
        "#);
    }

    #[test]
    fn dot_escapes_labels() {
        let dot = diagram().to_dot();
        assert!(
            dot.contains(
                "\"app.orders\" -> \"customers\" [label=\"customer_id → id\\nON DELETE CASCADE\"];"
            ),
            "{dot}"
        );
        assert!(dot.starts_with("digraph schema {") && dot.ends_with("}\n"));
    }
}
