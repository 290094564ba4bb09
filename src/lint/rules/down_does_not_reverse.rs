//! `down-does-not-reverse`: replays the up script, then the down script,
//! over the objects they name (see [`schema_model`]) and reports what the
//! pair leaves different: an object the up creates that is still there
//! after the down, one the up drops that the down does not bring back, or
//! one the down drops, creates or alters that the up left alone (a down
//! written for another migration: Ory Kratos' downs are shifted by one).
//! Drops take their dependants with them as PostgreSQL's do (a table its
//! columns, indexes, constraints and triggers; a column its indexes), and
//! renames move objects, so a down that drops a table, or renames back, is
//! understood. A finding is an error only when both scripts were read
//! whole; when either has a statement that may change objects unseen (one
//! that does not parse, a `DO` block, a `CALL`), it is a warning that points
//! to `schemactl verify`, the complete, dynamic check.
//!
//! [`schema_model`]: crate::lint::schema_model

use super::Rule;
use crate::lint::schema_model::{Object, Tracked};
use crate::lint::{MigrationContext, RawFinding, Severity};

/// See the module header.
pub struct DownDoesNotReverse;

impl Rule for DownDoesNotReverse {
    fn id(&self) -> &'static str {
        "down-does-not-reverse"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a down script that leaves what its up created, does not restore what it dropped, or changes what its up left alone"
    }
    fn check_migration(&self, context: &MigrationContext, findings: &mut Vec<RawFinding>) {
        let (Some(down), Some(down_script)) =
            (context.down_replay, context.migration.down.as_ref())
        else {
            return;
        };
        let after_up = &context.up_replay.objects;
        let (up_opaque, down_opaque) = (context.up_replay.opaque, down.opaque);
        let first_statement = down_script
            .statements()
            .ok()
            .and_then(|s| s.first())
            .map_or(0, |s| s.start);
        let up_file = file_name(&context.migration.up.path);
        let down_file = file_name(&down_script.path);
        let unsure = match (up_opaque, down_opaque) {
            (_, Some(at)) => Some(format!(
                "not checked for certain: {down_file}:{} may change objects schemactl cannot read",
                at.line
            )),
            (Some(at), None) => Some(format!(
                "not checked for certain: {up_file}:{} may change objects schemactl cannot read",
                at.line
            )),
            (None, None) => None,
        };
        let help_suffix = if unsure.is_some() {
            "; `schemactl verify` replays both scripts on a scratch database and settles it"
        } else {
            ""
        };
        let mut reports = not_reversed(&down.objects, after_up, &up_file);
        reports.extend(columns_not_restored(&down.objects, after_up, &up_file));
        reports.extend(changed_by_the_down_alone(
            &down.objects,
            after_up,
            context.before,
            &down_file,
        ));
        if unsure.is_none() && !context.before_opaque {
            reports.extend(fails_in_the_down(
                &down.objects,
                after_up,
                context.before,
                &down_file,
            ));
        }
        for (message, help) in reports {
            findings.push(RawFinding {
                rule: self.id(),
                path: down_script.path.clone(),
                offset: first_statement,
                length: 1,
                message: match &unsure {
                    Some(unsure) => format!("{message} ({unsure})"),
                    None => message,
                },
                help: format!("{help}{help_suffix}"),
                at_most: unsure.as_ref().map(|_| Severity::Warning),
                at_least: None,
                table: None,
            });
        }
    }
}

