//! `char-type`: `char(n)` pads values with spaces and compares them
//! ignoring trailing blanks; it is never faster than `text`.

use super::Rule;
use crate::lint::ddl::{element_type, typed_columns};
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
    fn judges_design(&self) -> bool {
        true
    }
    fn summary(&self) -> &'static str {
        "a column of type char(n) / character(n)"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column, data_type) in typed_columns(ast) {
            let element = element_type(data_type);
            // `bpchar(n)`, also quoted as pg_dump writes it (`"bpchar"(n)`).
            let bpchar = matches!(element, DataType::Custom(name, _)
                if name.0.last().and_then(|part| part.as_ident()).is_some_and(|i| i.value.eq_ignore_ascii_case("bpchar")));
            if matches!(element, DataType::Char(_) | DataType::Character(_)) || bpchar {
                findings.push(context.finding_at(
                    self,
                    column,
                    format!("{table}.{} is `{data_type}`: values are padded with spaces, and trailing spaces are ignored in comparisons", ident(column)),
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

    #[test]
    fn fires_on_arrays_bpchar_and_alter_type() {
        let findings = crate::lint::rules::test_support::lint_files(&[(
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY, codes char(2)[], flag bpchar, dumped \"bpchar\"(3), name text);\nALTER TABLE t ALTER COLUMN name TYPE character(10);\n",
        )]);
        let found = findings.iter().filter(|f| f.rule == "char-type").count();
        assert_eq!(found, 4, "{findings:#?}");
    }

    #[test]
    fn design_rules_leave_a_down_that_restores_the_old_shape() {
        // The up modernises the column; the down must bring back the old
        // type, which is not a design to judge again.
        let findings = crate::lint::rules::test_support::lint_files(&[
            ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, code char(2), at timestamp);\n"),
            ("0001_t.down.sql", "DROP TABLE t;\n"),
            ("0002_m.up.sql", "ALTER TABLE t DROP COLUMN code;\nALTER TABLE t ALTER COLUMN at TYPE timestamptz;\n"),
            ("0002_m.down.sql", "ALTER TABLE t ADD COLUMN code char(2);\nALTER TABLE t ALTER COLUMN at TYPE timestamp;\n"),
        ]);
        let in_down: Vec<&str> = findings
            .iter()
            .filter(|f| f.path.ends_with("0002_m.down.sql"))
            .map(|f| f.rule)
            .collect();
        assert!(!in_down.contains(&"char-type"), "{in_down:?}");
        assert!(
            !in_down.contains(&"timestamp-without-time-zone"),
            "{in_down:?}"
        );
        // What running the down does is still judged.
        assert!(in_down.contains(&"change-column-type"), "{in_down:?}");
    }
}
