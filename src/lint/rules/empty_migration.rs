//! `empty-migration`: an empty or comment-only script is a no-op. schemactl
//! runs and records it, as the tools that write them do (diesel's generated
//! `-- This file should undo anything in up.sql`, golang-migrate's
//! `-- noop`), but a down that was forgotten must stay visible.

use super::Rule;
use crate::lint::{MigrationContext, RawFinding, Severity};
use crate::model::Script;

/// See the module header.
pub struct EmptyMigration;

impl EmptyMigration {
    fn check(&self, script: &Script, what: &str, label: &str, findings: &mut Vec<RawFinding>) {
        if !script.statements().is_ok_and(|s| s.is_empty()) {
            return;
        }
        findings.push(RawFinding {
            rule: self.id(),
            path: script.path.clone(),
            offset: 0,
            length: 1,
            message: format!("the {what} script of {label} has no SQL statement: it runs as a no-op"),
            help: match what {
                "down" => "if undoing it really needs nothing (a data-only up), say so with `-- schemactl:ignore-file empty-migration <reason>`; otherwise write the down".into(),
                _ => "write the migration's SQL, or delete the migration".into(),
            },
            at_most: None,
            at_least: None,
            table: None,
        });
    }
}

impl Rule for EmptyMigration {
    fn id(&self) -> &'static str {
        "empty-migration"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "an empty or comment-only script (run as a no-op)"
    }
    fn check_migration(&self, context: &MigrationContext, findings: &mut Vec<RawFinding>) {
        let migration = context.migration;
        let label = migration.label();
        self.check(&migration.up, "up", &label, findings);
        if let Some(down) = &migration.down {
            self.check(down, "down", &label, findings);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_a_comment_only_down() {
        insta::assert_snapshot!(fires(
            "empty-migration",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                (
                    "0001_t.down.sql",
                    "-- This file should undo anything in `up.sql`\n"
                ),
            ]
        ));
    }

    #[test]
    fn quiet_with_statements_or_a_reasoned_ignore() {
        quiet(
            "empty-migration",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
            ],
        );
        quiet(
            "empty-migration",
            &[
                ("0001_t.up.sql", "UPDATE x SET y = 1;\n"),
                (
                    "0001_t.down.sql",
                    "-- schemactl:ignore-file empty-migration data backfill, nothing to undo\n",
                ),
            ],
        );
    }
}
