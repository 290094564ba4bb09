//! `unused-ignore`: an ignore comment that silences nothing (stale, misplaced,
//! misspelt, or without the required reason). The findings come from the
//! linter's suppression pass; this file only declares the rule.

use super::Rule;
use crate::lint::Severity;

/// The rule id, used by the suppression pass.
pub const ID: &str = "unused-ignore";

/// See the module header.
pub struct UnusedIgnore;

impl Rule for UnusedIgnore {
    fn id(&self) -> &'static str {
        ID
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "an ignore comment that silences nothing, or gives no reason"
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_stale_unknown_and_reasonless_ignores() {
        insta::assert_snapshot!(fires(
            "unused-ignore",
            &[
                ("0001_t.up.sql", "-- schemactl:ignore drop-table not dropping anything here\nCREATE TABLE t (id bigint PRIMARY KEY);\n-- schemactl:ignore no-such-rule because\nSELECT 1;\n"),
                ("0001_t.down.sql", "DROP TABLE t;\n"),
                ("0002_d.up.sql", "CREATE TABLE u (id bigint PRIMARY KEY);\n-- schemactl:ignore drop-table\nDROP TABLE t;\n"),
            ]
        ));
    }

    #[test]
    fn quiet_when_the_ignore_is_used() {
        quiet(
            "unused-ignore",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                (
                    "0002_d.up.sql",
                    "-- schemactl:ignore drop-table moved to archive\nDROP TABLE t;\n",
                ),
            ],
        );
    }
}