/// What the up created that is still there after the down, and what it
/// dropped that the down does not bring back, as (message, help); a
/// table's columns, constraints, indexes and triggers are said with it.
fn not_reversed(
    after_down: &std::collections::BTreeMap<Object, Tracked>,
    after_up: &std::collections::BTreeMap<Object, Tracked>,
    up_file: &str,
) -> Vec<(String, String)> {
    let unreversed: Vec<(&Object, &Tracked, bool)> = after_down
        .iter()
        .filter_map(|(object, tracked)| {
            let (before, up) = (tracked.before?, after_up.get(object)?);
            (tracked.present != before && up.present != before).then_some((object, up, before))
        })
        .collect();
    // A table's columns, constraints, indexes and triggers go with it:
    // one finding for the table says all.
    let tables: std::collections::HashSet<(&str, bool)> = unreversed
        .iter()
        .filter_map(|(object, _, before)| match object {
            Object::Relation(name) => Some((name.as_str(), *before)),
            _ => None,
        })
        .collect();
    // So does a serial column's sequence with its column.
    let columns: std::collections::HashSet<(&str, &str, bool)> = unreversed
        .iter()
        .filter_map(|(object, _, before)| match object {
            Object::Column(table, column) => Some((table.as_str(), column.as_str(), *before)),
            _ => None,
        })
        .collect();
    let mut reports: Vec<(String, String)> = Vec::new();
    for (object, up, before) in unreversed {
        if up
            .owner(object)
            .is_some_and(|owner| tables.contains(&(owner, before)))
            || up
                .owning_column()
                .is_some_and(|(table, column)| columns.contains(&(table, column, before)))
        {
            continue;
        }
        let (message, help) = if before {
            (
                format!(
                    "the up script drops {} ({up_file}:{}) but this down script does not recreate it",
                    object.describe(),
                    up.at.line
                ),
                "recreate it here (its data cannot come back; say so with `-- schemactl:ignore down-does-not-reverse <reason>` if that is accepted)",
            )
        } else {
            (
                format!(
                    "the up script creates {} ({up_file}:{}) but this down script does not drop it",
                    object.describe(),
                    up.at.line
                ),
                "drop it here, so that rolling back restores the schema as it was",
            )
        };
        reports.push((message, help.to_string()));
    }
    reports
}

/// The columns of earlier migrations whose type or `NOT NULL` the up
/// script changed and the down does not give back, as (message, help). An
/// attribute is judged only when it is known before, after the up and
/// after the down.
fn columns_not_restored(
    after_down: &std::collections::BTreeMap<Object, Tracked>,
    after_up: &std::collections::BTreeMap<Object, Tracked>,
    up_file: &str,
) -> Vec<(String, String)> {
    let mut reports = Vec::new();
    for (object, down) in after_down {
        let Object::Column(table, column) = object else {
            continue;
        };
        let (Some(before), Some(up)) = (
            down.column_before(),
            after_up.get(object).filter(|up| up.present && down.present),
        ) else {
            continue;
        };
        let (Some(now_up), Some(now_down)) = (up.column_state(), down.column_state()) else {
            continue;
        };
        let line = up.at.line;
        if let (Some(was), Some(made), Some(left)) = (
            before.type_name.as_ref(),
            now_up.type_name.as_ref(),
            now_down.type_name.as_ref(),
        ) {
            if made != was && left != was {
                reports.push((
                    format!("the up script changes the type of column {table}.{column} from {was} to {made} ({up_file}:{line}) but this down script does not change it back"),
                    format!("add `ALTER TABLE {table} ALTER COLUMN {column} TYPE {was};` here (with `USING` if the values need converting)"),
                ));
            }
        }
        if let (Some(was), Some(made), Some(left)) =
            (before.not_null, now_up.not_null, now_down.not_null)
        {
            if made != was && left != was {
                let word = |not_null: bool| if not_null { "NOT NULL" } else { "nullable" };
                let action = if was { "SET" } else { "DROP" };
                reports.push((
                    format!("the up script makes column {table}.{column} {} ({up_file}:{line}) but this down script does not make it {} again", word(made), word(was)),
                    format!("add `ALTER TABLE {table} ALTER COLUMN {column} {action} NOT NULL;` here"),
                ));
            }
        }
    }
    reports
}

