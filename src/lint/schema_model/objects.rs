//! The objects the model tracks ([`Object`]), what it knows of each
//! ([`Tracked`]) and the details a drop or rename needs ([`Detail`]).

use super::ConstraintKind;
use crate::model::text_position::TextPosition;

/// An object, by kind and name (tables, views and the like folded as
/// PostgreSQL folds them, without `public.`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Object {
    /// A table, a partition or a materialized view (they share a namespace).
    Relation(String),
    /// A view.
    View(String),
    /// A column of a relation.
    Column(String, String),
    /// An index, in its table's schema.
    Index(String),
    /// A named constraint of a table.
    Constraint(String, String),
    /// A type or domain.
    Type(String),
    /// A function or procedure (by name: overloads are not told apart).
    Function(String),
    /// A trigger of a table.
    Trigger(String, String),
    /// A sequence.
    Sequence(String),
    /// A schema.
    Schema(String),
    /// An extension.
    Extension(String),
}

impl Object {
    /// How a message names it.
    pub fn describe(&self) -> String {
        match self {
            Object::Relation(t) => format!("table {t}"),
            Object::View(v) => format!("view {v}"),
            Object::Column(t, c) => format!("column {t}.{c}"),
            Object::Index(i) => format!("index {i}"),
            Object::Constraint(t, c) => format!("constraint {c} of {t}"),
            Object::Type(t) => format!("type {t}"),
            Object::Function(f) => format!("function {f}"),
            Object::Trigger(t, tr) => format!("trigger {tr} on {t}"),
            Object::Sequence(s) => format!("sequence {s}"),
            Object::Schema(s) => format!("schema {s}"),
            Object::Extension(e) => format!("extension {e}"),
        }
    }

    /// The relation it belongs to, for what goes with a relation.
    pub(super) fn relation(&self) -> Option<&str> {
        match self {
            Object::Column(t, _) | Object::Constraint(t, _) | Object::Trigger(t, _) => Some(t),
            _ => None,
        }
    }
}

impl Tracked {
    /// For a column: its type and `NOT NULL` now, as far as known.
    pub fn column_state(&self) -> Option<ColumnState> {
        match &self.detail {
            Detail::Column {
                type_name,
                not_null,
            } => Some(ColumnState {
                type_name: super::type_names::canonical(type_name),
                not_null: *not_null,
            }),
            _ => None,
        }
    }

    /// For a column an earlier migration made whose type or `NOT NULL`
    /// these scripts changed: what they were before them.
    pub fn column_before(&self) -> Option<&ColumnState> {
        self.column_before.as_ref()
    }

    /// The column that owns it, for a `serial` or identity column's
    /// sequence: `(table, column)`.
    pub fn owning_column(&self) -> Option<(&str, &str)> {
        match &self.detail {
            Detail::Sequence { table, column } => Some((table, column)),
            _ => None,
        }
    }

    /// The relation `object` (whose state this is) belongs to: a column's,
    /// constraint's or trigger's table, an index's, a partition's parent.
    pub fn owner<'a>(&'a self, object: &'a Object) -> Option<&'a str> {
        object.relation().or_else(|| self.detail.owner(object))
    }
}

/// What the replay knows of one object.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// Whether it existed before the replayed scripts, when the first
    /// statement that named it tells (`CREATE`: no; `DROP`: yes); `None`
    /// for `CREATE OR REPLACE`, `IF [NOT] EXISTS` and the like.
    pub before: Option<bool>,
    /// Whether it exists now.
    pub present: bool,
    /// Whether `before` is the replay's guess (`CREATE OR REPLACE` of a
    /// function no earlier migration made), undone if it is replaced again.
    pub(super) guessed: bool,
    /// Whether the migration being replayed made it (created it, or renamed
    /// something it made): locking it harms nobody.
    pub(super) made_here: bool,
    /// The statement that last changed it.
    pub at: TextPosition,
    /// For an index: its table and the columns it covers; for a column: its
    /// type's name (so that dropping the type with CASCADE takes it).
    pub(super) detail: Detail,
    /// For a column an earlier migration made whose type or `NOT NULL`
    /// these scripts changed: what they were before them.
    pub(super) column_before: Option<ColumnState>,
}

/// What the down check compares of a column besides its existence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnState {
    /// Its type as PostgreSQL names it, when the model can tell.
    pub type_name: Option<String>,
    /// Whether it is `NOT NULL`, when known.
    pub not_null: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub(super) enum Detail {
    #[default]
    None,
    /// An index: its table and key columns in order (`None` for an
    /// expression).
    Index {
        table: String,
        columns: Vec<Option<String>>,
    },
    /// A column: its type's name, and whether it is `NOT NULL` (`None`:
    /// not known).
    Column {
        type_name: String,
        not_null: Option<bool>,
    },
    Trigger {
        function: String,
    },
    /// A table: its parent when it is a partition, and whether it is
    /// partitioned itself (`PARTITION BY`).
    Relation {
        parent: Option<String>,
        partitioned: bool,
    },
    /// A view's query, lower case, to tell which relations it reads.
    View {
        query: String,
    },
    /// The sequence a `serial` or identity column owns: it goes with the
    /// column (and its table), keeping its name when they are renamed.
    Sequence {
        table: String,
        column: String,
    },
    /// A constraint: the columns it is over (dropping one drops it) and
    /// what kind it is.
    Constraint {
        columns: Vec<String>,
        kind: ConstraintKind,
    },
}

impl Detail {
    /// The relation it belongs to, for what goes when a relation is
    /// dropped or renamed.
    pub(super) fn owner<'a>(&'a self, object: &'a Object) -> Option<&'a str> {
        match (self, object) {
            (Detail::Index { table, .. }, _) => Some(table),
            (
                Detail::Relation {
                    parent: Some(parent),
                    ..
                },
                _,
            ) => Some(parent),
            (Detail::Constraint { .. }, Object::Constraint(table, _)) => Some(table),
            (Detail::Sequence { table, .. }, _) => Some(table),
            _ => None,
        }
    }

    /// Renames column `old` to `new` in what an index or constraint is
    /// over; whether it was there.
    pub(super) fn rename_column(&mut self, old: &str, new: &str) -> bool {
        let mut found = false;
        let mut rename = |column: &mut String| {
            if column == old {
                *column = new.to_string();
                found = true;
            }
        };
        match self {
            Detail::Index { columns, .. } => columns.iter_mut().flatten().for_each(&mut rename),
            Detail::Sequence { column, .. } => rename(column),
            Detail::Constraint { columns, kind } => {
                columns.iter_mut().for_each(&mut rename);
                if let ConstraintKind::Check {
                    not_null_of: Some(column),
                    ..
                } = kind
                {
                    rename(column);
                }
            }
            _ => {}
        }
        found
    }
}

/// The schema an object's name is qualified with, if any.
pub(super) fn schema_of(object: &Object) -> Option<&str> {
    let name = match object {
        Object::Relation(n)
        | Object::View(n)
        | Object::Index(n)
        | Object::Type(n)
        | Object::Function(n)
        | Object::Sequence(n) => n,
        Object::Column(t, _) | Object::Constraint(t, _) | Object::Trigger(t, _) => t,
        Object::Schema(_) | Object::Extension(_) => return None,
    };
    name.rsplit_once('.').map(|(schema, _)| schema)
}
