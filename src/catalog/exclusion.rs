//! Leaving the objects `--exclude` patterns match out of a snapshot.

use super::{SchemaObject, Snapshot};
use crate::config::ObjectPattern;

impl Snapshot {
    /// The snapshot without the objects `patterns` match.
    pub fn excluding(mut self, patterns: &[ObjectPattern]) -> Self {
        if !patterns.is_empty() {
            self.objects
                .retain(|object| !patterns.iter().any(|p| matches_object(p, object)));
        }
        self
    }
}

/// Whether `object` is matched: by its own name, by the table it
/// belongs to, or (for a schema) by `schema.*`.
fn matches_object(pattern: &ObjectPattern, object: &SchemaObject) -> bool {
    if object.kind == "schema" {
        // `partman.*` takes the schema itself along.
        return pattern.matches_schema(&object.name);
    }
    names_in(object).any(|(schema, name)| pattern.matches(&schema, &name))
}

/// The qualified names an object is known by: each `schema.name` word of
/// its name (`owner table app.accounts`, `app.t.t_pkey` → `app.t` and
/// `app.t_pkey`… ) and the table an index or trigger is defined `ON`.
fn names_in(object: &SchemaObject) -> impl Iterator<Item = (String, String)> + '_ {
    let from_name = object
        .name
        .split_whitespace()
        .flat_map(|word| {
            let word = word.split('(').next().unwrap_or_default();
            let parts: Vec<&str> = word.split('.').collect();
            let mut found = Vec::new();
            // PostgreSQL prints a name unqualified when its schema is on
            // the search path (comments on tables: `comment table t`).
            if parts.len() == 1 && object.kind == "comment" {
                found.push(("public".to_string(), unquote(parts[0])));
            }
            if parts.len() >= 2 {
                found.push((unquote(parts[0]), unquote(parts[1])));
            }
            if parts.len() >= 3 {
                found.push((unquote(parts[0]), unquote(parts[2])));
            }
            found
        })
        .collect::<Vec<_>>();
    let on_table = object
        .lines
        .iter()
        .filter_map(|line| {
            let after = line.split(" ON ").nth(1)?;
            let table = after.trim_start_matches("ONLY ").split([' ', '(']).next()?;
            let (schema, name) = table.split_once('.')?;
            Some((unquote(schema), unquote(name)))
        })
        .collect::<Vec<_>>();
    from_name.into_iter().chain(on_table)
}

fn unquote(part: &str) -> String {
    part.trim_matches('"').replace("\"\"", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str, lines: &[&str]) -> SchemaObject {
        SchemaObject {
            kind: kind.into(),
            name: name.into(),
            lines: lines.iter().map(|l| l.to_string()).collect(),
            column_order: Vec::new(),
        }
    }

    use crate::catalog::Snapshot;

    fn kept(patterns: &[&str], objects: Vec<SchemaObject>) -> Vec<String> {
        let patterns: Vec<ObjectPattern> = patterns
            .iter()
            .map(|p| ObjectPattern::parse(p).unwrap())
            .collect();
        Snapshot { objects }
            .excluding(&patterns)
            .objects
            .into_iter()
            .map(|o| format!("{} {}", o.kind, o.name))
            .collect()
    }

    #[test]
    fn a_table_goes_with_what_belongs_to_it() {
        let objects = vec![
            object("table", "public.audit_log", &[]),
            object("constraint", "public.audit_log.audit_log_pkey", &[]),
            object(
                "index",
                "public.audit_log_at",
                &["CREATE INDEX audit_log_at ON public.audit_log USING btree (at)"],
            ),
            object("owner", "table public.audit_log", &["app"]),
            object("comment", "table audit_log", &["x"]),
            object("table", "public.users", &[]),
            object("table", "partman.part_config", &[]),
            object("schema", "partman", &[]),
        ];
        assert_eq!(
            kept(&["audit_*", "partman.*"], objects),
            ["table public.users"]
        );
    }

    #[test]
    fn a_qualified_pattern_matches_one_schema_only() {
        let objects = vec![
            object("table", "public.events", &[]),
            object("table", "archive.events", &[]),
        ];
        assert_eq!(kept(&["archive.events"], objects), ["table public.events"]);
        assert!(ObjectPattern::parse(" ").is_err());
    }
}
