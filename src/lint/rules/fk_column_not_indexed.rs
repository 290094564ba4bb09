//! `fk-column-not-indexed`: by the end of the migration that adds a foreign
//! key, an index must lead with its columns. Without one, every delete or
//! key update of the referenced table scans the referencing table (and
//! `ON DELETE CASCADE` does so under lock).

use super::Rule;
use crate::lint::{MigrationContext, RawFinding, Severity};
use crate::model::text_position::LineIndex;

/// See the module header.
pub struct FkColumnNotIndexed;

impl Rule for FkColumnNotIndexed {
    fn id(&self) -> &'static str {
        "fk-column-not-indexed"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "foreign-key columns not covered by an index by the end of the migration"
    }
    fn check_migration(&self, context: &MigrationContext, findings: &mut Vec<RawFinding>) {
        let script = &context.migration.up;
        let index = LineIndex::new(&script.sql);
        let schema = &context.schema_after;
        for fk in schema.foreign_keys_added() {
            let name = fk.table;
            if schema.has_index_leading_with(name, fk.columns) {
                continue;
            }
            let columns = fk.columns.join(", ");
            findings.push(RawFinding {
                    rule: self.id(),
                    path: script.path.clone(),
                    offset: index.offset(&script.sql, fk.declared_at.line, fk.declared_at.column),
                    length: 6,
                    message: format!(
                        "foreign key {name}({columns}) -> {} has no index on ({columns}): deletes and key updates on {} will scan {name}",
                        fk.references, fk.references
                    ),
                    help: format!("add `CREATE INDEX {name}_{} ON {name} ({columns});` in this migration", fk.columns.join("_")),
                    at_most: None,
                    at_least: None,
                    table: None,
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const PARENT: (&str, &str) = ("0001_a.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n");

    #[test]
    fn fires_when_no_index_leads_with_the_key() {
        insta::assert_snapshot!(fires(
            "fk-column-not-indexed",
            &[
                PARENT,
                ("0002_b.up.sql", "CREATE TABLE b (\n    id bigint PRIMARY KEY,\n    a_id bigint NOT NULL REFERENCES a (id) ON DELETE CASCADE,\n    x int\n);\nCREATE INDEX b_x_a ON b (x, a_id);\n"),
            ]
        ));
    }

    #[test]
    fn an_index_anywhere_in_the_migration_or_a_leading_key_covers_it() {
        quiet(
            "fk-column-not-indexed",
            &[
                PARENT,
                ("0002_b.up.sql", "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint REFERENCES a (id) ON DELETE CASCADE);\nCREATE INDEX b_a_id ON b (a_id, id);\n"),
                ("0003_c.up.sql", "CREATE TABLE c (a_id bigint REFERENCES a (id) ON DELETE CASCADE, n int, PRIMARY KEY (a_id, n));\n"),
            ],
        );
    }

    #[test]
    fn an_index_dropped_by_its_default_name_no_longer_covers_it() {
        // The unnamed UNIQUE and CREATE INDEX get PostgreSQL's names
        // (c_a_id_key, c_a_id_idx), so dropping them by those names leaves
        // the key unindexed.
        let findings = crate::lint::rules::test_support::lint_files(&[
            ("0001_a.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE TABLE c (id bigint PRIMARY KEY, a_id bigint UNIQUE, b_id bigint);\nCREATE INDEX ON c (b_id);\n"),
            ("0002_k.up.sql", "ALTER TABLE c DROP CONSTRAINT c_a_id_key;\nDROP INDEX c_b_id_idx;\nALTER TABLE c ADD CONSTRAINT c_a FOREIGN KEY (a_id) REFERENCES a ON DELETE CASCADE, ADD CONSTRAINT c_b FOREIGN KEY (b_id) REFERENCES a ON DELETE CASCADE;\n"),
        ]);
        let unindexed: Vec<&str> = findings
            .iter()
            .filter(|f| f.rule == "fk-column-not-indexed")
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(unindexed.len(), 2, "{unindexed:#?}");
    }

    #[test]
    fn an_index_led_by_an_expression_does_not_cover_the_key() {
        let findings = crate::lint::rules::test_support::lint_files(&[
            PARENT,
            (
                "0002_b.up.sql",
                "CREATE TABLE b (id bigint PRIMARY KEY, x text, a_id bigint REFERENCES a (id) ON DELETE CASCADE);\nCREATE INDEX b_lower_x_a ON b (lower(x), a_id);\n",
            ),
        ]);
        assert!(findings.iter().any(|f| f.rule == "fk-column-not-indexed"));
    }

    #[test]
    fn the_key_follows_its_table_through_a_rename_and_an_index_made_later_in_the_migration() {
        quiet(
            "fk-column-not-indexed",
            &[
                PARENT,
                (
                    "0002_b.up.sql",
                    "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint REFERENCES a (id) ON DELETE CASCADE);\nALTER TABLE b RENAME TO c;\nCREATE INDEX ON c (a_id);\n",
                ),
            ],
        );
    }

    #[test]
    fn a_key_added_to_an_earlier_table_is_covered_by_that_tables_index() {
        quiet(
            "fk-column-not-indexed",
            &[
                PARENT,
                ("0002_b.up.sql", "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint);\nCREATE INDEX ON b (a_id);\n"),
                ("0003_fk.up.sql", "ALTER TABLE b ADD FOREIGN KEY (a_id) REFERENCES a (id) ON DELETE CASCADE;\n"),
            ],
        );
    }
}
