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

fn effects(statements: &[ParsedStatement]) -> Effects {
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
                    effects.created.push((
                        Object::Index(object(name), Some(object(&index.table_name))),
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
        let up = effects(context.up);
        let reverse = effects(down);
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
