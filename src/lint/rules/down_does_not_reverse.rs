//! `down-does-not-reverse`: a static comparison of what an up script creates
//! and drops with what its down script drops and creates, for tables,
//! columns and named indexes. It catches the common slips (a column left
//! behind, a dropped table never restored); `schemactl verify` is the
//! complete, dynamic check.

use super::Rule;
use crate::lint::names::{ident, object};
use crate::lint::{MigrationContext, ParsedStatement, RawFinding, Severity};
use crate::migration::text_position::TextPosition;
use sqlparser::ast::{AlterTableOperation, ObjectType, Statement};

/// See the module header.
pub struct DownDoesNotReverse;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Object {
    Table(String),
    /// A partition goes with its parent table.
    Partition(String, String),
    Column(String, String),
    Index(String, Option<String>),
}

impl Object {
    fn describe(&self) -> String {
        match self {
            Object::Table(t) | Object::Partition(t, _) => format!("table {t}"),
            Object::Column(t, c) => format!("column {t}.{c}"),
            Object::Index(i, _) => format!("index {i}"),
        }
    }

    /// Whether `other` being present/absent settles this object too.
    fn covered_by(&self, other: &Object) -> bool {
        match (self, other) {
            (a, b) if a == b => true,
            (Object::Column(t, _), Object::Table(u)) => t == u,
            (Object::Partition(t, parent), Object::Table(u)) => t == u || parent == u,
            (Object::Index(_, Some(t)), Object::Table(u)) => t == u,
            (Object::Index(a, _), Object::Index(b, _)) => a == b,
            _ => false,
        }
    }
}

struct Effects {
    created: Vec<(Object, TextPosition)>,
    dropped: Vec<(Object, TextPosition)>,
}

fn effects(statements: &[ParsedStatement], sql: &str) -> Effects {
    let mut effects = Effects {
        created: Vec::new(),
        dropped: Vec::new(),
    };
    for item in statements {
        let at = item.statement.position;
        match &item.ast {
            Some(Statement::CreateTable(create)) => {
                let table = object(&create.name);
                let created = match &create.partition_of {
                    Some(parent) => Object::Partition(table, object(parent)),
                    None => Object::Table(table),
                };
                effects.created.push((created, at));
            }
            Some(Statement::CreateIndex(index)) => {
                if let Some(name) = &index.name {
                    let table = object(&index.table_name);
                    effects.created.push((
                        Object::Index(index_in_schema_of(&object(name), &table), Some(table)),
                        at,
                    ));
                }
            }
            Some(Statement::AlterTable(alter)) => {
                let table = object(&alter.name);
                for operation in &alter.operations {
                    match operation {
                        AlterTableOperation::AddColumn { column_def, .. } => effects
                            .created
                            .push((Object::Column(table.clone(), ident(&column_def.name)), at)),
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            effects.dropped.extend(
                                column_names
                                    .iter()
                                    .map(|c| (Object::Column(table.clone(), ident(c)), at)),
                            )
                        }
                        _ => {}
                    }
                }
            }
            Some(Statement::Drop {
                object_type, names, ..
            }) => {
                let make = |name: String| match object_type {
                    ObjectType::Table => Some(Object::Table(name)),
                    ObjectType::Index => Some(Object::Index(name, None)),
                    _ => None,
                };
                effects.dropped.extend(
                    names
                        .iter()
                        .filter_map(|n| make(object(n)))
                        .map(|o| (o, at)),
                );
            }
            None if item.statement.keyword == "DROP" => {
                // `DROP INDEX CONCURRENTLY` (what `create-index-not-concurrently`
                // recommends) may not parse: read its names from the tokens.
                if let Some(names) = dropped_index_names(item.statement.text(sql)) {
                    effects
                        .dropped
                        .extend(names.into_iter().map(|n| (Object::Index(n, None), at)));
                }
            }
            _ => {}
        }
    }
    // What the script both creates and drops is temporary.
    let created = effects.created.clone();
    effects
        .created
        .retain(|(o, _)| !effects.dropped.iter().any(|(d, _)| o.covered_by(d)));
    effects
        .dropped
        .retain(|(o, _)| !created.iter().any(|(c, _)| c == o));
    effects
}

/// An index lives in its table's schema: `CREATE INDEX t_n ON app.t` is
/// `app.t_n`, which only `DROP INDEX app.t_n` drops (an unqualified `DROP
/// INDEX t_n` looks on the search path, `public` by default).
fn index_in_schema_of(index: &str, table: &str) -> String {
    match table.rsplit_once('.') {
        Some((schema, _)) if !index.contains('.') => format!("{schema}.{index}"),
        _ => index.to_string(),
    }
}

