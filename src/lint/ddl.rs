//! Reading the DDL facts rules care about out of sqlparser's syntax tree,
//! once, so that rules stay short.

use super::names::{ident, object};
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, DataType,
    ForeignKeyConstraint, Ident, ReferentialAction, Spanned, Statement, TableConstraint,
};
use sqlparser::tokenizer::Span;

/// A foreign key declared by a statement.
pub struct DeclaredForeignKey<'a> {
    /// The referencing table.
    pub table: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The constraint as parsed.
    pub constraint: &'a ForeignKeyConstraint,
    /// Where findings about it point: the constraint (its name, columns
    /// and what it references).
    pub span: Span,
}

impl DeclaredForeignKey<'_> {
    /// The `ON DELETE` action, when written.
    pub fn on_delete(&self) -> Option<&ReferentialAction> {
        self.constraint.on_delete.as_ref()
    }
}

/// Every foreign key a statement declares.
pub fn foreign_keys(statement: &Statement) -> Vec<DeclaredForeignKey<'_>> {
    let mut out = Vec::new();
    match statement {
        Statement::CreateTable(create) => {
            let table = object(&create.name);
            for column in &create.columns {
                push_column_keys(&table, column, &mut out);
            }
            for constraint in &create.constraints {
                if let TableConstraint::ForeignKey(fk) = constraint {
                    out.push(table_key(&table, fk));
                }
            }
        }
        Statement::AlterTable(alter) => {
            let table = object(&alter.name);
            for operation in &alter.operations {
                match operation {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        push_column_keys(&table, column_def, &mut out)
                    }
                    AlterTableOperation::AddConstraint {
                        constraint: TableConstraint::ForeignKey(fk),
                        ..
                    } => out.push(table_key(&table, fk)),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out
}

/// A table constraint's foreign key.
fn table_key<'a>(table: &str, fk: &'a ForeignKeyConstraint) -> DeclaredForeignKey<'a> {
    DeclaredForeignKey {
        table: table.to_string(),
        columns: fk.columns.iter().map(ident).collect(),
        constraint: fk,
        span: fk.span(),
    }
}

fn push_column_keys<'a>(table: &str, column: &'a ColumnDef, out: &mut Vec<DeclaredForeignKey<'a>>) {
    for option in &column.options {
        if let ColumnOption::ForeignKey(fk) = &option.option {
            out.push(DeclaredForeignKey {
                table: table.to_string(),
                columns: vec![ident(&column.name)],
                constraint: fk,
                span: option.span(),
            });
        }
    }
}

/// `ALTER TABLE t ADD COLUMN …`: the table and each added column.
pub fn added_columns(statement: &Statement) -> Vec<(String, &ColumnDef)> {
    let Statement::AlterTable(alter) = statement else {
        return Vec::new();
    };
    let table = object(&alter.name);
    alter
        .operations
        .iter()
        .filter_map(|operation| match operation {
            AlterTableOperation::AddColumn { column_def, .. } => Some((table.clone(), column_def)),
            _ => None,
        })
        .collect()
}

/// Every column a statement defines (in `CREATE TABLE` or `ADD COLUMN`), with its table.
pub fn defined_columns(statement: &Statement) -> Vec<(String, &ColumnDef)> {
    match statement {
        Statement::CreateTable(create) => {
            let table = object(&create.name);
            create.columns.iter().map(|c| (table.clone(), c)).collect()
        }
        _ => added_columns(statement),
    }
}

/// The operations of an `ALTER TABLE`, with its table.
pub fn alter_operations(statement: &Statement) -> Option<(String, &[AlterTableOperation])> {
    match statement {
        Statement::AlterTable(alter) => Some((object(&alter.name), &alter.operations)),
        _ => None,
    }
}

/// `ALTER COLUMN` operations of an `ALTER TABLE`: the table, the column
/// (its identifier, where findings point) and the operation.
pub fn column_alterations(statement: &Statement) -> Vec<(String, &Ident, &AlterColumnOperation)> {
    let Some((table, operations)) = alter_operations(statement) else {
        return Vec::new();
    };
    operations
        .iter()
        .filter_map(|operation| match operation {
            AlterTableOperation::AlterColumn { column_name, op } => {
                Some((table.clone(), column_name, op))
            }
            _ => None,
        })
        .collect()
}

/// Whether a column definition has the option.
pub fn has_option(column: &ColumnDef, matches: impl Fn(&ColumnOption) -> bool) -> bool {
    column.options.iter().any(|o| matches(&o.option))
}

/// Every column a statement gives a type: defined by `CREATE TABLE` or `ADD
/// COLUMN`, or changed by `ALTER COLUMN … [SET DATA] TYPE`; with its table.
pub fn typed_columns(statement: &Statement) -> Vec<(String, &Ident, &DataType)> {
    let mut out: Vec<(String, &Ident, &DataType)> = defined_columns(statement)
        .into_iter()
        .map(|(table, column)| (table, &column.name, &column.data_type))
        .collect();
    if let Statement::AlterTable(alter) = statement {
        let table = object(&alter.name);
        for operation in &alter.operations {
            if let AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { data_type, .. },
            } = operation
            {
                out.push((table.clone(), column_name, data_type));
            }
        }
    }
    out
}

/// The element type of an array type (`int[]`, `int ARRAY`), else the type.
pub fn element_type(data_type: &DataType) -> &DataType {
    match data_type {
        DataType::Array(
            sqlparser::ast::ArrayElemTypeDef::SquareBracket(inner, _)
            | sqlparser::ast::ArrayElemTypeDef::AngleBracket(inner)
            | sqlparser::ast::ArrayElemTypeDef::Parenthesis(inner),
        ) => element_type(inner),
        other => other,
    }
}

/// Whether the type is one of the `serial` pseudo-types (a sequence default).
pub fn is_serial(data_type: &DataType) -> bool {
    let name = data_type.to_string().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
    )
}
