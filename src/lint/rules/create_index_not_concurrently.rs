//! `create-index-not-concurrently`: `CREATE INDEX` without `CONCURRENTLY`
//! on a table that existed before this migration blocks every write to it
//! until the index is built.

use super::Rule;
use crate::lint::names::object;
use crate::lint::{RawFinding, Severity, StatementContext};

/// See the module header.
pub struct CreateIndexNotConcurrently;

impl Rule for CreateIndexNotConcurrently {
    fn id(&self) -> &'static str {
        "create-index-not-concurrently"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "CREATE INDEX without CONCURRENTLY on a table that existed before the migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(sqlparser::ast::Statement::CreateIndex(index)) = context.ast else {
            return;
        };
        let table = object(&index.table_name);
        if index.concurrently || context.table_is_new(&table) {
            return;
        }
        if context.schema.is_partitioned(&table) {
            // PostgreSQL refuses CONCURRENTLY on a partitioned table.
            findings.push(context.finding(
                self,
                Some("INDEX"),
                format!("building this index locks every partition of {table} against writes until it is done (a partitioned table cannot be indexed CONCURRENTLY)"),
                "create the index ON ONLY the parent (instant, invalid until complete), build each partition's index CONCURRENTLY in no-transaction files, then ALTER INDEX … ATTACH PARTITION each one",
            ).on_table(&table));
            return;
        }
        findings.push(context.finding(
            self,
            Some("INDEX"),
            format!("building this index locks {table} against writes (SHARE lock) until it is done"),
            "use CREATE INDEX CONCURRENTLY in a file of its own with `-- schemactl:no-transaction` at the top",
        ).on_table(&table));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn on_a_partitioned_table_the_advice_is_not_concurrently() {
        let found = fires(
            "create-index-not-concurrently",
            &[
                (
                    "0001_m.up.sql",
                    "CREATE TABLE m (id bigint, at timestamptz) PARTITION BY RANGE (at);\n",
                ),
                ("0002_i.up.sql", "CREATE INDEX m_at ON m (at);\n"),
            ],
        );
        assert!(found.contains("ON ONLY the parent"), "{found}");
        assert!(!found.contains("use CREATE INDEX CONCURRENTLY"), "{found}");
    }

    const TABLE: (&str, &str) = (
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, x int);\n",
    );

    #[test]
    fn fires_on_a_table_of_an_earlier_migration() {
        insta::assert_snapshot!(fires(
            "create-index-not-concurrently",
            &[TABLE, ("0002_i.up.sql", "CREATE INDEX t_x ON t (x);\n")]
        ));
    }

    #[test]
    fn quiet_for_new_tables_and_concurrent_builds() {
        quiet(
            "create-index-not-concurrently",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, x int);\nCREATE INDEX t_x ON t (x);\n",
                ),
                (
                    "0002_i.up.sql",
                    "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY t_id_x ON t (id, x);\n",
                ),
            ],
        );
    }

    #[test]
    fn a_table_the_down_recreates_is_new_to_the_rest_of_the_down() {
        quiet(
            "create-index-not-concurrently",
            &[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, n int);\n",
                ),
                ("0002_d.up.sql", "DROP TABLE t;\n"),
                (
                    "0002_d.down.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, n int);\nCREATE INDEX t_n ON t (n);\n",
                ),
            ],
        );
    }
}
