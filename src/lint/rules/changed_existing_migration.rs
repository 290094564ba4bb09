//! `changed-existing-migration` (with `lint --since <rev>`): a migration file
//! that already existed at the revision was edited or deleted. Migrations
//! that may have been applied must not change; write a new one instead.
//! The findings come from `lint --since`; this file only declares the rule.

use super::Rule;
use crate::lint::Severity;

/// The rule id.
pub const ID: &str = "changed-existing-migration";

/// See the module header.
pub struct ChangedExistingMigration;

impl Rule for ChangedExistingMigration {
    fn id(&self) -> &'static str {
        ID
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "with --since: a migration that existed at the revision was edited or deleted"
    }
}
