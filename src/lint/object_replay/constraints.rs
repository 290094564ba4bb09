//! The constraints and indexes a statement creates, under the names
//! PostgreSQL gives them: a named one under its name, an unnamed one under
//! the server's default (`t_a_key`, `t_b_fkey`, `t_pkey`, `t_n_check`,
//! `t_a_idx`; see [`crate::lint::default_names`]), each with the columns it
//! is over, so that a down script that re-creates `ADD UNIQUE (a)` brings
//! back the `t_a_key` its up dropped, and a `DROP COLUMN` takes the
//! constraints over that column.

use super::{index_in_schema_of, Detail, Object, Replay};
use crate::lint::default_names::{choose, index_column_names, joined_columns, Label};
use crate::lint::names::{ident, object};
use crate::model::text_position::TextPosition;
use sqlparser::ast::{ColumnDef, ColumnOption, CreateIndex, Expr, IndexColumn, TableConstraint};

/// What a constraint is, for its default name.
struct Implicit {
    /// Its name when the statement gives one.
    name: Option<String>,
    label: Label,
    /// The columns it is over.
    columns: Vec<String>,
    /// The columns its default name is made of (a check's one column).
    named_after: Option<String>,
}

impl Replay<'_> {
    /// The constraints written on a column (`REFERENCES`, `UNIQUE`,
    /// `PRIMARY KEY`, `CHECK`), named or not.
    pub(super) fn column_constraints(
        &mut self,
        table: &str,
        column: &ColumnDef,
        replace: bool,
        at: TextPosition,
    ) {
        let name = ident(&column.name);
        for option in &column.options {
            let given = option.name.as_ref().map(ident);
            let (label, inner_name, columns) = match &option.option {
                ColumnOption::PrimaryKey(c) => (Label::PrimaryKey, &c.name, vec![name.clone()]),
                ColumnOption::Unique(c) => (Label::Unique, &c.name, vec![name.clone()]),
                ColumnOption::ForeignKey(c) => (Label::ForeignKey, &c.name, vec![name.clone()]),
                ColumnOption::Check(c) => {
                    let read = self.columns_read_by(table, &c.expr);
                    (Label::Check, &c.name, read)
                }
                _ => continue,
            };
            let implicit = Implicit {
                name: given.or_else(|| inner_name.as_ref().map(ident)),
                named_after: match label {
                    Label::Check => (columns.len() == 1).then(|| columns[0].clone()),
                    _ => Some(name.clone()),
                },
                label,
                columns,
            };
            self.add_constraint(table, implicit, replace, at);
        }
    }

    /// A table constraint of `CREATE TABLE` or `ADD CONSTRAINT`.
    pub(super) fn table_constraint(
        &mut self,
        table: &str,
        constraint: &TableConstraint,
        replace: bool,
        at: TextPosition,
    ) {
        let keyed = |name: &Option<sqlparser::ast::Ident>, label, columns: &[IndexColumn]| {
            let columns: Vec<String> = index_column_names(columns.iter().map(|c| &c.column.expr));
            Implicit {
                name: name.as_ref().map(ident),
                label,
                named_after: Some(joined_columns(&columns)),
                columns,
            }
        };
        let implicit = match constraint {
            TableConstraint::PrimaryKey(c) => keyed(&c.name, Label::PrimaryKey, &c.columns),
            TableConstraint::Unique(c) => keyed(&c.name, Label::Unique, &c.columns),
            TableConstraint::ForeignKey(c) => {
                let columns: Vec<String> = c.columns.iter().map(ident).collect();
                Implicit {
                    name: c.name.as_ref().map(ident),
                    label: Label::ForeignKey,
                    named_after: Some(joined_columns(&columns)),
                    columns,
                }
            }
            TableConstraint::Check(c) => {
                let columns = self.columns_read_by(table, &c.expr);
                Implicit {
                    name: c.name.as_ref().map(ident),
                    label: Label::Check,
                    named_after: (columns.len() == 1).then(|| columns[0].clone()),
                    columns,
                }
            }
            TableConstraint::Exclude(c) => {
                let columns = index_column_names(c.elements.iter().map(|e| &e.column.column.expr));
                Implicit {
                    name: c.name.as_ref().map(ident),
                    label: Label::Exclusion,
                    named_after: Some(joined_columns(&columns)),
                    columns,
                }
            }
            TableConstraint::PrimaryKeyUsingIndex(c) | TableConstraint::UniqueUsingIndex(c) => {
                // The index becomes the constraint's, under its name.
                let index = object(&sqlparser::ast::ObjectName::from(vec![c
                    .index_name
                    .clone()]));
                let index = index_in_schema_of(&index, table);
                let columns = match self.present(&Object::Index(index.clone())) {
                    Some(tracked) => match &tracked.detail {
                        Detail::Index { columns, .. } => columns.clone(),
                        _ => Vec::new(),
                    },
                    None => Vec::new(),
                };
                self.mark_absent(&Object::Index(index), false, at);
                Implicit {
                    name: Some(c.name.as_ref().map_or_else(|| ident(&c.index_name), ident)),
                    label: Label::Unique,
                    named_after: None,
                    columns,
                }
            }
            _ => return,
        };
        self.add_constraint(table, implicit, replace, at);
    }

    fn add_constraint(&mut self, table: &str, implicit: Implicit, replace: bool, at: TextPosition) {
        let name = match implicit.name {
            Some(name) => name,
            None => {
                let index_backed = matches!(
                    implicit.label,
                    Label::PrimaryKey | Label::Unique | Label::Exclusion
                );
                choose(
                    table,
                    implicit.named_after.as_deref(),
                    implicit.label,
                    |name| self.constraint_name_taken(table, name, index_backed),
                )
            }
        };
        self.create(
            Object::Constraint(table.to_string(), name),
            replace,
            at,
            Detail::Constraint {
                columns: implicit.columns,
            },
        );
    }

    /// Whether a default name is in use: by a constraint of the table, or,
    /// for one with an index, by a relation or index of its schema.
    fn constraint_name_taken(&self, table: &str, name: &str, index_backed: bool) -> bool {
        let qualified = index_in_schema_of(name, table);
        self.present(&Object::Constraint(table.to_string(), name.to_string()))
            .is_some()
            || (index_backed
                && (self.present(&Object::Index(qualified.clone())).is_some()
                    || self.present(&Object::Relation(qualified)).is_some()))
    }

    /// `CREATE INDEX`, under its name or PostgreSQL's default one.
    pub(super) fn create_index(&mut self, index: &CreateIndex, at: TextPosition) {
        let table = object(&index.table_name);
        let names = index_column_names(index.columns.iter().map(|c| &c.column.expr));
        let name = match &index.name {
            Some(name) => index_in_schema_of(&object(name), &table),
            None => {
                let joined = joined_columns(&names);
                let chosen = choose(&table, Some(&joined), Label::Index, |name| {
                    let qualified = index_in_schema_of(name, &table);
                    self.present(&Object::Index(qualified.clone())).is_some()
                        || self.present(&Object::Relation(qualified)).is_some()
                });
                index_in_schema_of(&chosen, &table)
            }
        };
        if index.if_not_exists && self.present(&Object::Index(name.clone())).is_some() {
            return;
        }
        let columns = index
            .columns
            .iter()
            .zip(names)
            .filter(|(c, _)| matches!(c.column.expr, Expr::Identifier(_)))
            .map(|(_, name)| name)
            .collect();
        self.create(
            Object::Index(name),
            index.if_not_exists,
            at,
            Detail::Index { table, columns },
        );
    }

    /// The columns of `table` that `expr` reads, in the order it first
    /// names them (by its words: a column's name in a string literal counts
    /// too, which only makes a default name `t_check` instead of `t_c_check`).
    fn columns_read_by(&self, table: &str, expr: &Expr) -> Vec<String> {
        let text = expr.to_string();
        let mut read: Vec<String> = Vec::new();
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if word.is_empty() {
                continue;
            }
            for candidate in [word.to_string(), word.to_lowercase()] {
                let column = Object::Column(table.to_string(), candidate.clone());
                if !read.contains(&candidate) && self.present(&column).is_some() {
                    read.push(candidate);
                    break;
                }
            }
        }
        read
    }
}
