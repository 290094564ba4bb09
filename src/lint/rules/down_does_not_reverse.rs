//! `down-does-not-reverse`: replays the up script, then the down script,
//! over the objects they name (see [`object_replay`]) and reports what the
//! pair leaves different: an object the up creates that is still there
//! after the down, or one the up drops that the down does not bring back.
//! Drops take their dependants with them as PostgreSQL's do (a table its
//! columns, indexes, constraints and triggers; a column its indexes), and
//! renames move objects, so a down that drops a table, or renames back, is
//! understood. A finding is an error only when both scripts were read
//! whole; when either has a statement that may change objects unseen (one
//! that does not parse, a `DO` block, a `CALL`), it is a warning that points
//! to `schemactl verify`, the complete, dynamic check.
//!
//! [`object_replay`]: crate::lint::object_replay

use super::Rule;
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
        "a down script that leaves what its up created, or does not restore what it dropped"
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
        for (object, tracked) in &down.objects {
            let (Some(before), Some(up)) = (tracked.before, after_up.get(object)) else {
                continue;
            };
            if tracked.present == before || up.present == before {
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
                table: None,
            });
        }
    }
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
}
