//! The attributes of a column the model follows besides its existence:
//! its type and whether it is `NOT NULL`, as written where it is made
//! (`NOT NULL`, `PRIMARY KEY`, identity and `serial` columns) and as `ALTER
//! COLUMN … TYPE` and `SET / DROP NOT NULL` change them, so that a down
//! script that does not give a column back what its up changed is found.

use super::{Detail, Object, Replay};
use crate::model::text_position::TextPosition;
use sqlparser::ast::{ColumnDef, ColumnOption};

impl Replay<'_> {
    /// From here on `table.column` is (`true`) or is not `NOT NULL`.
    pub(super) fn set_not_null(
        &mut self,
        table: &str,
        column: &str,
        not_null: bool,
        at: TextPosition,
    ) {
        self.change_column(table, column, at, |current, _| {
            *current = Some(not_null);
        });
    }

    /// From here on `table.column` is of type `type_name` (as written).
    pub(super) fn set_type(
        &mut self,
        table: &str,
        column: &str,
        type_name: String,
        at: TextPosition,
    ) {
        self.change_column(table, column, at, |_, current| *current = type_name);
    }

    /// Changes a column's `NOT NULL` or type with `change`. A column an
    /// earlier migration made keeps what it was before, for the down
    /// check; a column the model does not know is left unknown.
    fn change_column(
        &mut self,
        table: &str,
        column: &str,
        at: TextPosition,
        change: impl FnOnce(&mut Option<bool>, &mut String),
    ) {
        let object = Object::Column(table.to_string(), column.to_string());
        let Some(mut tracked) = self.present(&object).cloned() else {
            return;
        };
        let was = tracked.column_state();
        let Detail::Column {
            not_null,
            type_name,
        } = &mut tracked.detail
        else {
            return;
        };
        change(not_null, type_name);
        tracked.at = at;
        if !self.objects.contains_key(&object) {
            // The history's: to these scripts, it was there before.
            tracked.before = Some(true);
            tracked.guessed = false;
            tracked.column_before = was;
        }
        self.objects.insert(object, tracked);
    }
}

/// Whether a column is made `NOT NULL` where it is declared: `NOT NULL`,
/// `PRIMARY KEY`, an identity or a `serial` column (the last `NULL` or `NOT
/// NULL` written wins, as in PostgreSQL).
pub(super) fn declared_not_null(column: &ColumnDef) -> bool {
    let serial = matches!(
        column.data_type.to_string().to_ascii_lowercase().as_str(),
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
    );
    let mut not_null = serial;
    for option in &column.options {
        match &option.option {
            ColumnOption::NotNull | ColumnOption::PrimaryKey(_) => not_null = true,
            ColumnOption::Generated {
                generation_expr: None,
                ..
            } => not_null = true,
            ColumnOption::Null => not_null = false,
            _ => {}
        }
    }
    not_null
}
