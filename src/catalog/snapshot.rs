//! The snapshot model and its text form.

use crate::config::Ignored;
use std::fmt::Write;

/// One object of a schema: its kind, its qualified name, and the lines that
/// define it (already normalised: deterministic order, canonical syntax from
/// PostgreSQL's own `pg_get_*def` functions).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub(crate) struct SchemaObject {
    /// `table`, `index`, `function`, …
    pub kind: String,
    /// `public.users`, `public.users_email_key`, `public.f(integer)`, …
    pub name: String,
    /// The definition, one fact per line.
    pub lines: Vec<String>,
    /// For tables: the column names in their physical order. Kept apart from
    /// `lines` (which list columns by name) so that a column that only moved
    /// is told apart from one that changed.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub column_order: Vec<String>,
}

/// A whole schema, objects sorted by kind and name.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Snapshot {
    /// The objects.
    pub(crate) objects: Vec<SchemaObject>,
}

impl Snapshot {
    /// Sorts the objects (kinds in a fixed, readable order) and their lines.
    pub fn normalise(mut self) -> Self {
        self.objects
            .sort_by(|a, b| (kind_rank(&a.kind), &a.name).cmp(&(kind_rank(&b.kind), &b.name)));
        self
    }

    /// Whether the schema has no objects besides the `public` schema (and
    /// its privileges, which every database has).
    pub fn is_empty(&self) -> bool {
        self.objects.iter().all(|o| {
            (o.kind == "schema" && o.name == "public")
                || (matches!(o.kind.as_str(), "privileges" | "owner") && o.name == "schema public")
        })
    }

    /// Only the objects of schema `schema`: the schema itself and every
    /// object whose name is qualified by it (`table app.accounts`,
    /// `owner table app.accounts`, `constraint app.t.t_pkey`).
    pub fn in_schema(mut self, schema: &str) -> Self {
        let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
        let names = [schema, quoted.as_str()];
        let qualified = |word: &str| {
            names.iter().any(|name| {
                word.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
        };
        // The schema itself: `schema app`, `owner schema app`.
        let is_the_schema = |o: &SchemaObject| {
            let last = o.name.split_whitespace().last().unwrap_or_default();
            names.contains(&last) && (o.kind == "schema" || o.name.starts_with("schema "))
        };
        self.objects
            .retain(|o| is_the_schema(o) || o.name.split_whitespace().any(qualified));
        self
    }

    /// The snapshot without the parts `ignored` names and the objects
    /// `excluded` matches.
    pub fn without(
        mut self,
        ignored: &std::collections::BTreeSet<Ignored>,
        excluded: &[crate::config::ObjectPattern],
    ) -> Self {
        self.objects.retain(|o| match o.kind.as_str() {
            "privileges" | "default privileges" => !ignored.contains(&Ignored::Privileges),
            "owner" => !ignored.contains(&Ignored::Ownership),
            _ => true,
        });
        self.excluding(excluded)
    }

    /// The text form: one block per object, tables with their columns in
    /// physical order, stable enough to diff and snapshot.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for object in &self.objects {
            let _ = writeln!(out, "{} {}", object.kind, object.name);
            if object.column_order.is_empty() {
                for line in &object.lines {
                    let _ = writeln!(out, "  {line}");
                }
            } else {
                for column in &object.column_order {
                    let prefix = format!("column {column} ");
                    for line in object
                        .lines
                        .iter()
                        .filter(|l| l.starts_with(&prefix) || **l == format!("column {column}"))
                    {
                        let _ = writeln!(out, "  {line}");
                    }
                }
                for line in object.lines.iter().filter(|l| !l.starts_with("column ")) {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
        out
    }
}

fn kind_rank(kind: &str) -> usize {
    const ORDER: &[&str] = &[
        "schema",
        "extension",
        "type",
        "domain",
        "sequence",
        "table",
        "constraint",
        "index",
        "view",
        "materialized view",
        "function",
        "procedure",
        "aggregate",
        "trigger",
        "policy",
        "rule",
        "statistics",
        "collation",
        "publication",
        "event trigger",
        "comment",
        "owner",
        "privileges",
        "default privileges",
    ];
    ORDER.iter().position(|k| *k == kind).unwrap_or(ORDER.len())
}
