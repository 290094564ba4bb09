//! `prefer-bigint-or-identity-key`: an `int`/`serial` primary key runs out
//! at 2,147,483,647 rows, and widening it later rewrites the table and every
//! table that references it.

use super::Rule;
use crate::lint::names::ident;
use crate::lint::{RawFinding, Severity, StatementContext};
use sqlparser::ast::{ColumnOption, Expr, Statement, TableConstraint};

/// See the module header.
pub struct PreferBigintOrIdentityKey;

const SMALL: &[&str] = &[
    "INT",
    "INTEGER",
    "INT4",
    "INT2",
    "SMALLINT",
    "SERIAL",
    "SERIAL4",
    "SMALLSERIAL",
    "SERIAL2",
];

impl Rule for PreferBigintOrIdentityKey {
    fn id(&self) -> &'static str {
        "prefer-bigint-or-identity-key"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn judges_design(&self) -> bool {
        true
    }
    fn summary(&self) -> &'static str {
        "an int or serial primary key"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        let Some(Statement::CreateTable(create)) = context.ast else {
            return;
        };
        let mut key_columns: Vec<String> = create
            .columns
            .iter()
            .filter(|c| {
                c.options
                    .iter()
                    .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)))
            })
            .map(|c| ident(&c.name))
            .collect();
        for constraint in &create.constraints {
            if let TableConstraint::PrimaryKey(pk) = constraint {
                key_columns.extend(pk.columns.iter().filter_map(|c| match &c.column.expr {
                    Expr::Identifier(i) => Some(ident(i)),
                    _ => None,
                }));
            }
        }
        // Composite keys are usually made of foreign keys, whose type the
        // referenced tables decide.
        if key_columns.len() != 1 {
            return;
        }
        for column in create
            .columns
            .iter()
            .filter(|c| key_columns.contains(&ident(&c.name)))
        {
            let data_type = column.data_type.to_string().to_ascii_uppercase();
            if SMALL.contains(&data_type.as_str()) {
                findings.push(context.finding_at(
                    self,
                    &column.name,
                    format!("primary key column {} is `{}`: it runs out at about 2.1 billion values, and widening it later rewrites the table", ident(&column.name), column.data_type),
                    "use `bigint GENERATED ALWAYS AS IDENTITY`",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    #[test]
    fn fires_on_int_and_serial_keys() {
        insta::assert_snapshot!(fires(
            "prefer-bigint-or-identity-key",
            &[("0001_t.up.sql", "CREATE TABLE t (id serial PRIMARY KEY);\nCREATE TABLE u (a int, b text, PRIMARY KEY (a));\n")]
        ));
    }

    #[test]
    fn quiet_on_bigint_identity_and_uuid() {
        quiet(
            "prefer-bigint-or-identity-key",
            &[("0001_t.up.sql", "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\nCREATE TABLE u (id uuid PRIMARY KEY, n int);\nCREATE TABLE j (a int, b int, PRIMARY KEY (a, b));\n")],
        );
    }
}