/// What the down script changes that the up script left as it was: an
/// object it drops or creates, a column whose type or `NOT NULL` it
/// changes, where the up did nothing to it (rolling back would leave the
/// schema different from before the up). Judged only where the state
/// before is known and the earlier migrations agree with it (a drop of
/// what they never made is a down that fails, not one that changes more);
/// an object whose table the down drops or creates is said with its table.
fn changed_by_the_down_alone(
    after_down: &std::collections::BTreeMap<Object, Tracked>,
    after_up: &std::collections::BTreeMap<Object, Tracked>,
    earlier: &std::collections::BTreeMap<Object, Tracked>,
    down_file: &str,
) -> Vec<(String, String)> {
    let untouched_by_up = |object: &Object, before: bool| {
        after_up
            .get(object)
            .is_none_or(|up| up.present == before && up.before == Some(before))
    };
    let earlier_agree = |object: &Object, before: bool| {
        let existed = earlier.get(object).is_some_and(|t| t.present);
        existed == before
    };
    let changed: Vec<(&Object, &Tracked, bool)> = after_down
        .iter()
        .filter_map(|(object, down)| {
            let before = down.before?;
            (down.present != before
                && untouched_by_up(object, before)
                && earlier_agree(object, before))
            .then_some((object, down, before))
        })
        .collect();
    let tables: std::collections::HashSet<&str> = changed
        .iter()
        .filter_map(|(object, ..)| match object {
            Object::Relation(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let mut reports = Vec::new();
    for (object, down, before) in &changed {
        if down
            .owner(object)
            .is_some_and(|owner| tables.contains(owner))
        {
            continue;
        }
        let (verb, undo) = if *before {
            (
                "drops",
                "remove the drop from this down script, or drop it in the up script too",
            )
        } else {
            (
                "creates",
                "remove it from this down script, or create it in the up script too",
            )
        };
        reports.push((
            format!(
                "this down script {verb} {} ({down_file}:{}), which its up script leaves alone: rolling back would not give back the schema as it was before the up",
                object.describe(),
                down.at.line
            ),
            undo.to_string(),
        ));
    }
    for (object, down) in after_down {
        let Object::Column(table, column) = object else {
            continue;
        };
        let (Some(before), Some(now)) = (down.column_before(), down.column_state()) else {
            continue;
        };
        let up_changed = after_up
            .get(object)
            .is_some_and(|up| !up.present || up.column_state().is_none_or(|made| made != *before));
        if !down.present || up_changed || !earlier_agree(object, true) {
            continue;
        }
        let line = down.at.line;
        if let (Some(was), Some(left)) = (before.type_name.as_ref(), now.type_name.as_ref()) {
            if left != was {
                reports.push((
                    format!("this down script changes the type of column {table}.{column} from {was} to {left} ({down_file}:{line}), which its up script leaves alone"),
                    "remove the change from this down script, or make it in the up script too".to_string(),
                ));
            }
        }
        if let (Some(was), Some(left)) = (before.not_null, now.not_null) {
            if left != was {
                let word = |not_null: bool| if not_null { "NOT NULL" } else { "nullable" };
                reports.push((
                    format!("this down script makes column {table}.{column} {} ({down_file}:{line}), which its up script leaves {}", word(left), word(was)),
                    "remove the change from this down script, or make it in the up script too".to_string(),
                ));
            }
        }
    }
    reports
}

/// What the down script drops that is not there after the up, or creates
/// that is: the rollback fails at that statement. Called only when every
/// migration so far was read whole (nothing can exist unseen).
fn fails_in_the_down(
    after_down: &std::collections::BTreeMap<Object, Tracked>,
    after_up: &std::collections::BTreeMap<Object, Tracked>,
    earlier: &std::collections::BTreeMap<Object, Tracked>,
    down_file: &str,
) -> Vec<(String, String)> {
    let mut reports = Vec::new();
    for (object, down) in after_down {
        let Some(first_seen_as) = down.before else {
            continue;
        };
        // The up did not name it: it stands after the up as the earlier
        // migrations left it.
        if after_up.contains_key(object) || down.present == first_seen_as {
            continue;
        }
        let there = earlier.get(object).is_some_and(|t| t.present);
        if there == first_seen_as {
            continue;
        }
        let (what, help) = if first_seen_as {
            (
                "drops",
                "no earlier migration and not its up script made it: remove the drop (or write `IF EXISTS`), or make it in the up script",
            )
        } else {
            (
                "creates",
                "it is there after the up script (an earlier migration made it): remove it from this down script, or drop it in the up script",
            )
        };
        reports.push((
            format!(
                "this down script {what} {} ({down_file}:{}), which {} after its up script: rolling back fails there",
                object.describe(),
                down.at.line,
                if first_seen_as { "is not there" } else { "is already there" },
            ),
            help.to_string(),
        ));
    }
    reports
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_leftovers_and_unrestored_drops() {
        insta::assert_snapshot!(fires(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, old int);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_c.up.sql", "ALTER TABLE t ADD COLUMN x int;\nCREATE INDEX t_x ON t (x);\nALTER TABLE t DROP COLUMN old;\n"),
                ("0002_c.down.sql", "DROP INDEX t_x;\n"),
            ]
        ));
    }

    #[test]
    fn indexes_are_resolved_as_postgresql_resolves_them() {
        quiet(
            "down-does-not-reverse",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE SCHEMA app;\nCREATE TABLE app.t (id bigint PRIMARY KEY, n int);\n",
                ),
                ("0001_t.down.sql", "DROP TABLE app.t;\nDROP SCHEMA app;\n"),
                (
                    "0002_i.up.sql",
                    "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY t_n ON app.t (n);\n",
                ),
                (
                    "0002_i.down.sql",
                    "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS app.t_n;\n",
                ),
            ],
        );
        insta::assert_snapshot!(fires(
            "down-does-not-reverse",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE SCHEMA app;\nCREATE TABLE app.t (id bigint PRIMARY KEY, n int);\n"
                ),
                ("0001_t.down.sql", "DROP TABLE app.t;\nDROP SCHEMA app;\n"),
                ("0002_i.up.sql", "CREATE INDEX t_n ON app.t (n);\n"),
                ("0002_i.down.sql", "DROP INDEX t_n;\n"),
            ]
        ));
    }

    #[test]
    fn quiet_when_the_down_mirrors_the_up() {
        quiet(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, old int);\nCREATE INDEX t_old ON t (old);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_c.up.sql", "ALTER TABLE t ADD COLUMN x int;\nALTER TABLE t DROP COLUMN old;\n"),
                ("0002_c.down.sql", "ALTER TABLE t ADD COLUMN old int;\nCREATE INDEX t_old ON t (old);\nALTER TABLE t DROP COLUMN x;\n"),
            ],
        );
    }

    #[test]
    fn a_down_with_statements_it_cannot_read_gets_a_warning_pointing_to_verify() {
        let findings = crate::lint::rules::test_support::lint_files(&[
            ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
            (
                "0001_t.down.sql",
                "DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$;\n",
            ),
        ]);
        let finding = findings
            .iter()
            .find(|f| f.rule == "down-does-not-reverse")
            .expect("reported");
        assert_eq!(finding.severity, crate::lint::Severity::Warning);
        assert!(
            finding.message.contains("not checked for certain"),
            "{}",
            finding.message
        );
        assert!(
            finding.help.contains("schemactl verify"),
            "{}",
            finding.help
        );
    }

    /// The down-check findings of `files`, as `path: message` lines.
    fn down_findings(files: &[(&str, &str)]) -> Vec<String> {
        crate::lint::rules::test_support::lint_files(files)
            .into_iter()
            .filter(|f| f.rule == "down-does-not-reverse")
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn unnamed_constraints_go_by_postgresqls_default_names() {
        // The up drops constraints an earlier migration made without names;
        // the down makes them again without names: PostgreSQL gives them
        // the same names (t_pkey, t_a_key, t_b_fkey, t_n_check, t_b_idx).
        quiet(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE u (id int PRIMARY KEY);\nCREATE TABLE t (id int PRIMARY KEY, a int UNIQUE, b int REFERENCES u, n int CHECK (n > 0));\nCREATE INDEX ON t (b);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\nDROP TABLE u;\n"),
                ("0002_loosen.up.sql", "ALTER TABLE t DROP CONSTRAINT t_pkey, DROP CONSTRAINT t_a_key, DROP CONSTRAINT t_b_fkey, DROP CONSTRAINT t_n_check;\nDROP INDEX t_b_idx;\n"),
                ("0002_loosen.down.sql", "ALTER TABLE t ADD PRIMARY KEY (id), ADD UNIQUE (a), ADD FOREIGN KEY (b) REFERENCES u, ADD CHECK (n > 0);\nCREATE INDEX ON t (b);\n"),
                // A second one over the same column is numbered.
                ("0003_more.up.sql", "ALTER TABLE t ADD UNIQUE (a);\nALTER TABLE t ADD UNIQUE (a);\nALTER TABLE t ADD CONSTRAINT t_both CHECK (a > n);\n"),
                ("0003_more.down.sql", "ALTER TABLE t DROP CONSTRAINT t_a_key1;\nALTER TABLE t DROP CONSTRAINT t_a_key;\nALTER TABLE t DROP CONSTRAINT t_both;\n"),
            ],
        );
        // A down that does not bring one back is told its name.
        let findings = down_findings(&[
            (
                "0001_t.up.sql",
                "CREATE TABLE t (id int, a int, UNIQUE (a));\n",
            ),
            ("0001_t.down.sql", "DROP TABLE t;\n"),
            (
                "0002_drop.up.sql",
                "ALTER TABLE t DROP CONSTRAINT t_a_key;\n",
            ),
            ("0002_drop.down.sql", "SELECT 1;\n"),
        ]);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0].contains("constraint t_a_key of t"),
            "{findings:#?}"
        );
    }

    #[test]
    fn a_named_column_constraint_brings_back_what_add_constraint_made() {
        quiet(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE crates (id int PRIMARY KEY);\nCREATE TABLE badges (crate_id int NOT NULL);\nALTER TABLE badges ADD CONSTRAINT fk_badges_crate_id FOREIGN KEY (crate_id) REFERENCES crates;\n"),
                ("0001_t.down.sql", "DROP TABLE badges;\nDROP TABLE crates;\n"),
                ("0002_drop.up.sql", "DROP TABLE badges;\n"),
                ("0002_drop.down.sql", "CREATE TABLE badges (crate_id integer NOT NULL CONSTRAINT fk_badges_crate_id REFERENCES crates ON DELETE CASCADE);\n"),
            ],
        );
    }

    #[test]
    fn dropping_a_column_drops_the_constraints_over_it() {
        let base = [
            ("0001_t.up.sql", "CREATE TABLE u (id int PRIMARY KEY);\nCREATE TABLE t (id int PRIMARY KEY, a int CONSTRAINT t_a_positive CHECK (a > 0));\n"),
            ("0001_t.down.sql", "DROP TABLE t;\nDROP TABLE u;\n"),
        ];
        let cases = [
            [
                ("0002_q.up.sql", "ALTER TABLE t ADD COLUMN q int REFERENCES u;\nALTER TABLE t ADD CONSTRAINT t_q_named FOREIGN KEY (q) REFERENCES u;\n"),
                ("0002_q.down.sql", "ALTER TABLE t DROP COLUMN q;\n"),
            ],
            // The column and its check go; the down brings both back.
            [
                ("0002_a.up.sql", "ALTER TABLE t DROP COLUMN a;\n"),
                ("0002_a.down.sql", "ALTER TABLE t ADD COLUMN a int CONSTRAINT t_a_positive CHECK (a > 0);\n"),
            ],
            // Renamed and renamed back: nothing changed (Ory Kratos).
            [
                ("0002_back.up.sql", "ALTER TABLE t RENAME COLUMN a TO c;"),
                ("0002_back.down.sql", "ALTER TABLE t RENAME COLUMN c TO a;"),
            ],
            // A renamed column's constraints follow it.
            [
                ("0002_r.up.sql", "ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t DROP COLUMN b;\n"),
                ("0002_r.down.sql", "ALTER TABLE t ADD COLUMN a int CONSTRAINT t_a_positive CHECK (a > 0);\n"),
            ],
        ];
        for case in cases {
            let files: Vec<(&str, &str)> = base.iter().chain(&case).copied().collect();
            quiet("down-does-not-reverse", &files);
        }
    }

    #[test]
    fn a_table_is_one_finding_not_one_per_column() {
        // Ory Kratos: a down that renames another table than its up.
        let findings = down_findings(&[
            ("0001_t.up.sql", "CREATE TABLE a (id int PRIMARY KEY, x int UNIQUE, y int);\nCREATE INDEX a_y ON a (y);\nCREATE TABLE c (id int);\n"),
            ("0001_t.down.sql", "DROP TABLE c;\nDROP TABLE a;\n"),
            ("0002_r.up.sql", "ALTER TABLE a RENAME TO b;\n"),
            ("0002_r.down.sql", "ALTER TABLE c RENAME TO d;\n"),
        ]);
        // The up's rename not undone, and the down's rename of a table
        // the up left alone: a finding per table, none per column or index.
        assert_eq!(findings.len(), 4, "{findings:#?}");
        for table in [
            "creates table b",
            "drops table a",
            "down script drops table c",
            "down script creates table d",
        ] {
            assert!(
                findings.iter().any(|f| f.contains(table)),
                "{table}: {findings:#?}"
            );
        }
    }

    #[test]
    fn a_table_renamed_then_dropped_takes_its_indexes() {
        quiet(
            "down-does-not-reverse",
            &[
                ("0001_w.up.sql", "CREATE TABLE w (id int PRIMARY KEY, a int);\nCREATE INDEX w_a ON w (a);\nCREATE INDEX ON w (id, a);\n"),
                ("0001_w.down.sql", "ALTER TABLE w RENAME TO w_bkp;\nDROP TABLE w_bkp;\n"),
            ],
        );
    }

    #[test]
    fn drop_view_cascade_takes_the_materialized_views_over_it() {
        quiet(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_v.up.sql", "CREATE VIEW v AS SELECT id FROM t;\nCREATE MATERIALIZED VIEW mv AS SELECT id FROM v;\nCREATE UNIQUE INDEX mv_id ON mv (id);\n"),
                ("0002_v.down.sql", "DROP VIEW v CASCADE;\n"),
            ],
        );
    }

    #[test]
    fn a_function_the_up_creates_and_the_down_leaves_is_found() {
        // The up makes a trigger function; each down below drops the trigger.
        let with_down = |down: &str| {
            down_findings(&[
                ("0001_t.up.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_f.up.sql", "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\nCREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();\n"),
                ("0002_f.down.sql", down),
            ])
        };
        let findings = with_down("DROP TRIGGER t_touch ON t;\n");
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].contains("function touch"), "{findings:#?}");
        // Replaced by the down (an older body), or dropped: nothing to say.
        for down in [
            "DROP TRIGGER t_touch ON t;\nDROP FUNCTION touch();\n",
            "DROP TRIGGER t_touch ON t;\nCREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;\n",
        ] {
            let findings = with_down(down);
            assert!(findings.is_empty(), "{down}: {findings:#?}");
        }
        // One an earlier migration made: replacing it is not creating it.
        quiet(
            "down-does-not-reverse",
            &[
                (
                    "0001_f.up.sql",
                    "CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
                ),
                ("0001_f.down.sql", "DROP FUNCTION one();\n"),
                (
                    "0002_f.up.sql",
                    "CREATE OR REPLACE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 2';\n",
                ),
                ("0002_f.down.sql", "SELECT 1;\n"),
            ],
        );
    }

    #[test]
    fn quiet_when_the_down_drops_what_a_cascade_takes() {
        quiet(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, a int);\nCREATE INDEX t_a ON t (a);\nALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0);\nCREATE TYPE mood AS ENUM ('ok');\nALTER TABLE t ADD COLUMN m mood;\nCREATE MATERIALIZED VIEW t_ids AS SELECT id FROM t;\nCREATE UNIQUE INDEX t_ids_id ON t_ids (id);\n"),
                ("0001_t.down.sql", "DROP MATERIALIZED VIEW t_ids;\nDROP TYPE mood CASCADE;\nDROP TABLE t;\n"),
                ("0002_r.up.sql", "ALTER TABLE t RENAME TO u;\n"),
                ("0002_r.down.sql", "ALTER TABLE u RENAME TO t;\n"),
            ],
        );
    }

    #[test]
    fn the_sequence_of_a_serial_or_identity_column_goes_with_it() {
        quiet(
            "down-does-not-reverse",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id serial PRIMARY KEY);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_n.up.sql", "ALTER TABLE t ADD COLUMN n bigserial;\nALTER TABLE t ADD COLUMN m int GENERATED ALWAYS AS IDENTITY;\n"),
                ("0002_n.down.sql", "ALTER TABLE t DROP COLUMN m;\nALTER TABLE t DROP COLUMN n;\n"),
                // Dropped with its column, made again with it.
                ("0003_d.up.sql", "ALTER TABLE t DROP COLUMN n;\n"),
                ("0003_d.down.sql", "ALTER TABLE t ADD COLUMN n bigserial;\n"),
                // A renamed table keeps its sequence's name.
                ("0004_r.up.sql", "ALTER TABLE t RENAME TO u;\n"),
                ("0004_r.down.sql", "ALTER TABLE u RENAME TO t;\n"),
                // Dropped by its default name.
                ("0005_s.up.sql", "CREATE TABLE s (id serial);\n"),
                ("0005_s.down.sql", "DROP SEQUENCE s_id_seq CASCADE;\nDROP TABLE s;\n"),
            ],
        );
        // A down that leaves the column: one finding names it.
        let findings = down_findings(&[
            ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
            ("0001_t.down.sql", "DROP TABLE t;\n"),
            ("0002_n.up.sql", "ALTER TABLE t ADD COLUMN n serial;\n"),
            ("0002_n.down.sql", "SELECT 1;\n"),
        ]);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].contains("column t.n"), "{findings:#?}");
    }

    #[test]
    fn a_not_null_the_up_changes_must_come_back() {
        let base = [
            (
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY, a int NOT NULL, b int);\n",
            ),
            ("0001_t.down.sql", "DROP TABLE t;\n"),
        ];
        let with = |up: &'static str, down: &'static str| {
            let mut files = base.to_vec();
            files.push(("0002_n.up.sql", up));
            files.push(("0002_n.down.sql", down));
            down_findings(&files)
        };
        // Given back: quiet.
        assert!(with(
            "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;\n",
            "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"
        )
        .is_empty());
        assert!(with(
            "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\n",
            "ALTER TABLE t ALTER COLUMN b DROP NOT NULL;\n"
        )
        .is_empty());
        // Not given back: one finding each, naming the fix.
        let dropped = with(
            "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;\n",
            "SELECT 1;\n",
        );
        assert_eq!(dropped.len(), 1, "{dropped:#?}");
        assert!(
            dropped[0].contains("column t.a nullable (0002_n.up.sql:1)"),
            "{dropped:#?}"
        );
        let set = with(
            "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\n",
            "SELECT 1;\n",
        );
        assert_eq!(set.len(), 1, "{set:#?}");
        assert!(
            set[0].contains("does not make it nullable again"),
            "{set:#?}"
        );
        // Through a rename and back, and on a column made in the same
        // migration (nothing to give back), quiet.
        assert!(with(
            "ALTER TABLE t RENAME COLUMN a TO c;\nALTER TABLE t ALTER COLUMN c DROP NOT NULL;\n",
            "ALTER TABLE t ALTER COLUMN c SET NOT NULL;\nALTER TABLE t RENAME COLUMN c TO a;\n"
        )
        .is_empty());
        assert!(with(
            "ALTER TABLE t ADD COLUMN d int NOT NULL DEFAULT 0;\nALTER TABLE t ALTER COLUMN d DROP NOT NULL;\n",
            "ALTER TABLE t DROP COLUMN d;\n"
        )
        .is_empty());
    }

    #[test]
    fn a_type_the_up_changes_must_come_back_in_any_spelling() {
        let files = |down: &'static str| {
            down_findings(&[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, a int, b varchar(20), c mood);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_w.up.sql", "ALTER TABLE t ALTER COLUMN a TYPE bigint, ALTER COLUMN b TYPE text;\nALTER TABLE t ALTER COLUMN c TYPE text;\n"),
                ("0002_w.down.sql", down),
            ])
        };
        // Given back, spelled differently: quiet. A type the model cannot
        // vouch for (`mood`) is not judged.
        assert!(files("ALTER TABLE t ALTER COLUMN a SET DATA TYPE int4;\nALTER TABLE t ALTER COLUMN b TYPE character varying(20);\n").is_empty());
        let left = files("ALTER TABLE t ALTER COLUMN b TYPE varchar(20);\n");
        assert_eq!(left.len(), 1, "{left:#?}");
        assert!(
            left[0].contains("type of column t.a from integer to bigint (0002_w.up.sql:1)"),
            "{left:#?}"
        );
    }
}
