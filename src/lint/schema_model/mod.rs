//! The linter's one model of the schema: what the migrations do to the
//! objects they name, replayed statement by statement with PostgreSQL's
//! dependency and naming rules. Every rule reads it through [`Schema`]
//! (what exists before a statement, after an up script), and
//! `down-does-not-reverse` compares its states after an up and its down.
//!
//! Only the objects the scripts name are tracked (tables, partitions,
//! columns, indexes, named constraints, views, materialized views, types and
//! domains, functions and procedures, triggers, sequences, schemas and
//! extensions), each as present or absent. A drop takes what PostgreSQL
//! takes with it: a table its columns, indexes, constraints and triggers; a
//! column the indexes over it; a materialized view its indexes; with
//! `CASCADE`, a type the columns of that type and a function the triggers
//! that call it. Renames move an object and everything that hangs off it.
//!
//! Statements that may change objects but cannot be read (unparsed ones,
//! `DO` blocks, `CALL`, `SELECT` of a function) make the replay
//! [`Replay::opaque`]: its result is then a guess.

mod attributes;
mod constraints;
mod dependencies;
mod objects;
mod questions;
mod statements;
mod type_names;

pub(crate) use constraints::ConstraintKind;
pub(crate) use objects::{Object, Tracked};
pub(crate) use questions::Schema;

use super::ParsedStatement;
use crate::model::text_position::TextPosition;
use dependencies::{depends_on, hangs_off, renamed};
use objects::Detail;
use std::collections::{BTreeMap, HashMap};

/// What a replay knew at one point (after an up script, after its down).
#[derive(Debug, Clone, Default)]
pub struct ReplayState {
    /// Every object named, and its state.
    pub objects: BTreeMap<Object, Tracked>,
    by_table: HashMap<String, Vec<Object>>,
    /// Where the first statement that could not be read is, when one may
    /// change objects.
    pub opaque: Option<TextPosition>,
}

/// The replay of one or more scripts.
#[derive(Debug, Clone, Default)]
pub struct Replay<'h> {
    /// Every object named so far.
    pub objects: BTreeMap<Object, Tracked>,
    /// Where the first statement that could not be read is, when one may
    /// change objects.
    pub opaque: Option<TextPosition>,
    /// The objects of the earlier migrations, for what a drop or rename
    /// takes with it that these scripts never named (the index over a
    /// column created long ago).
    history: Option<&'h BTreeMap<Object, Tracked>>,
    /// Indexes and partitions by the table they belong to (what a drop of
    /// the table or of one of its columns takes), as created here.
    by_table: HashMap<String, Vec<Object>>,
    /// The same, of the history.
    history_by_table: Option<&'h HashMap<String, Vec<Object>>>,
    /// Whether an earlier migration had a statement that may change objects
    /// unseen (then what no earlier migration made may still exist).
    history_opaque: bool,
    /// Whether any script absorbed so far had such a statement.
    ever_opaque: bool,
}

impl<'h> Replay<'h> {
    /// A replay on top of the objects the earlier migrations left.
    pub fn on_top_of(history: &'h Replay) -> Self {
        Self {
            history: Some(&history.objects),
            history_by_table: Some(&history.by_table),
            history_opaque: history.ever_opaque,
            ..Self::default()
        }
    }

    /// The object, when it is present: as these scripts left it, else as
    /// the history did.
    fn present(&self, object: &Object) -> Option<&Tracked> {
        self.schema().present(object)
    }

    /// Replays one statement.
    pub fn step(&mut self, item: &ParsedStatement) {
        let at = item.statement.position;
        match (&item.ast, &item.recognised) {
            (Some(ast), _) => self.statement(ast, at),
            (None, Some(recognised)) => self.recognised(recognised, at),
            (None, None) if item.error.is_some() => {
                self.opaque.get_or_insert(at);
            }
            (None, None) => {}
        }
    }

    /// What the replay knows now, without its borrow of the history.
    pub fn state(&self) -> ReplayState {
        ReplayState {
            objects: self.objects.clone(),
            by_table: self.by_table.clone(),
            opaque: self.opaque,
        }
    }

    /// Whether a script absorbed so far had a statement that may change
    /// objects unseen (then what the replay says was never made may exist).
    pub fn ever_opaque(&self) -> bool {
        self.ever_opaque
    }

    /// Starts a new script: what could not be read so far belongs to the
    /// scripts before.
    pub fn forget_opaque(&mut self) {
        self.opaque = None;
    }

