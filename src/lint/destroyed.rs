//! What data a script destroys: the tables it drops or truncates and the
//! columns it drops or changes the type of, read from its syntax trees
//! (the statements `drop-table`, `truncate`, `drop-column` and
//! `change-column-type` flag). Whether each table exists is the server's
//! to say, just before the script runs (`migrate --backup auto`).

use super::names::ident;
use crate::model::Script;
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, ObjectName, ObjectNamePart};
use sqlparser::ast::{CascadeOption, ObjectType, Statement};

/// How a statement destroys data.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DataLoss {
    /// `DROP TABLE`: every row and column.
    DropTable,
    /// `TRUNCATE`: every row.
    Truncate,
    /// `ALTER TABLE … DROP COLUMN`: the column's values.
    DropColumn,
    /// `ALTER COLUMN … TYPE`: the values as they were (a cast may lose
    /// precision or text).
    ChangeColumnType,
}

impl DataLoss {
    /// Whether every column of the table is lost.
    pub fn whole_table(self) -> bool {
        matches!(self, DataLoss::DropTable | DataLoss::Truncate)
    }
}

/// One table whose data a script destroys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestroyedData {
    /// The table's name as PostgreSQL reads it, part by part (schema
    /// first, when the script names one).
    pub table: Vec<String>,
    /// The columns lost; empty when the whole table is.
    pub columns: Vec<String>,
    /// The first statement that destroys it.
    pub(crate) loss: DataLoss,
    /// `TRUNCATE … CASCADE`: the tables that reference it (through
    /// foreign keys, and theirs in turn) lose every row too.
    pub cascade: bool,
}

impl DestroyedData {
    /// The table's name quoted for SQL (`"app"."orders"`).
    pub fn quoted_table(&self) -> String {
        self.table
            .iter()
            .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Whether every column of the table is lost.
    pub fn whole_table(&self) -> bool {
        self.columns.is_empty()
    }
}

impl DestroyedData {
    /// The tables and columns `script` destroys, one entry per table in the
    /// order the script first touches them; a table dropped or truncated
    /// anywhere in the script is lost whole. Statements that do not parse
    /// are left out (lint reports them as `unparseable-statement`).
    pub fn in_script(script: &Script) -> Vec<DestroyedData> {
        let mut destroyed: Vec<DestroyedData> = Vec::new();
        let Ok(statements) = script.statements() else {
            return destroyed;
        };
        // Every statement that destroys data spells one of these words;
        // the others are not parsed (a deploy asks this of every script
        // it runs).
        let may_destroy = |text: &str| {
            crate::model::statements::mentions_any(text, &["drop", "truncate", "type"])
        };
        for statement in statements {
            let text = statement.text(&script.sql);
            if !may_destroy(text) {
                continue;
            }
            let parsed = super::parse_statement(statement, text);
            let Some(ast) = &parsed.ast else { continue };
            for (table, columns, loss, cascade) in losses(ast) {
                match destroyed.iter_mut().find(|d| d.table == table) {
                    Some(known) if known.whole_table() => known.cascade |= cascade,
                    Some(known) if loss.whole_table() => {
                        known.columns.clear();
                        known.loss = loss;
                        known.cascade = cascade;
                    }
                    Some(known) => {
                        for column in columns {
                            if !known.columns.contains(&column) {
                                known.columns.push(column);
                            }
                        }
                    }
                    None => destroyed.push(DestroyedData {
                        table,
                        columns: if loss.whole_table() {
                            Vec::new()
                        } else {
                            columns
                        },
                        loss,
                        cascade,
                    }),
                }
            }
        }
        destroyed
    }
}

/// What one statement destroys: table, columns, how, and whether a
/// truncation cascades.
fn losses(statement: &Statement) -> Vec<(Vec<String>, Vec<String>, DataLoss, bool)> {
    match statement {
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => names
            .iter()
            .map(|name| (parts(name), Vec::new(), DataLoss::DropTable, false))
            .collect(),
        Statement::Truncate(truncate) => {
            let cascade = matches!(truncate.cascade, Some(CascadeOption::Cascade));
            truncate
                .table_names
                .iter()
                .map(|target| (parts(&target.name), Vec::new(), DataLoss::Truncate, cascade))
                .collect()
        }
        Statement::AlterTable(alter) => {
            let table = parts(&alter.name);
            let mut out = Vec::new();
            for operation in &alter.operations {
                match operation {
                    AlterTableOperation::DropColumn { column_names, .. } => out.push((
                        table.clone(),
                        column_names.iter().map(ident).collect(),
                        DataLoss::DropColumn,
                        false,
                    )),
                    AlterTableOperation::AlterColumn {
                        column_name,
                        op: AlterColumnOperation::SetDataType { .. },
                    } => out.push((
                        table.clone(),
                        vec![ident(column_name)],
                        DataLoss::ChangeColumnType,
                        false,
                    )),
                    _ => {}
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// A name's parts as PostgreSQL reads them.
fn parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(i) => ident(i),
            other => other.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Checksum, Directives, Script};

    fn destroyed(sql: &str) -> Vec<DestroyedData> {
        let script = Script::new(
            "0002_d.up.sql".into(),
            sql.into(),
            Checksum::of(sql.as_bytes()),
            Directives::default(),
        );
        DestroyedData::in_script(&script)
    }

    #[test]
    fn names_each_table_once_with_the_columns_it_loses() {
        let found = destroyed(
            "ALTER TABLE app.Orders DROP COLUMN note, ALTER COLUMN total TYPE int;\n\
             CREATE TABLE x (id int);\n\
             ALTER TABLE app.orders DROP COLUMN \"Legacy\";\n\
             DROP TABLE sessions, \"Audit\";\n\
             TRUNCATE events CASCADE;\n",
        );
        let summary: Vec<(String, Vec<String>, DataLoss)> = found
            .iter()
            .map(|d| (d.quoted_table(), d.columns.clone(), d.loss))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "\"app\".\"orders\"".to_string(),
                    vec!["note".to_string(), "total".into(), "Legacy".into()],
                    DataLoss::DropColumn
                ),
                ("\"sessions\"".to_string(), vec![], DataLoss::DropTable),
                ("\"Audit\"".to_string(), vec![], DataLoss::DropTable),
                ("\"events\"".to_string(), vec![], DataLoss::Truncate),
            ]
        );
        assert!(found[3].cascade && !found[2].cascade);
    }

    #[test]
    fn a_table_dropped_later_is_lost_whole() {
        let found = destroyed("ALTER TABLE t DROP COLUMN a;\nDROP TABLE t;\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].whole_table() && !found[0].cascade);
        assert_eq!(found[0].loss, DataLoss::DropTable);
    }

    #[test]
    fn a_script_that_destroys_nothing_names_nothing() {
        assert!(destroyed(
            "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN b int;\nUPDATE t SET b = 1;\n"
        )
        .is_empty());
    }
}
