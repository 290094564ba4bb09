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

mod constraints;
mod questions;

pub(crate) use constraints::ConstraintKind;
pub(crate) use questions::Schema;

use super::names::{ident, object};
use super::ParsedStatement;
use crate::model::text_position::TextPosition;
use sqlparser::ast::{
    AlterIndexOperation, AlterTableOperation, AlterTypeOperation, ObjectType, RenameTableNameKind,
    Statement,
};
use std::collections::{BTreeMap, HashMap};

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
    fn relation(&self) -> Option<&str> {
        match self {
            Object::Column(t, _) | Object::Constraint(t, _) | Object::Trigger(t, _) => Some(t),
            _ => None,
        }
    }
}

impl Tracked {
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
    guessed: bool,
    /// Whether the migration being replayed made it (created it, or renamed
    /// something it made): locking it harms nobody.
    made_here: bool,
    /// The statement that last changed it.
    pub at: TextPosition,
    /// For an index: its table and the columns it covers; for a column: its
    /// type's name (so that dropping the type with CASCADE takes it).
    detail: Detail,
}

#[derive(Debug, Clone, Default)]
enum Detail {
    #[default]
    None,
    /// An index: its table and key columns in order (`None` for an
    /// expression).
    Index {
        table: String,
        columns: Vec<Option<String>>,
    },
    Column {
        type_name: String,
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
    fn owner<'a>(&'a self, object: &'a Object) -> Option<&'a str> {
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
            _ => None,
        }
    }

    /// Renames column `old` to `new` in what an index or constraint is
    /// over; whether it was there.
    fn rename_column(&mut self, old: &str, new: &str) -> bool {
        let mut found = false;
        let mut rename = |column: &mut String| {
            if column == old {
                *column = new.to_string();
                found = true;
            }
        };
        match self {
            Detail::Index { columns, .. } => columns.iter_mut().flatten().for_each(&mut rename),
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

    fn statement(&mut self, ast: &Statement, at: TextPosition) {
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
                let cascade = matches!(
                    drop.drop_behavior,
                    Some(sqlparser::ast::DropBehavior::Cascade)
                );
                for function in &drop.func_desc {
                    self.drop(
                        Object::Function(object(&function.name)),
                        drop.if_exists,
                        cascade,
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
            Statement::DropDomain(drop) => {
                let cascade = matches!(
                    drop.drop_behavior,
                    Some(sqlparser::ast::DropBehavior::Cascade)
                );
                self.drop(
                    Object::Type(object(&drop.name)),
                    drop.if_exists,
                    cascade,
                    at,
                );
            }
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
                        },
                    );
                    self.column_constraints(&table, column_def, *if_not_exists, at);
                }
                AlterTableOperation::DropColumn {
                    column_names,
                    if_exists,
                    drop_behavior,
                    ..
                } => {
                    let cascade =
                        matches!(drop_behavior, Some(sqlparser::ast::DropBehavior::Cascade));
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

    fn recognised(&mut self, recognised: &super::recognise::Recognised, at: TextPosition) {
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

/// Whether `object` goes when `dropped` is dropped (with `CASCADE` or not).
fn depends_on(object: &Object, tracked: &Tracked, dropped: &Object, cascade: bool) -> bool {
    match (dropped, object, &tracked.detail) {
        (
            Object::Relation(r) | Object::View(r),
            Object::View(_) | Object::Relation(_),
            Detail::View { query },
        ) => cascade && mentions(query, r),
        (Object::Relation(r), _, Detail::Index { table, .. }) => table == r,
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
        (Object::Type(ty), Object::Column(..), Detail::Column { type_name }) => {
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
fn hangs_off(object: &Object, tracked: &Tracked, owner: &Object) -> bool {
    match owner {
        Object::Relation(r) => {
            object.relation() == Some(r.as_str())
                || matches!(&tracked.detail, Detail::Index { table, .. } if table == r)
        }
        _ => false,
    }
}

/// `object` under `to` when `from` is renamed.
fn renamed(object: &Object, from: &Object, to: &Object) -> Object {
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

fn schema_of(object: &Object) -> Option<&str> {
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

/// An index lives in its table's schema: `CREATE INDEX t_n ON app.t` is
/// `app.t_n`, which only `DROP INDEX app.t_n` drops (an unqualified `DROP
/// INDEX t_n` looks on the search path, `public` by default).
pub fn index_in_schema_of(index: &str, table: &str) -> String {
    match table.rsplit_once('.') {
        Some((schema, _)) if !index.contains('.') => format!("{schema}.{index}"),
        _ => index.to_string(),
    }
}