    /// Takes in what one more migration's up script did (the history of
    /// the migrations after it).
    pub fn absorb(&mut self, state: ReplayState) {
        self.ever_opaque |= state.opaque.is_some();
        self.objects
            .extend(state.objects.into_iter().map(|(object, mut tracked)| {
                tracked.made_here = false;
                (object, tracked)
            }));
        for (table, objects) in state.by_table {
            self.by_table.entry(table).or_default().extend(objects);
        }
    }

    fn create(&mut self, object: Object, replace: bool, at: TextPosition, detail: Detail) {
        let known = self.objects.contains_key(&object);
        let before = match (replace, known) {
            (false, _) => Some(false),
            (true, true) => None,
            (true, false) => self.guess_before(&object),
        };
        let entry = self.objects.entry(object.clone()).or_insert(Tracked {
            before,
            present: false,
            guessed: replace && before.is_some(),
            made_here: false,
            at,
            detail: Detail::None,
            column_before: None,
        });
        if replace && known && entry.guessed {
            // Created again, `OR REPLACE`: the scripts bring back an
            // earlier version, so it may well have existed before.
            entry.before = None;
            entry.guessed = false;
        }
        entry.present = true;
        entry.made_here = true;
        entry.at = at;
        entry.detail = detail;
        self.register_owner(&object);
    }

    /// Whether a function, procedure or trigger that `CREATE OR REPLACE`
    /// makes existed before: not when no earlier migration made it and
    /// every earlier migration was read whole (then it is new, and a down
    /// that leaves it behind is found); unknown otherwise.
    fn guess_before(&self, object: &Object) -> Option<bool> {
        if !matches!(object, Object::Function(_) | Object::Trigger(..)) || self.history_opaque {
            return None;
        }
        match self.history.and_then(|h| h.get(object)) {
            Some(tracked) => Some(tracked.present),
            None => Some(false),
        }
    }

    /// Files `object` under the relation it belongs to, if any (what a drop
    /// or rename of that relation, or of one of its columns, takes).
    fn register_owner(&mut self, object: &Object) {
        let owner = self
            .objects
            .get(object)
            .and_then(|t| t.detail.owner(object))
            .map(str::to_string);
        if let Some(owner) = owner {
            self.by_table.entry(owner).or_default().push(object.clone());
        }
    }

    fn drop(&mut self, object: Object, if_exists: bool, cascade: bool, at: TextPosition) {
        self.mark_absent(&object, if_exists, at);
        // What goes with it.
        let dependants = self.dependants(&object, cascade);
        for dependant in dependants {
            // Named here: its entry stays; from the history: it existed.
            // What the dependant takes goes too (a partition's indexes).
            self.drop(dependant, false, cascade, at);
        }
    }

    /// What dropping `dropped` takes with it, among the present objects of
    /// these scripts and of the history. Looked up by range and by table,
    /// not by a scan, so that a script of many drops stays linear; only
    /// `CASCADE` drops of types, functions, schemas and relations with
    /// views scan.
    fn dependants(&self, dropped: &Object, cascade: bool) -> Vec<Object> {
        let mut candidates: Vec<Object> = Vec::new();
        let maps = std::iter::once(&self.objects).chain(self.history);
        match dropped {
            Object::Relation(r) | Object::Column(r, _) | Object::View(r) => {
                for map in maps {
                    if matches!(dropped, Object::Relation(_)) {
                        for start in [
                            Object::Column(r.clone(), String::new()),
                            Object::Constraint(r.clone(), String::new()),
                            Object::Trigger(r.clone(), String::new()),
                        ] {
                            candidates.extend(
                                map.range(start..)
                                    .map(|(o, _)| o)
                                    .take_while(|o| o.relation() == Some(r.as_str()))
                                    .cloned(),
                            );
                        }
                    }
                    if let Some(indexes) = self.by_table.get(r) {
                        candidates.extend(indexes.iter().cloned());
                    }
                    if let Some(history) = self.history_by_table {
                        if let Some(indexes) = history.get(r) {
                            candidates.extend(indexes.iter().cloned());
                        }
                    }
                    if cascade && matches!(dropped, Object::Relation(_) | Object::View(_)) {
                        candidates.extend(
                            map.iter()
                                .filter(|(_, t)| matches!(t.detail, Detail::View { .. }))
                                .map(|(o, _)| o.clone()),
                        );
                    }
                }
            }
            Object::Type(_) | Object::Function(_) | Object::Schema(_) if cascade => {
                for map in maps {
                    candidates.extend(map.keys().cloned());
                }
            }
            _ => {}
        }
        candidates.sort();
        candidates.dedup();
        candidates
            .into_iter()
            .filter(|o| o != dropped)
            .filter(|o| {
                self.present(o)
                    .is_some_and(|t| depends_on(o, t, dropped, cascade))
            })
            .collect()
    }

