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

/// What kind of constraint it is, for the rules that ask (is there a
/// primary key, which foreign keys did this migration add, is a `CHECK (c
/// IS NOT NULL)` validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConstraintKind {
    /// `PRIMARY KEY` (with its index).
    PrimaryKey,
    /// `UNIQUE` (with its index).
    Unique,
    /// `EXCLUDE` (with its index).
    Exclusion,
    /// `REFERENCES`: the referenced table, and where it was declared.
    ForeignKey {
        /// The referenced table.
        references: String,
        /// The statement that declared it.
        declared_at: TextPosition,
    },
    /// `CHECK`: the column when it is `CHECK (column IS NOT NULL)`, and
    /// whether every row has been checked (not `NOT VALID`, or validated).
    Check {
        /// The column of a `CHECK (column IS NOT NULL)`.
        not_null_of: Option<String>,
        /// Whether it is validated.
        validated: bool,
    },
}

impl ConstraintKind {
    /// The suffix of PostgreSQL's default name for it.
    fn label(&self) -> Label {
        match self {
            ConstraintKind::PrimaryKey => Label::PrimaryKey,
            ConstraintKind::Unique => Label::Unique,
            ConstraintKind::Exclusion => Label::Exclusion,
            ConstraintKind::ForeignKey { .. } => Label::ForeignKey,
            ConstraintKind::Check { .. } => Label::Check,
        }
    }

    /// Whether an index enforces it.
    pub(crate) fn has_index(&self) -> bool {
        matches!(
            self,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
        )
    }
}

