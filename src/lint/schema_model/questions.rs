//! What the rules ask the model: does a table exist and did this migration
//! make it, is it partitioned, does it have a primary key, which index
//! covers some columns, which foreign keys did this migration add. One
//! [`Schema`] answers them from a replay's objects over the history's, so
//! a statement rule (before the statement) and a migration rule (after the
//! up script) read the same model.

use super::{ConstraintKind, Detail, Object, Replay, ReplayState, Tracked};
use crate::model::text_position::TextPosition;
use std::collections::{BTreeMap, HashMap};

/// The schema at one point of the replay: the objects the migration being
/// replayed named so far, over those the earlier migrations left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schema<'a> {
    objects: &'a BTreeMap<Object, Tracked>,
    by_table: &'a HashMap<String, Vec<Object>>,
    history: Option<&'a BTreeMap<Object, Tracked>>,
    history_by_table: Option<&'a HashMap<String, Vec<Object>>>,
}

/// A foreign key a migration added.
#[derive(Debug, Clone)]
pub(crate) struct AddedForeignKey<'a> {
    /// The referencing table.
    pub table: &'a str,
    /// The referencing columns.
    pub columns: &'a [String],
    /// The referenced table.
    pub references: &'a str,
    /// The statement that declared it.
    pub declared_at: TextPosition,
}

impl Replay<'_> {
    /// The schema as the replay stands (before the next statement).
    pub(crate) fn schema(&self) -> Schema<'_> {
        Schema {
            objects: &self.objects,
            by_table: &self.by_table,
            history: self.history,
            history_by_table: self.history_by_table,
        }
    }
}

impl ReplayState {
    /// The schema this state left, over the earlier migrations' `history`.
    pub(crate) fn over<'a>(&'a self, history: &'a Replay) -> Schema<'a> {
        Schema {
            objects: &self.objects,
            by_table: &self.by_table,
            history: Some(&history.objects),
            history_by_table: Some(&history.by_table),
        }
    }
}

impl<'a> Schema<'a> {
    /// The object, when it is present: as the migration left it, else as
    /// the history did.
    pub(crate) fn present(&self, object: &Object) -> Option<&'a Tracked> {
        match self.objects.get(object) {
            Some(t) => t.present.then_some(t),
            None => self
                .history
                .and_then(|h| h.get(object))
                .filter(|t| t.present),
        }
    }

    /// The present objects that belong to `table` (its indexes, constraints
    /// and partitions), each with its state.
    fn owned_by<'s>(
        &'s self,
        table: &'s str,
    ) -> impl Iterator<Item = (&'a Object, &'a Tracked)> + 's {
        self.by_table
            .get(table)
            .into_iter()
            .chain(self.history_by_table.and_then(|h| h.get(table)))
            .flatten()
            .filter_map(move |object| {
                let tracked = self.present(object)?;
                (tracked.owner(object) == Some(table)).then_some((object, tracked))
            })
    }

    /// The present constraints of `table`, with their columns and kind.
    fn constraints_of<'s>(
        &'s self,
        table: &'s str,
    ) -> impl Iterator<Item = (&'a [String], &'a ConstraintKind)> + 's {
        self.owned_by(table)
            .filter_map(|(_, tracked)| match &tracked.detail {
                Detail::Constraint { columns, kind } => Some((columns.as_slice(), kind)),
                _ => None,
            })
    }

    /// Whether the table (or materialized view) exists.
    pub(crate) fn has_table(&self, table: &str) -> bool {
        self.present(&Object::Relation(table.to_string())).is_some()
    }

    /// Whether the migration being replayed created the table (earlier in
    /// it), so that locking it harms nobody. Unknown tables count as old.
    pub(crate) fn table_is_new(&self, table: &str) -> bool {
        self.present(&Object::Relation(table.to_string()))
            .is_some_and(|t| t.made_here)
    }

    /// Whether the table is partitioned (its indexes cannot be built
    /// `CONCURRENTLY`).
    pub(crate) fn is_partitioned(&self, table: &str) -> bool {
        self.present(&Object::Relation(table.to_string()))
            .is_some_and(|t| {
                matches!(
                    t.detail,
                    Detail::Relation {
                        partitioned: true,
                        ..
                    }
                )
            })
    }

    /// The table an existing index `name` (as qualified as PostgreSQL would
    /// look it up) belongs to.
    pub(crate) fn table_of_index(&self, name: &str) -> Option<&'a str> {
        match &self.present(&Object::Index(name.to_string()))?.detail {
            Detail::Index { table, .. } => Some(table),
            _ => None,
        }
    }

    /// Whether the table has a primary key.
    pub(crate) fn has_primary_key(&self, table: &str) -> bool {
        self.constraints_of(table)
            .any(|(_, kind)| *kind == ConstraintKind::PrimaryKey)
    }

    /// Whether a validated `CHECK (column IS NOT NULL)` exists, so that
    /// `SET NOT NULL` on the column needs no scan (PostgreSQL 12+).
    pub(crate) fn has_validated_not_null_check(&self, table: &str, column: &str) -> bool {
        self.constraints_of(table).any(|(_, kind)| {
            matches!(kind, ConstraintKind::Check { not_null_of: Some(c), validated: true } if c == column)
        })
    }

    /// Whether an index of the table (its own, or a key's) leads with
    /// exactly `columns`, in any order, as equality lookups on all of them
    /// can use it.
    pub(crate) fn has_index_leading_with(&self, table: &str, columns: &[String]) -> bool {
        let leads = |key: &[Option<&str>]| {
            key.len() >= columns.len()
                && columns
                    .iter()
                    .all(|c| key[..columns.len()].contains(&Some(c.as_str())))
        };
        self.owned_by(table)
            .any(|(_, tracked)| match &tracked.detail {
                Detail::Index { columns: key, .. } => {
                    leads(&key.iter().map(Option::as_deref).collect::<Vec<_>>())
                }
                Detail::Constraint { columns: key, kind } if kind.has_index() => {
                    leads(&key.iter().map(|c| Some(c.as_str())).collect::<Vec<_>>())
                }
                _ => false,
            })
    }

    /// The foreign keys the migration being replayed added and that still
    /// exist, on tables the model knows.
    pub(crate) fn foreign_keys_added(&self) -> Vec<AddedForeignKey<'a>> {
        self.objects
            .iter()
            .filter(|(_, tracked)| tracked.present && tracked.made_here)
            .filter_map(|(object, tracked)| match (object, &tracked.detail) {
                (
                    Object::Constraint(table, _),
                    Detail::Constraint {
                        columns,
                        kind:
                            ConstraintKind::ForeignKey {
                                references,
                                declared_at,
                            },
                    },
                ) if self.has_table(table) => Some(AddedForeignKey {
                    table,
                    columns,
                    references,
                    declared_at: *declared_at,
                }),
                _ => None,
            })
            .collect()
    }
}
