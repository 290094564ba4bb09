//! The lint rules, one file each. [`RULES`] is the one list every part of
//! schemactl reads (the runner of the rules, the configuration check, the
//! SARIF rule table, the README table test).

use super::{MigrationContext, RawFinding, Severity, StatementContext};

pub mod add_column_not_null_without_default;
pub mod add_foreign_key_not_valid;
pub mod change_column_type;
pub mod changed_existing_migration;
pub mod char_type;
pub mod concurrently_in_transaction;
pub mod create_index_not_concurrently;
pub mod down_does_not_reverse;
pub mod drop_column;
pub mod drop_table;
pub mod empty_migration;
pub mod fk_column_not_indexed;
pub mod fk_missing_on_delete;
pub mod missing_down_migration;
pub mod mongo_validator;
pub mod prefer_bigint_or_identity_key;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null_existing_table;
pub mod table_missing_primary_key;
pub mod timestamp_without_time_zone;
pub mod transaction_control_in_migration;
pub mod truncate;
pub mod unparseable_statement;
pub mod unused_ignore;

#[cfg(test)]
pub(crate) mod test_support;

/// One lint rule.
pub trait Rule: Sync {
    /// The stable kebab-case id users write in ignores and configuration.
    fn id(&self) -> &'static str;
    /// The severity unless configured otherwise.
    fn default_severity(&self) -> Severity;
    /// One line saying what the rule catches.
    fn summary(&self) -> &'static str;
    /// Checks one statement (the schema in the context is the one before it).
    fn check_statement(&self, _context: &StatementContext, _findings: &mut Vec<RawFinding>) {}
    /// Checks a whole migration (after its up script).
    fn check_migration(&self, _context: &MigrationContext, _findings: &mut Vec<RawFinding>) {}
}

/// Every rule, in the order the README documents them.
pub const RULES: &[&dyn Rule] = &[
    &fk_missing_on_delete::FkMissingOnDelete,
    &fk_column_not_indexed::FkColumnNotIndexed,
    &table_missing_primary_key::TableMissingPrimaryKey,
    &create_index_not_concurrently::CreateIndexNotConcurrently,
    &concurrently_in_transaction::ConcurrentlyInTransaction,
    &add_column_not_null_without_default::AddColumnNotNullWithoutDefault,
    &add_foreign_key_not_valid::AddForeignKeyNotValid,
    &set_not_null_existing_table::SetNotNullExistingTable,
    &change_column_type::ChangeColumnType,
    &rename_column::RenameColumn,
    &rename_table::RenameTable,
    &drop_table::DropTable,
    &drop_column::DropColumn,
    &truncate::Truncate,
    &timestamp_without_time_zone::TimestampWithoutTimeZone,
    &prefer_bigint_or_identity_key::PreferBigintOrIdentityKey,
    &char_type::CharType,
    &missing_down_migration::MissingDownMigration,
    &empty_migration::EmptyMigration,
    &down_does_not_reverse::DownDoesNotReverse,
    &transaction_control_in_migration::TransactionControlInMigration,
    &unparseable_statement::UnparseableStatement,
    &unused_ignore::UnusedIgnore,
    &changed_existing_migration::ChangedExistingMigration,
    &mongo_validator::InvalidJson,
    &mongo_validator::UnsupportedKeyword,
    &mongo_validator::RequiredNotInProperties,
    &mongo_validator::InvalidBsonType,
    &mongo_validator::ValidationActionWarn,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.id() == id)
}

#[cfg(test)]
mod tests {
    use super::RULES;

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id()).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
        ids.sort();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate rule ids");
    }

    #[test]
    fn the_readme_documents_every_rule_with_a_bad_and_a_good_example() {
        let readme = include_str!("../../../README.md");
        for rule in RULES {
            let heading = format!("#### `{}`", rule.id());
            let start = readme
                .find(&heading)
                .unwrap_or_else(|| panic!("README lacks {heading}"));
            let section = &readme[start..];
            let section = &section[..section[1..].find("#### ").map_or(section.len(), |i| i + 1)];
            if !matches!(
                rule.id(),
                "unparseable-statement"
                    | "unused-ignore"
                    | "missing-down-migration"
                    | "changed-existing-migration"
            ) {
                assert!(
                    section.contains("Bad:") && section.contains("Good:"),
                    "{heading} needs Bad: and Good: examples"
                );
            }
        }
    }
}
