//! `timestamp-without-time-zone`: `timestamp` stores wall-clock time without
//! a zone, so the same instant reads differently depending on who wrote it.

use super::Rule;
use crate::lint::ddl::defined_columns;
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
    fn summary(&self) -> &'static str {
        "a column of type timestamp (without time zone)"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column) in defined_columns(ast) {
            let data_type = column.data_type.to_string().to_ascii_uppercase();
            if data_type.starts_with("TIMESTAMP")
                && !data_type.contains("WITH TIME ZONE")
                && !data_type.starts_with("TIMESTAMPTZ")
            {
                findings.push(context.finding_at(
                    self,
                    &column.name,
                    format!("{table}.{} is `{}`: it stores no time zone, so instants written from different zones cannot be compared", ident(&column.name), column.data_type),
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
}
