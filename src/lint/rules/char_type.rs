//! `char-type`: `char(n)` pads values with spaces and compares them
//! ignoring trailing blanks; it is never faster than `text`.

use super::Rule;
use crate::lint::ddl::defined_columns;
use crate::lint::names::ident;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::DataType;

/// See the module header.
pub struct CharType;

impl Rule for CharType {
    fn id(&self) -> &'static str {
        "char-type"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a column of type char(n) / character(n)"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column) in defined_columns(ast) {
            if matches!(column.data_type, DataType::Char(_) | DataType::Character(_)) {
                findings.push(context.finding_at(
                    self,
                    &column.name,
                    format!("{table}.{} is `{}`: values are padded with spaces, and trailing spaces are ignored in comparisons", ident(&column.name), column.data_type),
                    "use text (with a CHECK on length(…) if the length matters) or varchar(n)",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_char() {
        insta::assert_snapshot!(fires(
            "char-type",
            &[(
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY, code char(3));\n"
            )]
        ));
    }

    #[test]
    fn quiet_on_text_and_varchar() {
        quiet("char-type", &[("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, a text, b varchar(3), c character varying(4));\n")]);
    }
}
