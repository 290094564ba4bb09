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
    fn every_postgres_construct_of_the_coverage_fixture_is_read() {
        let sql = include_str!("../../../tests/fixtures/lint/postgres_constructs.sql");
        quiet("unparseable-statement", &[("0001_constructs.up.sql", sql)]);
    }
}
