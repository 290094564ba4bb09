//! `truncate-cascade`: `TRUNCATE … CASCADE` also empties every table with a
//! foreign key to the named ones, and theirs in turn: tables the statement
//! does not name.

use super::Rule;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{CascadeOption, Statement};

/// See the module header.
pub struct TruncateCascade;

impl Rule for TruncateCascade {
    fn id(&self) -> &'static str {
        "truncate-cascade"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "TRUNCATE … CASCADE, in any script"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        if let Some(Statement::Truncate(truncate)) = context.ast {
            if matches!(truncate.cascade, Some(CascadeOption::Cascade)) {
                findings.push(context.finding(
                    self,
                    Some("CASCADE"),
                    "TRUNCATE … CASCADE also empties every table that references these, and the tables referencing those, without naming them".into(),
                    "name every table to empty in the TRUNCATE (it then fails if one was missed), or DELETE the rows",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_even_in_a_down_script() {
        insta::assert_snapshot!(fires(
            "truncate-cascade",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0001_t.down.sql", "TRUNCATE t CASCADE;\nDROP TABLE t;\n")
            ]
        ));
    }

    #[test]
    fn quiet_without_cascade() {
        quiet(
            "truncate-cascade",
            &[
                ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n"),
                ("0001_t.down.sql", "TRUNCATE t;\nDROP TABLE t;\n"),
            ],
        );
    }
}