/// The names of `DROP INDEX [CONCURRENTLY] [IF EXISTS] a, b [CASCADE]`, as
/// [`object`] writes them (lower case unless quoted, `public.` dropped).
fn dropped_index_names(text: &str) -> Option<Vec<String>> {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens: Vec<Token> = Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize()
        .ok()?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let mut rest = tokens.as_slice();
    for expected in ["DROP", "INDEX"] {
        let (first, tail) = rest.split_first()?;
        if !word(first, expected) {
            return None;
        }
        rest = tail;
    }
    for optional in [&["CONCURRENTLY"][..], &["IF", "EXISTS"]] {
        if rest.len() >= optional.len() && rest.iter().zip(optional).all(|(t, w)| word(t, w)) {
            rest = &rest[optional.len()..];
        }
    }
    let mut names = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for token in rest {
        match token {
            Token::Word(w)
                if w.quote_style.is_none()
                    && (w.value.eq_ignore_ascii_case("CASCADE")
                        || w.value.eq_ignore_ascii_case("RESTRICT")) =>
            {
                break
            }
            Token::Word(w) => current.push(match w.quote_style {
                Some(_) => w.value.clone(),
                None => w.value.to_lowercase(),
            }),
            Token::Period => {}
            Token::Comma => names.push(std::mem::take(&mut current).join(".")),
            _ => return None,
        }
    }
    names.push(current.join("."));
    Some(
        names
            .into_iter()
            .filter(|n| !n.is_empty())
            .map(|n| n.strip_prefix("public.").map(str::to_string).unwrap_or(n))
            .collect(),
    )
}

impl Rule for DownDoesNotReverse {
    fn id(&self) -> &'static str {
        "down-does-not-reverse"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a down script that leaves what its up created, or does not restore what it dropped"
    }
    fn check_migration(&self, context: &MigrationContext, findings: &mut Vec<RawFinding>) {
        let (Some(down), Some(down_script)) = (context.down, context.migration.down.as_ref())
        else {
            return;
        };
        let up = effects(context.up, &context.migration.up.sql);
        let reverse = effects(down, &down_script.sql);
        let up_file = context
            .migration
            .up
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut report = |message: String, help: &str| {
            findings.push(RawFinding {
                rule: self.id(),
                path: down_script.path.clone(),
                offset: down.first().map_or(0, |s| s.statement.start),
                length: 1,
                message,
                help: help.to_string(),
            })
        };
        for (created, at) in &up.created {
            if !reverse.dropped.iter().any(|(d, _)| created.covered_by(d)) {
                report(
                    format!("the up script creates {} ({up_file}:{}) but this down script does not drop it", created.describe(), at.line),
                    "drop it here, so that rolling back restores the schema as it was",
                );
            }
        }
        for (dropped, at) in &up.dropped {
            if !reverse
                .created
                .iter()
                .any(|(c, _)| dropped.covered_by(c) || c.covered_by(dropped))
            {
                report(
                    format!("the up script drops {} ({up_file}:{}) but this down script does not recreate it", dropped.describe(), at.line),
                    "recreate it here (its data cannot come back; say so with `-- schemactl:ignore down-does-not-reverse <reason>` if that is accepted)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_leftovers_and_unrestored_drops() {
        insta::assert_snapshot!(fires(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, old int);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_c.up.sql", "ALTER TABLE t ADD COLUMN x int;\nCREATE INDEX t_x ON t (x);\nALTER TABLE t DROP COLUMN old;\n"),
                ("0002_c.down.sql", "DROP INDEX t_x;\n"),
            ]
        ));
    }

    #[test]
    fn indexes_are_resolved_as_postgresql_resolves_them() {
        quiet(
            "down-does-not-reverse",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE SCHEMA app;\nCREATE TABLE app.t (id bigint PRIMARY KEY, n int);\n",
                ),
                ("0001_t.down.sql", "DROP TABLE app.t;\nDROP SCHEMA app;\n"),
                (
                    "0002_i.up.sql",
                    "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY t_n ON app.t (n);\n",
                ),
                (
                    "0002_i.down.sql",
                    "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS app.t_n;\n",
                ),
            ],
        );
        insta::assert_snapshot!(fires(
            "down-does-not-reverse",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE SCHEMA app;\nCREATE TABLE app.t (id bigint PRIMARY KEY, n int);\n"
                ),
                ("0001_t.down.sql", "DROP TABLE app.t;\nDROP SCHEMA app;\n"),
                ("0002_i.up.sql", "CREATE INDEX t_n ON app.t (n);\n"),
                ("0002_i.down.sql", "DROP INDEX t_n;\n"),
            ]
        ));
    }

    #[test]
    fn quiet_when_the_down_mirrors_the_up() {
        quiet(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, old int);\nCREATE INDEX t_old ON t (old);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_c.up.sql", "ALTER TABLE t ADD COLUMN x int;\nALTER TABLE t DROP COLUMN old;\n"),
                ("0002_c.down.sql", "ALTER TABLE t ADD COLUMN old int;\nALTER TABLE t DROP COLUMN x;\n"),
            ],
        );
    }
}