    fn mark_absent(&mut self, object: &Object, unsure: bool, at: TextPosition) {
        let entry = self.objects.entry(object.clone()).or_insert(Tracked {
            before: (!unsure).then_some(true),
            present: true,
            guessed: false,
            made_here: false,
            at,
            detail: Detail::None,
            column_before: None,
        });
        entry.present = false;
        entry.at = at;
    }

    fn rename(&mut self, from: Object, to: Object, at: TextPosition) {
        let mut names = vec![from.clone()];
        if matches!(from, Object::Relation(_)) {
            names.extend(self.dependants(&from, false));
        }
        let moved: Vec<(Object, Tracked)> = names
            .into_iter()
            .filter_map(|o| {
                let tracked = self.present(&o)?.clone();
                (o == from || hangs_off(&o, &tracked, &from)).then_some((o, tracked))
            })
            .collect();
        if moved.is_empty() {
            // Not seen before: it existed, under its old name.
            self.mark_absent(&from, false, at);
            self.create(to.clone(), false, at, Detail::None);
            if let Some(t) = self.objects.get_mut(&to) {
                t.before = Some(false);
                t.made_here = false;
            }
            return;
        }
        for (old, tracked) in moved {
            let new = renamed(&old, &from, &to);
            self.mark_absent(&old, false, at);
            let detail = match (&tracked.detail, &from, &to) {
                (Detail::Index { table, columns }, Object::Relation(f), Object::Relation(t))
                    if table == f =>
                {
                    Detail::Index {
                        table: t.clone(),
                        columns: columns.clone(),
                    }
                }
                (Detail::Sequence { table, column }, Object::Relation(f), Object::Relation(t))
                    if table == f =>
                {
                    Detail::Sequence {
                        table: t.clone(),
                        column: column.clone(),
                    }
                }
                (
                    Detail::Index { table, columns },
                    Object::Column(ft, fc),
                    Object::Column(_, tc),
                ) if table == ft => Detail::Index {
                    table: table.clone(),
                    columns: columns
                        .iter()
                        .map(|c| match c {
                            Some(c) if c == fc => Some(tc.clone()),
                            c => c.clone(),
                        })
                        .collect(),
                },
                (d, _, _) => d.clone(),
            };
            let entry = self.objects.entry(new.clone()).or_insert(Tracked {
                before: Some(false),
                present: false,
                guessed: false,
                made_here: false,
                at,
                detail: Detail::None,
                column_before: None,
            });
            entry.present = true;
            entry.made_here = tracked.made_here;
            entry.at = at;
            entry.detail = detail;
            self.register_owner(&new);
        }
        if let (Object::Column(table, old), Object::Column(_, new)) = (&from, &to) {
            self.rename_column_in_details(table, old, new);
        }
    }

    /// After `table.old` is renamed to `new`: the indexes and constraints
    /// over it are over `new` (so that dropping `new` takes them).
    fn rename_column_in_details(&mut self, table: &str, old: &str, new: &str) {
        let owned: Vec<Object> = self
            .by_table
            .get(table)
            .into_iter()
            .chain(self.history_by_table.and_then(|h| h.get(table)))
            .flatten()
            .cloned()
            .collect();
        for object in owned {
            let Some(mut tracked) = self.present(&object).cloned() else {
                continue;
            };
            if !tracked.detail.rename_column(old, new) {
                continue;
            }
            if !self.objects.contains_key(&object) {
                // The history's: to these scripts, it was there before.
                tracked.before = Some(true);
                tracked.guessed = false;
            }
            self.objects.insert(object, tracked);
        }
    }
}

/// An index lives in its table's schema: `CREATE INDEX t_n ON app.t` is
/// `app.t_n`, which only `DROP INDEX app.t_n` drops (an unqualified `DROP
/// INDEX t_n` looks on the search path, `public` by default).
pub fn index_in_schema_of(index: &str, table: &str) -> String {
    match table.rsplit_once('.') {
        Some((schema, _)) if !index.contains('.') => format!("{schema}.{index}"),
        _ => index.to_string(),
    }
}
