//! `timestamp-without-time-zone`: `timestamp` stores wall-clock time without
//! a zone, so the same instant reads differently depending on who wrote it.

use super::Rule;
use crate::lint::ddl::{element_type, typed_columns};
use crate::lint::names::ident;
use crate::lint::{RawFinding, Severity, StatementContext};

/// See the module header.
pub struct TimestampWithoutTimeZone;

impl Rule for TimestampWithoutTimeZone {
    fn id(&self) -> &'static str {
        "timestamp-without-time-zone"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn judges_design(&self) -> bool {
        true
    }
    fn summary(&self) -> &'static str {
        "a column of type timestamp (without time zone)"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column, data_type) in typed_columns(ast) {
            let element = element_type(data_type).to_string().to_ascii_uppercase();
            if element.starts_with("TIMESTAMP")
                && !element.contains("WITH TIME ZONE")
                && !element.starts_with("TIMESTAMPTZ")
            {
                findings.push(context.finding_at(
                    self,
                    column,
                    format!("{table}.{} is `{data_type}`: it stores no time zone, so instants written from different zones cannot be compared", ident(column)),
                    "use timestamptz (timestamp with time zone)",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_plain_timestamps() {
        insta::assert_snapshot!(fires(
            "timestamp-without-time-zone",
            &[("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, created_at timestamp, seen timestamp(3) without time zone);\n")]
        ));
    }

    #[test]
    fn quiet_on_timestamptz() {
        quiet("timestamp-without-time-zone", &[("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, a timestamptz, b timestamp with time zone);\n")]);
    }

    #[test]
    fn fires_on_add_column_alter_type_and_arrays() {
        let findings = crate::lint::rules::test_support::lint_files(&[
            ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, at text);\n"),
            (
                "0002_a.up.sql",
                "ALTER TABLE t ADD COLUMN seen timestamp;\nALTER TABLE t ALTER COLUMN at TYPE timestamp USING at::timestamp;\nALTER TABLE t ADD COLUMN history timestamp(3)[];\n",
            ),
        ]);
        let lines: Vec<usize> = findings
            .iter()
            .filter(|f| f.rule == "timestamp-without-time-zone")
            .map(|f| f.position.line)
            .collect();
        assert_eq!(lines, [1, 2, 3], "{findings:#?}");
    }
}
