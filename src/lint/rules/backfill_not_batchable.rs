//! `backfill-not-batchable`: a `-- schemactl:backfill` file that cannot
//! run in batches (more than one statement, or not an `UPDATE`/`DELETE`
//! whose table and condition can be read). `migrate` refuses it before
//! anything runs; the linter says so before merge.

use super::Rule;
use crate::lint::{MigrationContext, RawFinding, Severity};
use crate::model::{Execution, Script};

/// See the module header.
pub struct BackfillNotBatchable;

impl BackfillNotBatchable {
    fn check(&self, script: &Script, findings: &mut Vec<RawFinding>) {
        if script.execution() != Execution::Backfill {
            return;
        }
        let Ok(statements) = script.statements() else {
            return;
        };
        let Some(problem) = crate::model::backfill::problem(script, statements) else {
            return;
        };
        let offset = problem
            .position
            .and_then(|p| statements.iter().find(|s| s.position == p))
            .map_or(0, |s| s.start);
        findings.push(RawFinding {
            rule: self.id(),
            path: script.path.clone(),
            offset,
            length: 1,
            message: problem.message,
            help: "keep the backfill's one UPDATE or DELETE in its file, and the other statements in migrations of their own".into(),
            at_most: None,
            at_least: None,
            table: None,
        });
    }
}

impl Rule for BackfillNotBatchable {
    fn id(&self) -> &'static str {
        "backfill-not-batchable"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a `-- schemactl:backfill` file that cannot run in batches"
    }
    fn check_migration(&self, context: &MigrationContext, findings: &mut Vec<RawFinding>) {
        let migration = context.migration;
        self.check(&migration.up, findings);
        if let Some(down) = &migration.down {
            self.check(down, findings);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_a_backfill_of_two_statements() {
        insta::assert_snapshot!(fires(
            "backfill-not-batchable",
            &[(
                "0001_t.up.sql",
                "-- schemactl:backfill\nUPDATE t SET a = 1;\nUPDATE t SET b = 2;\n"
            )]
        ));
    }

    #[test]
    fn quiet_on_one_update_or_delete() {
        quiet(
            "backfill-not-batchable",
            &[(
                "0001_t.up.sql",
                "-- schemactl:backfill batch-size 500\nUPDATE t SET a = 1 WHERE a IS NULL;\n",
            )],
        );
        quiet(
            "backfill-not-batchable",
            &[(
                "0001_t.up.sql",
                "-- schemactl:backfill\nDELETE FROM t WHERE gone;\n",
            )],
        );
    }
}
