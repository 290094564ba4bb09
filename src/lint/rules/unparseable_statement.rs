//! `unparseable-statement`: a statement sqlparser cannot parse, reported once
//! with the parser's reason; the rest of the file is still linted. The
//! findings come from the linter's driver; this file only declares the rule.

use super::Rule;
use crate::lint::Severity;

/// The rule id, used by the driver.
pub const ID: &str = "unparseable-statement";

/// See the module header.
pub struct UnparseableStatement;

impl Rule for UnparseableStatement {
    fn id(&self) -> &'static str {
        ID
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a statement the SQL parser cannot read (it is not checked by the other rules)"
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, lint_files, quiet};

    #[test]
    fn reports_the_statement_once_and_lints_the_rest() {
        let files = [(
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY);\nCREATE TABLE v (a int,, b int);\nCREATE TABLE u (v char(2));\n",
        )];
        insta::assert_snapshot!(fires("unparseable-statement", &files));
        let rules: Vec<&str> = lint_files(&files).iter().map(|f| f.rule).collect();
        assert!(
            rules.contains(&"char-type"),
            "the statement after the unparseable one was not linted: {rules:?}"
        );
    }

    #[test]
    fn postgres_only_syntax_does_not_stop_the_linter() {
        let files = [(
            "0001_t.up.sql",
            "DO $$ BEGIN RAISE NOTICE 'x'; END $$;\nCREATE POLICY p ON t USING (true);\nCREATE TABLE u (v char(2));\n",
        )];
        let rules: Vec<&str> = lint_files(&files).iter().map(|f| f.rule).collect();
        assert!(rules.contains(&"char-type"), "{rules:?}");
    }

    #[test]
    fn a_statement_postgresql_rejects_is_an_error() {
        for (statement, reason) in [
            ("DROP INDEX IF NOT EXISTS t_a", "DROP takes IF EXISTS"),
            (
                "DROP INDEX CONCURRENTLY IF NOT EXISTS t_a",
                "DROP takes IF EXISTS",
            ),
            (
                "DROP MATERIALIZED VIEW IF NOT EXISTS v",
                "DROP takes IF EXISTS",
            ),
            (
                "CREATE TABLE IF EXISTS t (id int)",
                "CREATE takes IF NOT EXISTS",
            ),
            (
                "CREATE UNIQUE INDEX CONCURRENTLY IF EXISTS t_a ON t (a)",
                "CREATE takes IF NOT EXISTS",
            ),
            ("\\connect other", "is psql's, not SQL"),
            ("\\set ON_ERROR_STOP on", "is psql's, not SQL"),
        ] {
            let sql = format!("-- schemactl:no-transaction\n{statement};\n");
            let findings = lint_files(&[
                (
                    "0001_t.up.sql",
                    "CREATE TABLE t (id bigint PRIMARY KEY, a int);\n",
                ),
                ("0001_t.down.sql", &sql),
            ]);
            let finding = findings
                .iter()
                .find(|f| f.rule == "unparseable-statement")
                .unwrap_or_else(|| panic!("{statement}: {findings:#?}"));
            assert_eq!(
                finding.severity,
                crate::lint::Severity::Error,
                "{statement}"
            );
            assert!(
                finding.message.contains(reason),
                "{statement}: {}",
                finding.message
            );
            assert_eq!(finding.position.line, 2, "{statement}");
        }
        // Valid PostgreSQL the parser does not know stays a warning (or is
        // recognised), and an IF inside a body is not the command's.
        for statement in [
            "DROP INDEX IF EXISTS t_a",
            "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN IF EXISTS (SELECT 1) THEN RETURN 1; END IF; RETURN 0; END $$",
        ] {
            let findings = lint_files(&[("0001_t.up.sql", &format!("{statement};\n"))]);
            assert!(
                findings
                    .iter()
                    .all(|f| f.rule != "unparseable-statement" || f.severity == crate::lint::Severity::Warning),
                "{statement}: {findings:#?}"
            );
        }
    }

    #[test]
    fn a_script_that_cannot_be_split_is_an_error_where_its_quote_opens() {
        let findings = lint_files(&[(
            "0001_f.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY);\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\nSELECT 1;\n",
        )]);
        let finding = findings
            .iter()
            .find(|f| f.rule == "unparseable-statement")
            .unwrap_or_else(|| panic!("{findings:#?}"));
        assert_eq!(finding.severity, crate::lint::Severity::Error);
        assert_eq!((finding.position.line, finding.position.column), (2, 49));
        assert!(
            finding.message.starts_with("`migrate` refuses this script")
                && finding.message.contains("close it with `$$`"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn a_statement_nested_past_the_parsers_depth_is_named_as_such() {
        let deep = format!("SELECT {}1{};\n", "(".repeat(5000), ")".repeat(5000));
        let findings = lint_files(&[("0001_deep.up.sql", &deep)]);
        let finding = findings
            .iter()
            .find(|f| f.rule == "unparseable-statement")
            .expect("reported");
        assert!(
            finding
                .message
                .contains("nests deeper than the linter reads (more than 50 levels"),
            "{}",
            finding.message
        );
        assert_eq!((finding.position.line, finding.position.column), (1, 1));
    }

    /// The `unparseable-statement` finding's message for `sql`.
    fn unparseable_message(sql: &str) -> String {
        let findings = lint_files(&[("0001_t.up.sql", sql)]);
        findings
            .into_iter()
            .find(|f| f.rule == "unparseable-statement")
            .expect("reported")
            .message
    }

    #[test]
    fn runs_of_not_and_nested_case_past_the_depth_are_named_as_such() {
        // sqlparser reports these as "found: NOT" / "found: true".
        for deep in [
            format!("SELECT {}true;\n", "NOT ".repeat(100_000)),
            format!(
                "SELECT {}1{};\n",
                "CASE WHEN true THEN ".repeat(60),
                " END".repeat(60)
            ),
        ] {
            let message = unparseable_message(&deep);
            assert!(
                message.contains("nests deeper than the linter reads"),
                "{message}"
            );
        }
        // A mistyped statement that nests a little is still a syntax error.
        let message = unparseable_message("SELECT NOT NOT (((1))) FRUM t;\n");
        assert!(message.contains("sqlparser cannot parse"), "{message}");
    }

    #[test]
    fn the_syntax_of_each_postgresql_version_is_read_whole() {
        // One fixture per major version, each run on PostgreSQL 18 when it
        // was written (so each statement is one PostgreSQL accepts).
        for (version, sql) in [
            (
                13,
                include_str!("../../../tests/fixtures/lint/postgres13_syntax.sql"),
            ),
            (
                14,
                include_str!("../../../tests/fixtures/lint/postgres14_syntax.sql"),
            ),
            (
                15,
                include_str!("../../../tests/fixtures/lint/postgres15_syntax.sql"),
            ),
            (
                16,
                include_str!("../../../tests/fixtures/lint/postgres16_syntax.sql"),
            ),
            (
                17,
                include_str!("../../../tests/fixtures/lint/postgres17_syntax.sql"),
            ),
            (
                18,
                include_str!("../../../tests/fixtures/lint/postgres18_syntax.sql"),
            ),
        ] {
            let findings = lint_files(&[(&format!("0001_pg{version}.up.sql"), sql)]);
            let unread: Vec<_> = findings
                .iter()
                .filter(|f| f.rule == "unparseable-statement")
                .map(|f| (f.position.line, &f.message))
                .collect();
            assert!(unread.is_empty(), "PostgreSQL {version}: {unread:#?}");
        }
    }

    #[test]
    fn postgresql_18_syntax_means_what_it_means_to_the_rules() {
        let existing = (
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n",
        );
        // A named NOT NULL constraint scans the table as SET NOT NULL does.
        let findings = lint_files(&[
            existing,
            (
                "0002_nn.up.sql",
                "ALTER TABLE t ADD CONSTRAINT t_b_nn NOT NULL b;\n",
            ),
        ]);
        assert!(
            findings
                .iter()
                .any(|f| f.rule == "set-not-null-existing-table"
                    && f.path.ends_with("0002_nn.up.sql")),
            "{findings:#?}"
        );
        // A virtual generated column rewrites nothing; a stored one does.
        let findings = lint_files(&[
            existing,
            (
                "0002_g.up.sql",
                "ALTER TABLE t ADD COLUMN v int GENERATED ALWAYS AS (a * 2) VIRTUAL;\nALTER TABLE t ADD COLUMN s int GENERATED ALWAYS AS (a * 2) STORED;\n",
            ),
        ]);
        let rewrites: Vec<usize> = findings
            .iter()
            .filter(|f| f.rule == "add-column-volatile-default")
            .map(|f| f.position.line)
            .collect();
        assert_eq!(rewrites, [2], "{findings:#?}");
    }

    #[test]
    fn every_postgres_construct_of_the_coverage_fixture_is_read() {
        let sql = include_str!("../../../tests/fixtures/lint/postgres_constructs.sql");
        quiet("unparseable-statement", &[("0001_constructs.up.sql", sql)]);
    }
}
