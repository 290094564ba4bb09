//! How each statement changes the model: `CREATE`, `DROP`, `ALTER TABLE`,
//! `ALTER INDEX`/`TYPE` renames, and what the recogniser recovered of
//! statements sqlparser does not read whole.

use super::attributes::declared_not_null;
use super::{Detail, Object, Replay};
use crate::lint::names::{ident, object};
use crate::model::text_position::TextPosition;
use sqlparser::ast::{
    AlterColumnOperation, AlterIndexOperation, AlterTableOperation, AlterTypeOperation, ObjectType,
    RenameTableNameKind, Statement,
};

impl Replay<'_> {
    pub(super) fn statement(&mut self, ast: &Statement, at: TextPosition) {
        match ast {
            Statement::CreateTable(create) => self.create_table(create, at),
            Statement::CreateView(view) => {
                let name = object(&view.name);
                let query = view.query.to_string().to_lowercase();
                let kind = if view.materialized {
                    Object::Relation(name)
                } else {
                    Object::View(name)
                };
                self.create(
                    kind,
                    view.or_replace || view.if_not_exists,
                    at,
                    Detail::View { query },
                );
            }
            Statement::CreateIndex(index) => self.create_index(index, at),
            Statement::CreateType { name, .. } => {
                self.create(Object::Type(object(name)), false, at, Detail::None)
            }
            Statement::CreateDomain(domain) => {
                self.create(Object::Type(object(&domain.name)), false, at, Detail::None)
            }
            Statement::CreateFunction(function) => self.create(
                Object::Function(object(&function.name)),
                function.or_replace || function.if_not_exists,
                at,
                Detail::None,
            ),
            Statement::CreateTrigger(trigger) => {
                let function = trigger
                    .exec_body
                    .as_ref()
                    .map(|body| object(&body.func_desc.name))
                    .unwrap_or_default();
                self.create(
                    Object::Trigger(object(&trigger.table_name), object(&trigger.name)),
                    trigger.or_replace,
                    at,
                    Detail::Trigger { function },
                );
            }
            Statement::CreateSequence {
                name,
                if_not_exists,
                ..
            } => self.create(
                Object::Sequence(object(name)),
                *if_not_exists,
                at,
                Detail::None,
            ),
            Statement::CreateSchema {
                schema_name,
                if_not_exists,
                ..
            } => self.create(
                Object::Schema(schema_name.to_string().trim_matches('"').to_lowercase()),
                *if_not_exists,
                at,
                Detail::None,
            ),
            Statement::CreateExtension(extension) => self.create(
                Object::Extension(ident(&extension.name)),
                extension.if_not_exists,
                at,
                Detail::None,
            ),
            Statement::AlterTable(alter) => self.alter_table(alter, at),
            Statement::AlterIndex {
                name,
                operation: AlterIndexOperation::RenameIndex { index_name },
            } => {
                let old = object(name);
                let new = match old.rsplit_once('.') {
                    Some((schema, _)) => format!("{schema}.{}", object(index_name)),
                    None => object(index_name),
                };
                self.rename(Object::Index(old), Object::Index(new), at);
            }
            Statement::AlterType(alter) => {
                if let AlterTypeOperation::Rename(rename) = &alter.operation {
                    self.rename(
                        Object::Type(object(&alter.name)),
                        Object::Type(ident(&rename.new_name)),
                        at,
                    );
                }
            }
            Statement::Call(_) | Statement::Execute { .. } => {
                self.opaque.get_or_insert(at);
            }
            _ => self.drop_statement(ast, at),
        }
    }

    /// `CREATE TABLE`: the table, its columns and its named constraints.
    fn create_table(&mut self, create: &sqlparser::ast::CreateTable, at: TextPosition) {
        let table = object(&create.name);
        let replace = create.if_not_exists || create.or_replace;
        if replace && self.present(&Object::Relation(table.clone())).is_some() {
            return;
        }
        for column in &create.columns {
            let detail = Detail::Column {
                type_name: column.data_type.to_string().to_lowercase(),
                not_null: Some(declared_not_null(column)),
            };
            self.create(
                Object::Column(table.clone(), ident(&column.name)),
                replace,
                at,
                detail,
            );
        }
        for column in &create.columns {
            self.column_constraints(&table, column, replace, at);
            self.owned_sequence(&table, column, replace, at);
        }
        for constraint in &create.constraints {
            self.table_constraint(&table, constraint, replace, false, at);
        }
        let detail = Detail::Relation {
            parent: create.partition_of.as_ref().map(object),
            partitioned: create.partition_by.is_some(),
        };
        self.create(Object::Relation(table), replace, at, detail);
    }

    /// The `DROP` statements (of tables, views, indexes, types, sequences,
    /// schemas, triggers, functions, domains, extensions).
    fn drop_statement(&mut self, ast: &Statement, at: TextPosition) {
        match ast {
            Statement::Drop {
                object_type,
                names,
                if_exists,
                cascade,
                table,
                ..
            } => {
                for name in names {
                    let name = object(name);
                    let dropped = match object_type {
                        ObjectType::Table | ObjectType::MaterializedView => Object::Relation(name),
                        ObjectType::View => Object::View(name),
                        ObjectType::Index => Object::Index(name),
                        ObjectType::Type => Object::Type(name),
                        ObjectType::Sequence => Object::Sequence(name),
                        ObjectType::Schema => Object::Schema(name),
                        _ => match table {
                            Some(table) => Object::Trigger(object(table), name),
                            None => continue,
                        },
                    };
                    self.drop(dropped, *if_exists, *cascade, at);
                }
            }
            Statement::DropFunction(drop) => {
                for function in &drop.func_desc {
                    self.drop(
                        Object::Function(object(&function.name)),
                        drop.if_exists,
                        cascades(&drop.drop_behavior),
                        at,
                    );
                }
            }
            Statement::DropTrigger(drop) => {
                if let Some(table) = &drop.table_name {
                    self.drop(
                        Object::Trigger(object(table), object(&drop.trigger_name)),
                        drop.if_exists,
                        false,
                        at,
                    );
                }
            }
            Statement::DropDomain(drop) => self.drop(
                Object::Type(object(&drop.name)),
                drop.if_exists,
                cascades(&drop.drop_behavior),
                at,
            ),
            Statement::DropExtension(drop) => {
                for name in &drop.names {
                    self.drop(Object::Extension(ident(name)), drop.if_exists, false, at);
                }
            }
            _ => {}
        }
    }

    fn alter_table(&mut self, alter: &sqlparser::ast::AlterTable, at: TextPosition) {
        let mut table = object(&alter.name);
        for operation in &alter.operations {
            match operation {
                AlterTableOperation::AddColumn {
                    column_def,
                    if_not_exists,
                    ..
                } => {
                    let column = Object::Column(table.clone(), ident(&column_def.name));
                    if *if_not_exists && self.present(&column).is_some() {
                        continue;
                    }
                    self.create(
                        column,
                        *if_not_exists,
                        at,
                        Detail::Column {
                            type_name: column_def.data_type.to_string().to_lowercase(),
                            not_null: Some(declared_not_null(column_def)),
                        },
                    );
                    self.column_constraints(&table, column_def, *if_not_exists, at);
                    self.owned_sequence(&table, column_def, *if_not_exists, at);
                }
                AlterTableOperation::DropColumn {
                    column_names,
                    if_exists,
                    drop_behavior,
                    ..
                } => {
                    let cascade = cascades(drop_behavior);
                    for column in column_names {
                        self.drop(
                            Object::Column(table.clone(), ident(column)),
                            *if_exists,
                            cascade,
                            at,
                        );
                    }
                }
                AlterTableOperation::AddConstraint {
                    constraint,
                    not_valid,
                } => self.table_constraint(&table, constraint, false, *not_valid, at),
                AlterTableOperation::ValidateConstraint { name } => {
                    self.validate_constraint(&table, &ident(name))
                }
                AlterTableOperation::DropConstraint {
                    name, if_exists, ..
                } => self.drop(
                    Object::Constraint(table.clone(), ident(name)),
                    *if_exists,
                    false,
                    at,
                ),
                AlterTableOperation::RenameColumn {
                    old_column_name,
                    new_column_name,
                } => self.rename(
                    Object::Column(table.clone(), ident(old_column_name)),
                    Object::Column(table.clone(), ident(new_column_name)),
                    at,
                ),
                AlterTableOperation::AlterColumn { column_name, op } => match op {
                    AlterColumnOperation::SetNotNull => {
                        self.set_not_null(&table, &ident(column_name), true, at)
                    }
                    AlterColumnOperation::DropNotNull => {
                        self.set_not_null(&table, &ident(column_name), false, at)
                    }
                    AlterColumnOperation::SetDataType { data_type, .. } => self.set_type(
                        &table,
                        &ident(column_name),
                        data_type.to_string().to_lowercase(),
                        at,
                    ),
                    _ => {}
                },
                AlterTableOperation::RenameConstraint { old_name, new_name } => self.rename(
                    Object::Constraint(table.clone(), ident(old_name)),
                    Object::Constraint(table.clone(), ident(new_name)),
                    at,
                ),
                AlterTableOperation::RenameTable { table_name } => {
                    let new = match table_name {
                        RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => object(n),
                    };
                    // The new name stays in the table's schema.
                    let new = match table.rsplit_once('.') {
                        Some((schema, _)) if !new.contains('.') => format!("{schema}.{new}"),
                        _ => new,
                    };
                    self.rename(
                        Object::Relation(table.clone()),
                        Object::Relation(new.clone()),
                        at,
                    );
                    table = new;
                }
                _ => {}
            }
        }
    }

    pub(super) fn recognised(
        &mut self,
        recognised: &crate::lint::recognise::Recognised,
        at: TextPosition,
    ) {
        if matches!(recognised.command.as_str(), "DO" | "CALL") {
            self.opaque.get_or_insert(at);
            return;
        }
        let Some(name) = recognised.object.clone() else {
            return;
        };
        let replace = recognised.command.contains("OR REPLACE");
        match recognised.command.as_str() {
            "DROP INDEX" => self.drop(Object::Index(name), true, false, at),
            "CREATE FUNCTION"
            | "CREATE PROCEDURE"
            | "CREATE OR REPLACE FUNCTION"
            | "CREATE OR REPLACE PROCEDURE" => {
                self.create(Object::Function(name), replace, at, Detail::None)
            }
            "CREATE TRIGGER"
            | "CREATE CONSTRAINT TRIGGER"
            | "CREATE OR REPLACE TRIGGER"
            | "CREATE OR REPLACE CONSTRAINT TRIGGER" => {
                if let Some(table) = recognised.table.clone() {
                    self.create(Object::Trigger(table, name), replace, at, Detail::None)
                }
            }
            "CREATE TYPE" | "CREATE DOMAIN" => {
                self.create(Object::Type(name), false, at, Detail::None)
            }
            "DROP DOMAIN" => self.drop(Object::Type(name), true, false, at),
            "CREATE SEQUENCE" => self.create(Object::Sequence(name), true, at, Detail::None),
            "CREATE SCHEMA" => self.create(Object::Schema(name), true, at, Detail::None),
            "CREATE EXTENSION" => self.create(Object::Extension(name), true, at, Detail::None),
            _ => {}
        }
    }
}

/// Whether a drop says `CASCADE`.
fn cascades(behavior: &Option<sqlparser::ast::DropBehavior>) -> bool {
    matches!(behavior, Some(sqlparser::ast::DropBehavior::Cascade))
}