/// What a constraint is, for its default name.
struct Implicit {
    /// Its name when the statement gives one.
    name: Option<String>,
    kind: ConstraintKind,
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
            let (kind, inner_name, columns) = match &option.option {
                ColumnOption::PrimaryKey(c) => {
                    (ConstraintKind::PrimaryKey, &c.name, vec![name.clone()])
                }
                ColumnOption::Unique(c) => (ConstraintKind::Unique, &c.name, vec![name.clone()]),
                ColumnOption::ForeignKey(c) => (
                    ConstraintKind::ForeignKey {
                        references: object(&c.foreign_table),
                        declared_at: at,
                    },
                    &c.name,
                    vec![name.clone()],
                ),
                ColumnOption::Check(c) => {
                    let read = self.columns_read_by(table, &c.expr);
                    (check(&c.expr, true), &c.name, read)
                }
                _ => continue,
            };
            let implicit = Implicit {
                name: given.or_else(|| inner_name.as_ref().map(ident)),
                named_after: match kind {
                    ConstraintKind::Check { .. } => {
                        (columns.len() == 1).then(|| columns[0].clone())
                    }
                    _ => Some(name.clone()),
                },
                kind,
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
        not_valid: bool,
        at: TextPosition,
    ) {
        let keyed = |name: &Option<sqlparser::ast::Ident>, kind, columns: &[IndexColumn]| {
            let columns: Vec<String> = index_column_names(columns.iter().map(|c| &c.column.expr));
            Implicit {
                name: name.as_ref().map(ident),
                kind,
                named_after: Some(joined_columns(&columns)),
                columns,
            }
        };
        let implicit = match constraint {
            TableConstraint::PrimaryKey(c) => {
                keyed(&c.name, ConstraintKind::PrimaryKey, &c.columns)
            }
            TableConstraint::Unique(c) => keyed(&c.name, ConstraintKind::Unique, &c.columns),
            TableConstraint::ForeignKey(c) => {
                let columns: Vec<String> = c.columns.iter().map(ident).collect();
                Implicit {
                    name: c.name.as_ref().map(ident),
                    kind: ConstraintKind::ForeignKey {
                        references: object(&c.foreign_table),
                        declared_at: at,
                    },
                    named_after: Some(joined_columns(&columns)),
                    columns,
                }
            }
            TableConstraint::Check(c) => {
                let columns = self.columns_read_by(table, &c.expr);
                Implicit {
                    name: c.name.as_ref().map(ident),
                    kind: check(&c.expr, !not_valid),
                    named_after: (columns.len() == 1).then(|| columns[0].clone()),
                    columns,
                }
            }
            TableConstraint::Exclude(c) => {
                let columns = index_column_names(c.elements.iter().map(|e| &e.column.column.expr));
                Implicit {
                    name: c.name.as_ref().map(ident),
                    kind: ConstraintKind::Exclusion,
                    named_after: Some(joined_columns(&columns)),
                    columns,
                }
            }
            TableConstraint::PrimaryKeyUsingIndex(c) | TableConstraint::UniqueUsingIndex(c) => {
                let kind = match constraint {
                    TableConstraint::PrimaryKeyUsingIndex(_) => ConstraintKind::PrimaryKey,
                    _ => ConstraintKind::Unique,
                };
                // The index becomes the constraint's, under its name.
                let index = object(&sqlparser::ast::ObjectName::from(vec![c
                    .index_name
                    .clone()]));
                let index = index_in_schema_of(&index, table);
                let columns = match self.present(&Object::Index(index.clone())) {
                    Some(tracked) => match &tracked.detail {
                        Detail::Index { columns, .. } => {
                            columns.iter().flatten().cloned().collect()
                        }
                        _ => Vec::new(),
                    },
                    None => Vec::new(),
                };
                self.mark_absent(&Object::Index(index), false, at);
                Implicit {
                    name: Some(c.name.as_ref().map_or_else(|| ident(&c.index_name), ident)),
                    kind,
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
                let index_backed = implicit.kind.has_index();
                choose(
                    table,
                    implicit.named_after.as_deref(),
                    implicit.kind.label(),
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
                kind: implicit.kind,
            },
        );
    }

    /// `VALIDATE CONSTRAINT`: a `NOT VALID` check now holds for every row.
    pub(super) fn validate_constraint(&mut self, table: &str, name: &str) {
        let object = Object::Constraint(table.to_string(), name.to_string());
        let Some(mut tracked) = self.present(&object).cloned() else {
            return;
        };
        let Detail::Constraint {
            kind: ConstraintKind::Check { validated, .. },
            ..
        } = &mut tracked.detail
        else {
            return;
        };
        *validated = true;
        if !self.objects.contains_key(&object) {
            // The history's: to these scripts, it was there before.
            tracked.before = Some(true);
            tracked.guessed = false;
        }
        self.objects.insert(object, tracked);
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

    /// The sequence a `serial` or identity column makes, under PostgreSQL's
    /// default name (`t_id_seq`, numbered when a relation of the schema has
    /// that name).
    pub(super) fn owned_sequence(
        &mut self,
        table: &str,
        column: &ColumnDef,
        replace: bool,
        at: TextPosition,
    ) {
        let serial = matches!(
            column.data_type.to_string().to_ascii_lowercase().as_str(),
            "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
        );
        let identity = column.options.iter().any(|option| {
            matches!(
                &option.option,
                ColumnOption::Generated {
                    generation_expr: None,
                    ..
                }
            )
        });
        if !serial && !identity {
            return;
        }
        let name = ident(&column.name);
        let chosen = choose(table, Some(&name), Label::Sequence, |candidate| {
            let qualified = index_in_schema_of(candidate, table);
            self.present(&Object::Sequence(qualified.clone())).is_some()
                || self.present(&Object::Index(qualified.clone())).is_some()
                || self.present(&Object::Relation(qualified)).is_some()
        });
        self.create(
            Object::Sequence(index_in_schema_of(&chosen, table)),
            replace,
            at,
            Detail::Sequence {
                table: table.to_string(),
                column: name,
            },
        );
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
            .map(|(c, name)| matches!(c.column.expr, Expr::Identifier(_)).then_some(name))
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

/// The kind of a `CHECK (expr)`: which column it keeps from being NULL
/// when it is `CHECK (column IS NOT NULL)`.
fn check(expr: &Expr, validated: bool) -> ConstraintKind {
    let not_null_of = match expr {
        Expr::IsNotNull(inner) => match inner.as_ref() {
            Expr::Identifier(column) => Some(ident(column)),
            _ => None,
        },
        _ => None,
    };
    ConstraintKind::Check {
        not_null_of,
        validated,
    }
}
