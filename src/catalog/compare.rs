//! Comparing two snapshots object by object, and showing the difference as
//! a unified diff.

use super::normalise::{likeness, Likeness};
use super::{SchemaObject, Snapshot};
use crate::config::DifferencePolicy;
use similar::TextDiff;
use std::collections::HashMap;

/// How an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DifferenceKind {
    /// Expected but absent.
    Missing,
    /// Present but not expected.
    Unexpected,
    /// Present on both sides with different definitions.
    Changed,
    /// A table whose columns are the same but in another physical order
    /// (typically a dropped column re-added at the end). Harmless to most
    /// applications, so its severity is configurable.
    ColumnOrder,
    /// The same definition laid out differently (whitespace, comments,
    /// keyword case): not a change, noted in verbose output.
    Formatting,
    /// A definition that differs only in timestamp literals, as a `'now'`
    /// frozen when the object was created gives on every re-creation. Its
    /// severity is configurable.
    VolatileLiteral,
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Difference {
    /// How.
    pub kind: DifferenceKind,
    /// The object's kind (`table`, `index`, …).
    pub object_kind: String,
    /// The object's name.
    pub name: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            DifferenceKind::Missing => "missing",
            DifferenceKind::Unexpected => "unexpected",
            DifferenceKind::Changed => "changed",
            DifferenceKind::ColumnOrder => "columns in another order",
            DifferenceKind::Formatting => "the same definition, formatted differently",
            DifferenceKind::VolatileLiteral => "differs only in timestamp literals",
        };
        write!(f, "{} {}: {what}", self.object_kind, self.name)
    }
}

/// The differences between what was `expected` and what is `actual`.
pub fn compare(expected: &Snapshot, actual: &Snapshot) -> Vec<Difference> {
    let (expected_index, actual_index) = (index(expected), index(actual));
    let mut out = Vec::new();
    for object in &expected.objects {
        let difference = |kind| Difference {
            kind,
            object_kind: object.kind.clone(),
            name: object.name.clone(),
        };
        match actual_index.get(&(object.kind.as_str(), object.name.as_str())) {
            None => out.push(difference(DifferenceKind::Missing)),
            Some(other) if other.lines != object.lines => {
                out.push(difference(match likeness(&object.lines, &other.lines) {
                    Likeness::Formatting => DifferenceKind::Formatting,
                    Likeness::TimestampLiterals => DifferenceKind::VolatileLiteral,
                    Likeness::Different => DifferenceKind::Changed,
                }))
            }
            Some(other) if other.column_order != object.column_order => {
                out.push(difference(DifferenceKind::ColumnOrder))
            }
            Some(_) => {}
        }
    }
    for object in &actual.objects {
        if !expected_index.contains_key(&(object.kind.as_str(), object.name.as_str())) {
            out.push(Difference {
                kind: DifferenceKind::Unexpected,
                object_kind: object.kind.clone(),
                name: object.name.clone(),
            });
        }
    }
    out
}

/// How the tolerable classes of difference count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    /// For [`DifferenceKind::ColumnOrder`].
    pub column_order: DifferencePolicy,
    /// For [`DifferenceKind::VolatileLiteral`].
    pub volatile_literal: DifferencePolicy,
}

/// Differences sorted by how they count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sorted {
    /// Failures.
    pub errors: Vec<Difference>,
    /// Reported, not failures.
    pub warnings: Vec<Difference>,
    /// Not even warnings (formatting only): for verbose output.
    pub notes: Vec<Difference>,
}

impl Tolerance {
    /// The policies `options` set.
    pub fn of(options: &crate::config::VerifySettings) -> Self {
        Self {
            column_order: options.column_order,
            volatile_literal: options.volatile_literal,
        }
    }

    /// Sorts `differences` into errors, warnings and notes.
    pub fn sort(&self, differences: Vec<Difference>) -> Sorted {
        let mut sorted = Sorted::default();
        for difference in differences {
            let policy = match difference.kind {
                DifferenceKind::ColumnOrder => self.column_order,
                DifferenceKind::VolatileLiteral => self.volatile_literal,
                DifferenceKind::Formatting => {
                    sorted.notes.push(difference);
                    continue;
                }
                _ => DifferencePolicy::Error,
            };
            match policy {
                DifferencePolicy::Error => sorted.errors.push(difference),
                DifferencePolicy::Warning => sorted.warnings.push(difference),
                DifferencePolicy::Ignore => {}
            }
        }
        sorted
    }
}

fn index(snapshot: &Snapshot) -> HashMap<(&str, &str), &SchemaObject> {
    snapshot
        .objects
        .iter()
        .map(|o| ((o.kind.as_str(), o.name.as_str()), o))
        .collect()
}

/// A unified diff of the text forms, `expected` as the old side.
pub(crate) fn unified_diff(
    expected: &Snapshot,
    actual: &Snapshot,
    expected_label: &str,
    actual_label: &str,
) -> String {
    let (old, new) = (expected.to_text(), actual.to_text());
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(2)
        .header(expected_label, actual_label)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, columns: &[&str]) -> SchemaObject {
        let mut lines: Vec<String> = columns
            .iter()
            .map(|c| format!("column {c} integer"))
            .collect();
        lines.sort();
        SchemaObject {
            kind: "table".into(),
            name: name.into(),
            lines,
            column_order: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn tells_moved_columns_from_changed_ones() {
        let before = Snapshot {
            objects: vec![table("t", &["a", "b", "c"])],
        };
        let moved = Snapshot {
            objects: vec![table("t", &["a", "c", "b"])],
        };
        let changed = Snapshot {
            objects: vec![table("t", &["a", "b"])],
        };
        assert_eq!(
            compare(&before, &moved)[0].kind,
            DifferenceKind::ColumnOrder
        );
        assert_eq!(compare(&before, &changed)[0].kind, DifferenceKind::Changed);
        assert!(compare(&before, &before).is_empty());
        let other = Snapshot {
            objects: vec![table("u", &["a"])],
        };
        let kinds: Vec<DifferenceKind> = compare(&before, &other).iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            vec![DifferenceKind::Missing, DifferenceKind::Unexpected]
        );
        let diff = unified_diff(&before, &moved, "a", "b");
        assert!(
            diff.lines().any(|l| l.starts_with("-  column "))
                && diff.lines().any(|l| l.starts_with("+  column ")),
            "{diff}"
        );
    }
}
