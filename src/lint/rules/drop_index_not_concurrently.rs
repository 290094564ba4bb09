//! `drop-index-not-concurrently`: `DROP INDEX` without `CONCURRENTLY` takes
//! an ACCESS EXCLUSIVE lock on the index's table. The drop itself is quick,
//! but the lock waits behind every running query on the table, and every
//! later query waits behind it: a long report stalls the site.

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};
use crate::model::Direction;
use sqlparser::ast::{ObjectType, Spanned, Statement};

/// See the module header.
pub struct DropIndexNotConcurrently;

impl Rule for DropIndexNotConcurrently {
    fn id(&self) -> &'static str {
        "drop-index-not-concurrently"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "DROP INDEX without CONCURRENTLY on an index of a table that existed before the migration"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        if context.direction == Direction::Down {
            return;
        }
        let (names, first_span) = match (context.ast, context.recognised) {
            (
                Some(Statement::Drop {
                    object_type: ObjectType::Index,
                    names,
                    ..
                }),
                _,
            ) => (
                names
                    .iter()
                    .map(crate::lint::names::object)
                    .collect::<Vec<String>>(),
                names.first().map(Spanned::span),
            ),
            _ => return, // `DROP INDEX CONCURRENTLY …` is what sqlparser leaves to the recogniser.
        };
        if crate::lint::find_tokens(context.text(), "CONCURRENTLY").is_some() {
            return;
        }
        // An index of a table created in this migration harms nobody.
        let on_new_table = names.iter().all(|name| {
            context
                .schema
                .table_of_index(name)
                .is_some_and(|table| context.table_is_new(table))
        });
        if on_new_table {
            return;
        }
        let message = "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table: it waits behind every running query on it, and every later query waits behind it".to_string();
        let help = "use DROP INDEX CONCURRENTLY IF EXISTS in a file of its own with `-- schemactl:no-transaction` at the top";
        findings.push(match first_span {
            Some(span) => context.finding_over(self, span, message, help),
            None => context.finding(self, Some("DROP INDEX"), message, help),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const TABLE: (&str, &str) = (
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, n int);\nCREATE INDEX t_n ON t (n);\n",
    );

    #[test]
    fn fires_in_an_up_script() {
        insta::assert_snapshot!(fires(
            "drop-index-not-concurrently",
            &[TABLE, ("0002_d.up.sql", "DROP INDEX t_n;\n")]
        ));
    }

    #[test]
    fn quiet_concurrently_in_downs_and_on_new_tables() {
        quiet(
            "drop-index-not-concurrently",
            &[
                TABLE,
                ("0002_d.up.sql", "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS t_n;\n"),
                ("0002_d.down.sql", "CREATE INDEX t_n ON t (n);\n"),
                ("0003_u.up.sql", "CREATE TABLE u (id bigint PRIMARY KEY, m int);\nCREATE INDEX u_m ON u (m);\nDROP INDEX u_m;\n"),
                ("0003_u.down.sql", "DROP TABLE u;\nDROP INDEX IF EXISTS t_other;\n"),
            ],
        );
    }

    #[test]
    fn an_index_of_a_new_table_in_another_schema_is_found_by_its_qualified_name() {
        quiet(
            "drop-index-not-concurrently",
            &[(
                "0001_t.up.sql",
                "CREATE SCHEMA app;\nCREATE TABLE app.t (id bigint PRIMARY KEY, n int);\nCREATE INDEX t_n ON app.t (n);\nDROP INDEX app.t_n;\n",
            )],
        );
    }

    #[test]
    fn an_unnamed_index_of_a_new_table_is_found_by_its_default_name() {
        // Quiet only when `t_n_idx` resolves to the index made just before.
        quiet(
            "drop-index-not-concurrently",
            &[(
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY, n int);\nCREATE INDEX ON t (n);\nDROP INDEX t_n_idx;\n",
            )],
        );
    }
}
