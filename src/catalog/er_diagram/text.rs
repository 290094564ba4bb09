//! The diagram as text for other tools: Mermaid's `erDiagram` and
//! Graphviz's DOT.

use super::ErDiagram;
use quick_xml::escape::partial_escape as html;
use std::fmt::Write;

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

#[cfg(test)]
mod tests {
    use super::super::sample as diagram;

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
