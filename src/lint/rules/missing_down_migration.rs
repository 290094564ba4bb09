//! `missing-down-migration`: a migration without a down script cannot be
//! rolled back by `schemactl rollback` during an incident.

use super::Rule;
use crate::lint::{MigrationContext, RawFinding, Severity};

/// See the module header.
pub struct MissingDownMigration;

impl Rule for MissingDownMigration {
    fn id(&self) -> &'static str {
        "missing-down-migration"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a migration without a down script"
    }
    fn check_migration(&self, context: &MigrationContext, findings: &mut Vec<RawFinding>) {
        // Flyway's repeatable migrations have no down by design.
        if context.migration.down.is_some() || context.migration.version.is_repeatable() {
            return;
        }
        let migration = context.migration;
        findings.push(RawFinding {
            rule: self.id(),
            path: migration.up.path.clone(),
            offset: 0,
            length: 1,
            message: format!("{} has no down script, so `schemactl rollback` cannot undo it", migration.label()),
            help: format!("write {}.down.sql; if it truly cannot be undone, say so with `-- schemactl:ignore-file missing-down-migration <reason>`", migration.label()),
            at_most: None,
            at_least: None,
            table: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_without_a_down() {
        insta::assert_snapshot!(fires(
            "missing-down-migration",
            &[("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n")]
        ));
    }

    #[test]
    fn quiet_with_a_down_or_a_reasoned_ignore() {
        quiet(
            "missing-down-migration",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
            ],
        );
        quiet(
            "missing-down-migration",
            &[("0001_t.up.sql", "-- schemactl:ignore-file missing-down-migration data backfill, nothing to undo\nUPDATE x SET y = 1;\n")],
        );
    }
}
