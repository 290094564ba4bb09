//! `add-column-volatile-default`: adding a column to an existing table whose
//! value must be computed for every row (a volatile default such as
//! `gen_random_uuid()` or `clock_timestamp()`, a `serial` or identity
//! column, a `STORED` generated column) rewrites the whole table under an
//! ACCESS EXCLUSIVE lock. A constant default, or a stable one such as
//! `now()`, is stored once in the catalog (PostgreSQL 11+) and rewrites
//! nothing.

use super::Rule;
use crate::lint::ddl::{added_columns, is_serial};
use crate::lint::names::ident;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{ColumnOption, GeneratedExpressionMode};

/// See the module header.
pub struct AddColumnVolatileDefault;

/// Functions PostgreSQL marks stable or immutable that defaults commonly
/// call: a default of these alone is evaluated once, not per row. Any other
/// function may be volatile (user functions are, unless declared otherwise).
const NOT_VOLATILE: &[&str] = &[
    // `cast(x AS t)` is syntax, not a call (what it casts is still read).
    "cast",
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "transaction_timestamp",
    "statement_timestamp",
    "current_user",
    "session_user",
    "current_role",
    "current_schema",
    "current_database",
    "current_setting",
    "lower",
    "upper",
    "trim",
    "concat",
    "coalesce",
    "nullif",
    "length",
    "array",
    "to_jsonb",
    "to_json",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_build_array",
    "json_build_array",
    "make_interval",
    "make_date",
    "make_timestamptz",
    "to_timestamp",
    "timezone",
    "date_trunc",
];

/// The first function of `expression` not known to be stable, if any.
fn possibly_volatile_call(expression: &str) -> Option<String> {
    let bytes = expression.as_bytes();
    let mut in_string = false;
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\'' {
            in_string = !in_string;
        }
        if in_string {
            start = None;
            continue;
        }
        let word_char = b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
        match (word_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if b == b'(' {
                    let name = expression[s..i].to_ascii_lowercase();
                    let bare = name.rsplit('.').next().unwrap_or(&name).to_string();
                    if !NOT_VOLATILE.contains(&bare.as_str()) {
                        return Some(name);
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    None
}

impl Rule for AddColumnVolatileDefault {
    fn id(&self) -> &'static str {
        "add-column-volatile-default"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "ADD COLUMN whose value is computed per row (volatile default, serial, identity, STORED generated) on an existing table"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(ast) = context.ast else { return };
        for (table, column) in added_columns(ast) {
            if context.table_is_new(&table) {
                continue;
            }
            let mut why = None;
            if is_serial(&column.data_type) {
                why = Some(format!(
                    "`{}` fills every row from a sequence",
                    column.data_type
                ));
            }
            for option in &column.options {
                match &option.option {
                    ColumnOption::Default(expression) => {
                        if let Some(function) = possibly_volatile_call(&expression.to_string()) {
                            why = Some(format!(
                                "the default calls {function}(), which may be volatile, so it is computed for every row"
                            ));
                        }
                    }
                    ColumnOption::Identity(_) => {
                        why = Some("an identity column fills every row from a sequence".into())
                    }
                    ColumnOption::Generated {
                        generation_expr,
                        generation_expr_mode,
                        ..
                    } => {
                        why = match (generation_expr, generation_expr_mode) {
                            (None, _) => {
                                Some("an identity column fills every row from a sequence".into())
                            }
                            (Some(_), Some(GeneratedExpressionMode::Stored)) | (Some(_), None) => {
                                Some("a STORED generated column is computed for every row".into())
                            }
                            _ => why,
                        }
                    }
                    _ => {}
                }
            }
            let Some(why) = why else { continue };
            findings.push(context.finding_at(
                self,
                &column.name,
                format!("adding {table}.{}: {why}, rewriting the whole table under an ACCESS EXCLUSIVE lock (no reads or writes until it ends)", ident(&column.name)),
                "add the column without the default (or nullable), backfill it in batches, then SET DEFAULT for new rows",
            ).on_table(&table));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const TABLE: (&str, &str) = ("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n");

    #[test]
    fn fires_on_per_row_values() {
        insta::assert_snapshot!(fires(
            "add-column-volatile-default",
            &[
                TABLE,
                (
                    "0002_c.up.sql",
                    "ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();\nALTER TABLE t ADD COLUMN n bigserial;\nALTER TABLE t ADD COLUMN k bigint GENERATED ALWAYS AS IDENTITY;\nALTER TABLE t ADD COLUMN twice bigint GENERATED ALWAYS AS (id * 2) STORED;\n"
                )
            ]
        ));
    }

    #[test]
    fn quiet_for_constant_and_stable_defaults_and_new_tables() {
        quiet(
            "add-column-volatile-default",
            &[
                TABLE,
                (
                    "0002_c.up.sql",
                    "ALTER TABLE t ADD COLUMN state text NOT NULL DEFAULT 'new';\nALTER TABLE t ADD COLUMN at timestamptz DEFAULT now();\nALTER TABLE t ADD COLUMN meta jsonb DEFAULT '{}'::jsonb;\nALTER TABLE t ADD COLUMN tags text[] DEFAULT ARRAY[]::text[];\nCREATE TABLE u (id bigint PRIMARY KEY);\nALTER TABLE u ADD COLUMN token uuid DEFAULT gen_random_uuid();\nALTER TABLE t ADD COLUMN level int DEFAULT cast('1' AS int);\n",
                ),
            ],
        );
    }

    #[test]
    fn a_cast_is_read_through() {
        let findings = crate::lint::rules::test_support::lint_files(&[
            TABLE,
            (
                "0002_c.up.sql",
                "ALTER TABLE t ADD COLUMN n int DEFAULT cast(random() * 10 AS int);\n",
            ),
        ]);
        assert!(
            findings
                .iter()
                .any(|f| f.rule == "add-column-volatile-default" && f.message.contains("random")),
            "{findings:#?}"
        );
    }
}
