//! The in-memory schema the linter replays the migrations into: tables,
//! columns, keys, indexes, and the migration each object came from. Rules
//! use it to answer questions a statement alone cannot ("did this table
//! exist before this migration?", "is this foreign key indexed by the end of
//! the migration?").

use super::default_names::{choose, index_column_names, joined_columns, Label};
use super::names::{ident, object};
use crate::model::text_position::TextPosition;
use crate::model::Version;
use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, Expr, IndexColumn, ObjectType, Statement,
    TableConstraint,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The replayed schema.
#[derive(Debug, Clone, Default)]
pub struct SchemaModel {
    /// Tables by normalised name.
    pub tables: BTreeMap<String, Table>,
}

/// One table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The version of the migration that created it.
    pub created_in: Version,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// Its primary key columns, when it has one.
    pub primary_key: Option<Vec<String>>,
    /// Indexes, including those behind primary keys and unique constraints.
    pub indexes: Vec<Index>,
    /// Its foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Whether it is partitioned (`PARTITION BY`): its indexes cannot be
    /// built `CONCURRENTLY`.
    pub partitioned: bool,
    /// `CHECK (column IS NOT NULL)` constraints (PostgreSQL 12+ sets NOT
    /// NULL on the column without scanning the table once one is validated).
    pub not_null_checks: Vec<NotNullCheck>,
}

/// A `CHECK (column IS NOT NULL)` constraint.
#[derive(Debug, Clone)]
pub struct NotNullCheck {
    /// The column.
    pub column: String,
    /// The constraint's name, when it was given one.
    pub name: Option<String>,
    /// Whether every row has been checked (added without `NOT VALID`, or
    /// validated since).
    pub validated: bool,
}

/// One column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Normalised name.
    pub name: String,
}

/// One index (or the index behind a key constraint).
#[derive(Debug, Clone)]
pub struct Index {
    /// Its name, when known.
    pub name: Option<String>,
    /// Its key columns in order (`None` for an expression).
    pub columns: Vec<Option<String>>,
}

/// One foreign key, with where it was declared.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub foreign_table: String,
    /// The migration that added it.
    pub added_in: Version,
    /// The file that added it.
    pub path: PathBuf,
    /// Where.
    pub position: TextPosition,
}

/// Where the statement being replayed comes from.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    /// The migration version.
    pub version: Version,
    /// The file.
    pub path: &'a std::path::Path,
    /// Where the statement starts.
    pub position: TextPosition,
}

impl Table {
    /// Whether an index's leading columns are exactly `columns` (in any
    /// order, as equality lookups on all of them can use it).
    pub fn has_index_leading_with(&self, columns: &[String]) -> bool {
        self.indexes.iter().any(|index| {
            index.columns.len() >= columns.len()
                && columns
                    .iter()
                    .all(|c| index.columns[..columns.len()].contains(&Some(c.clone())))
        })
    }

    /// The name of a key's index: the constraint's own, else PostgreSQL's
    /// default (`t_pkey`, `t_a_key`, numbered when taken), so that a later
    /// `DROP CONSTRAINT t_a_key` or `DROP INDEX` finds it.
    fn key_name(
        &self,
        given: Option<&sqlparser::ast::Ident>,
        table: &str,
        columns: &[Option<String>],
        label: Label,
    ) -> String {
        if let Some(given) = given {
            return ident(given);
        }
        let named: Vec<&str> = columns
            .iter()
            .map(|c| c.as_deref().unwrap_or("expr"))
            .collect();
        let joined = joined_columns(&named);
        choose(table, Some(&joined), label, |name| {
            self.indexes.iter().any(|i| i.name.as_deref() == Some(name))
        })
    }

