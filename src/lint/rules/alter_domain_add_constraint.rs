//! `alter-domain-add-constraint`: `ALTER DOMAIN … ADD CONSTRAINT` checks
//! every column of every table that uses the domain, while holding locks
//! on them; `NOT VALID` and a later `VALIDATE CONSTRAINT` avoid the scan
//! under lock.

use super::Rule;
use crate::lint::{find_tokens, RawFinding, Severity, StatementContext};

/// See the module header.
pub struct AlterDomainAddConstraint;

impl Rule for AlterDomainAddConstraint {
    fn id(&self) -> &'static str {
        "alter-domain-add-constraint"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "ALTER DOMAIN … ADD CONSTRAINT without NOT VALID"
    }
    fn check_statement(&self, context: &StatementContext, findings: &mut Vec<RawFinding>) {
        if context.statement.keyword != "ALTER" {
            return;
        }
        let text = context.text();
        let is_alter_domain = context
            .recognised
            .is_some_and(|r| r.command == "ALTER DOMAIN")
            || find_tokens(text, "ALTER DOMAIN").is_some_and(|(at, _)| at == 0);
        if !is_alter_domain
            || find_tokens(text, "ADD").is_none()
            || find_tokens(text, "NOT VALID").is_some()
        {
            return;
        }
        findings.push(context.finding(
            self,
            Some("ADD"),
            "adding a constraint to a domain checks every column that uses it, in every table, while holding locks on them".into(),
            "add it NOT VALID, then `ALTER DOMAIN … VALIDATE CONSTRAINT …` in a later migration",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::test_support::{fires, quiet};

    const DOMAIN: (&str, &str) = (
        "0001_d.up.sql",
        "CREATE DOMAIN positive AS int;\nCREATE TABLE t (id bigint PRIMARY KEY, n positive);\n",
    );

    #[test]
    fn fires_without_not_valid() {
        insta::assert_snapshot!(fires(
            "alter-domain-add-constraint",
            &[
                DOMAIN,
                (
                    "0002_c.up.sql",
                    "ALTER DOMAIN positive ADD CONSTRAINT positive_check CHECK (VALUE > 0);\n"
                )
            ]
        ));
    }

    #[test]
    fn quiet_with_not_valid() {
        quiet(
            "alter-domain-add-constraint",
            &[
                DOMAIN,
                ("0002_c.up.sql", "ALTER DOMAIN positive ADD CONSTRAINT positive_check CHECK (VALUE > 0) NOT VALID;\n"),
                ("0003_v.up.sql", "ALTER DOMAIN positive VALIDATE CONSTRAINT positive_check;\n"),
            ],
        );
    }
}
