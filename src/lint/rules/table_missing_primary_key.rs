//! `table-missing-primary-key`: a table created without a primary key (by
//! the end of its migration) cannot be replicated logically, and its rows
//! cannot be addressed reliably.

use super::Rule;
use crate::lint::{MigrationContext, RawFinding, Severity};

/// See the module header.
pub struct TableMissingPrimaryKey;

impl Rule for TableMissingPrimaryKey {
    fn id(&self) -> &'static str {
        "table-missing-primary-key"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a table created without a primary key"
    }
    fn check_migration(&self, context: &MigrationContext, findings: &mut Vec<RawFinding>) {
        for created in context.created_tables {
            let name = &created.name;
            if !context.schema_after.has_table(name)
                || context.schema_after.has_primary_key(name)
                || created.exempt
            {
                continue;
            }
            findings.push(RawFinding {
                rule: self.id(),
                path: context.migration.up.path.clone(),
                offset: created.offset,
                length: 6,
                message: format!("table {name} has no primary key: logical replication cannot send its updates and deletes, and duplicate rows cannot be told apart"),
                help: "add `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`, or a PRIMARY KEY over the natural key".into(),
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

    #[test]
    fn fires_on_a_table_without_a_key() {
        insta::assert_snapshot!(fires(
            "table-missing-primary-key",
            &[(
                "0001_log.up.sql",
                "CREATE TABLE log (at timestamptz, line text);\n"
            )]
        ));
    }

    #[test]
    fn a_like_copy_with_its_sources_indexes_has_its_key() {
        let source = "CREATE TABLE src (id bigint PRIMARY KEY, note text);\n";
        for options in [
            "INCLUDING ALL",
            "INCLUDING INDEXES",
            "EXCLUDING ALL INCLUDING INDEXES",
        ] {
            quiet(
                "table-missing-primary-key",
                &[(
                    "0001_t.up.sql",
                    &format!("{source}CREATE TABLE copy (LIKE src {options});\n"),
                )],
            );
        }
        // Without the indexes PostgreSQL copies no primary key.
        for options in ["", "INCLUDING DEFAULTS", "INCLUDING ALL EXCLUDING INDEXES"] {
            let findings = crate::lint::rules::test_support::lint_files(&[(
                "0001_t.up.sql",
                &format!("{source}CREATE TABLE copy (LIKE src {options});\n"),
            )]);
            assert!(
                findings
                    .iter()
                    .any(|f| f.rule == "table-missing-primary-key" && f.message.contains("copy")),
                "{options}: {findings:#?}"
            );
        }
    }

    #[test]
    fn a_key_added_later_in_the_migration_counts() {
        quiet(
            "table-missing-primary-key",
            &[("0001_log.up.sql", "CREATE TABLE log (id bigint NOT NULL, line text);\nALTER TABLE log ADD PRIMARY KEY (id);\n")],
        );
    }

    #[test]
    fn a_primary_key_made_from_an_index_counts() {
        quiet(
            "table-missing-primary-key",
            &[(
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint NOT NULL);\nCREATE UNIQUE INDEX t_id ON t (id);\nALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id;\n",
            )],
        );
    }

    #[test]
    fn a_primary_key_dropped_in_the_same_migration_does_not_count() {
        let findings = crate::lint::rules::test_support::lint_files(&[(
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY);\nALTER TABLE t DROP CONSTRAINT t_pkey;\n",
        )]);
        assert!(findings
            .iter()
            .any(|f| f.rule == "table-missing-primary-key"));
    }
}