    fn add_column(&mut self, column: &ColumnDef, table: &str, origin: &Origin) {
        let name = ident(&column.name);
        for option in &column.options {
            match &option.option {
                ColumnOption::PrimaryKey(pk) => {
                    self.primary_key = Some(vec![name.clone()]);
                    let columns = vec![Some(name.clone())];
                    let given = option.name.as_ref().or(pk.name.as_ref());
                    self.indexes.push(Index {
                        name: Some(self.key_name(given, table, &columns, Label::PrimaryKey)),
                        columns,
                    });
                }
                ColumnOption::Unique(unique) => {
                    let columns = vec![Some(name.clone())];
                    let given = option.name.as_ref().or(unique.name.as_ref());
                    self.indexes.push(Index {
                        name: Some(self.key_name(given, table, &columns, Label::Unique)),
                        columns,
                    });
                }
                ColumnOption::ForeignKey(fk) => self.foreign_keys.push(ForeignKey {
                    columns: vec![name.clone()],
                    foreign_table: object(&fk.foreign_table),
                    added_in: origin.version.clone(),
                    path: origin.path.to_path_buf(),
                    position: origin.position,
                }),
                _ => {}
            }
        }
        self.columns.push(Column { name });
    }

    fn add_constraint(
        &mut self,
        constraint: &TableConstraint,
        table: &str,
        not_valid: bool,
        origin: &Origin,
    ) {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let columns = index_columns(&pk.columns);
                self.primary_key = Some(columns.iter().flatten().cloned().collect());
                let name = self.key_name(pk.name.as_ref(), table, &columns, Label::PrimaryKey);
                self.indexes.push(Index {
                    name: Some(name),
                    columns,
                });
            }
            TableConstraint::Unique(unique) => {
                let columns = index_columns(&unique.columns);
                let name = self.key_name(unique.name.as_ref(), table, &columns, Label::Unique);
                self.indexes.push(Index {
                    name: Some(name),
                    columns,
                });
            }
            TableConstraint::ForeignKey(fk) => self.foreign_keys.push(ForeignKey {
                columns: fk.columns.iter().map(ident).collect(),
                foreign_table: object(&fk.foreign_table),
                added_in: origin.version.clone(),
                path: origin.path.to_path_buf(),
                position: origin.position,
            }),
            TableConstraint::Check(check) => {
                if let Expr::IsNotNull(inner) = check.expr.as_ref() {
                    if let Expr::Identifier(column) = inner.as_ref() {
                        self.not_null_checks.push(NotNullCheck {
                            column: ident(column),
                            name: check.name.as_ref().map(ident),
                            validated: !not_valid,
                        });
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether a validated `CHECK (column IS NOT NULL)` exists, so that
    /// `SET NOT NULL` on the column needs no scan.
    pub fn has_validated_not_null_check(&self, column: &str) -> bool {
        self.not_null_checks
            .iter()
            .any(|c| c.validated && c.column == column)
    }
}

/// The key columns of an index definition.
pub fn index_columns(columns: &[IndexColumn]) -> Vec<Option<String>> {
    columns
        .iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(i) => Some(ident(i)),
            _ => None,
        })
        .collect()
}

impl SchemaModel {
    /// The table `name`, when the model knows it.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Replays one parsed statement.
    pub fn apply(&mut self, statement: &Statement, origin: &Origin) {
        match statement {
            Statement::CreateTable(create) => {
                let name = object(&create.name);
                if create.if_not_exists && self.tables.contains_key(&name) {
                    return;
                }
                let mut table = Table {
                    created_in: origin.version.clone(),
                    partitioned: create.partition_by.is_some(),
                    ..Table::default()
                };
                for column in &create.columns {
                    table.add_column(column, &name, origin);
                }
                for constraint in &create.constraints {
                    table.add_constraint(constraint, &name, false, origin);
                }
                self.tables.insert(name, table);
            }
            Statement::AlterTable(alter) => self.alter_table(alter, origin),
            // A materialized view has indexes, and locks, like a table.
            Statement::CreateView(view) if view.materialized => {
                let name = object(&view.name);
                if view.if_not_exists && self.tables.contains_key(&name) {
                    return;
                }
                self.tables.insert(
                    name,
                    Table {
                        created_in: origin.version.clone(),
                        ..Table::default()
                    },
                );
            }
            Statement::CreateIndex(index) => {
                let table_name = object(&index.table_name);
                if let Some(table) = self.tables.get_mut(&table_name) {
                    let columns = index_columns(&index.columns);
                    let name = match &index.name {
                        Some(name) => object(name),
                        None => {
                            let named =
                                index_column_names(index.columns.iter().map(|c| &c.column.expr));
                            choose(
                                &table_name,
                                Some(&joined_columns(&named)),
                                Label::Index,
                                |n| table.indexes.iter().any(|i| i.name.as_deref() == Some(n)),
                            )
                        }
                    };
                    table.indexes.push(Index {
                        name: Some(name),
                        columns,
                    });
                }
            }
            Statement::Drop {
                object_type, names, ..
            } => {
                let names: Vec<String> = names.iter().map(object).collect();
                match object_type {
                    ObjectType::Table | ObjectType::MaterializedView => {
                        self.tables.retain(|name, _| !names.contains(name))
                    }
                    ObjectType::Index => {
                        for table in self.tables.values_mut() {
                            table
                                .indexes
                                .retain(|i| i.name.as_ref().is_none_or(|n| !names.contains(n)));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// `ALTER TABLE`: renames, columns and constraints added, validated or
    /// dropped, in order (a rename moves the later operations to the new name).
    fn alter_table(&mut self, alter: &sqlparser::ast::AlterTable, origin: &Origin) {
        let mut name = object(&alter.name);
        for operation in &alter.operations {
            if let AlterTableOperation::RenameTable { table_name } = operation {
                let new_name = match table_name {
                    sqlparser::ast::RenameTableNameKind::As(n)
                    | sqlparser::ast::RenameTableNameKind::To(n) => object(n),
                };
                if let Some(table) = self.tables.remove(&name) {
                    self.tables.insert(new_name.clone(), table);
                }
                name = new_name;
                continue;
            }
            let Some(table) = self.tables.get_mut(&name) else {
                continue;
            };
            match operation {
                AlterTableOperation::AddColumn { column_def, .. } => {
                    table.add_column(column_def, &name, origin)
                }
                AlterTableOperation::AddConstraint {
                    constraint,
                    not_valid,
                } => table.add_constraint(constraint, &name, *not_valid, origin),
                AlterTableOperation::ValidateConstraint { name: constraint } => {
                    let constraint = ident(constraint);
                    for check in &mut table.not_null_checks {
                        if check.name.as_deref() == Some(constraint.as_str()) {
                            check.validated = true;
                        }
                    }
                }
                AlterTableOperation::DropColumn { column_names, .. } => {
                    let dropped: Vec<String> = column_names.iter().map(ident).collect();
                    table.columns.retain(|c| !dropped.contains(&c.name));
                    table
                        .indexes
                        .retain(|i| !i.columns.iter().flatten().any(|c| dropped.contains(c)));
                    table
                        .foreign_keys
                        .retain(|fk| !fk.columns.iter().any(|c| dropped.contains(c)));
                }
                AlterTableOperation::RenameColumn {
                    old_column_name,
                    new_column_name,
                } => {
                    let (old, new) = (ident(old_column_name), ident(new_column_name));
                    for column in table.columns.iter_mut().filter(|c| c.name == old) {
                        column.name = new.clone();
                    }
                    for index in &mut table.indexes {
                        for column in index.columns.iter_mut().flatten().filter(|c| **c == old) {
                            *column = new.clone();
                        }
                    }
                }
                AlterTableOperation::DropConstraint {
                    name: constraint, ..
                } => {
                    let constraint = ident(constraint);
                    table
                        .indexes
                        .retain(|i| i.name.as_deref() != Some(constraint.as_str()));
                    table
                        .not_null_checks
                        .retain(|c| c.name.as_deref() != Some(constraint.as_str()));
                }
                _ => {}
            }
        }
    }
}
