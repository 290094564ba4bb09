//! PostgreSQL's dependency rules, as the model applies them: what goes
//! when an object is dropped (with `CASCADE` or not), what moves with a
//! relation when it is renamed.

use super::objects::schema_of;
use super::{Detail, Object, Tracked};

/// Whether `object` goes when `dropped` is dropped (with `CASCADE` or not).
pub(super) fn depends_on(
    object: &Object,
    tracked: &Tracked,
    dropped: &Object,
    cascade: bool,
) -> bool {
    match (dropped, object, &tracked.detail) {
        (
            Object::Relation(r) | Object::View(r),
            Object::View(_) | Object::Relation(_),
            Detail::View { query },
        ) => cascade && mentions(query, r),
        (Object::Relation(r), _, Detail::Index { table, .. } | Detail::Sequence { table, .. }) => {
            table == r
        }
        (Object::Column(t, c), Object::Sequence(_), Detail::Sequence { table, column }) => {
            table == t && column == c
        }
        (
            Object::Relation(r),
            _,
            Detail::Relation {
                parent: Some(parent),
                ..
            },
        ) => parent == r,
        (Object::Relation(r), o, _) => o.relation() == Some(r.as_str()),
        (Object::Column(t, c), Object::Index(_), Detail::Index { table, columns }) => {
            table == t && columns.iter().flatten().any(|column| column == c)
        }
        (
            Object::Column(t, c),
            Object::Constraint(table, _),
            Detail::Constraint { columns, .. },
        ) => table == t && columns.contains(c),
        (Object::Type(ty), Object::Column(..), Detail::Column { type_name, .. }) => {
            cascade && type_name == ty
        }
        (Object::Function(f), Object::Trigger(..), Detail::Trigger { function }) => {
            cascade && function == f
        }
        (Object::Schema(s), o, _) => cascade && schema_of(o).is_some_and(|schema| schema == s),
        _ => false,
    }
}

/// Whether `object` goes with `owner` when it is renamed.
pub(super) fn hangs_off(object: &Object, tracked: &Tracked, owner: &Object) -> bool {
    match owner {
        Object::Relation(r) => {
            object.relation() == Some(r.as_str())
                || matches!(&tracked.detail, Detail::Index { table, .. } | Detail::Sequence { table, .. } if table == r)
        }
        _ => false,
    }
}

/// `object` under `to` when `from` is renamed.
pub(super) fn renamed(object: &Object, from: &Object, to: &Object) -> Object {
    if object == from {
        return to.clone();
    }
    let (Object::Relation(_), Object::Relation(new)) = (from, to) else {
        return object.clone();
    };
    match object {
        Object::Column(_, c) => Object::Column(new.clone(), c.clone()),
        Object::Constraint(_, c) => Object::Constraint(new.clone(), c.clone()),
        Object::Trigger(_, t) => Object::Trigger(new.clone(), t.clone()),
        other => other.clone(),
    }
}

/// Whether `query` names `relation` (or its unqualified name) as a word.
fn mentions(query: &str, relation: &str) -> bool {
    let bare = relation.rsplit('.').next().unwrap_or(relation);
    query
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .any(|word| word == relation || word.rsplit('.').next() == Some(bare))
}
