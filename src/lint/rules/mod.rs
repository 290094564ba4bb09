//! The lint rules, one file each. [`RULES`] is the one list every part of
//! schemactl reads (the runner of the rules, the configuration check, the
//! SARIF rule table, the book's rule pages and their tests).

use super::{MigrationContext, RawFinding, Severity, StatementContext};

pub mod add_column_not_null_without_default;
pub mod add_column_volatile_default;
pub mod add_foreign_key_not_valid;
pub mod alter_domain_add_constraint;
pub mod backfill_not_batchable;
pub mod change_column_type;
pub mod changed_existing_migration;
pub mod char_type;
pub mod concurrently_in_transaction;
pub mod contract_in_expand_migration;
pub mod create_index_not_concurrently;
pub mod down_does_not_reverse;
pub mod drop_column;
pub mod drop_database;
pub mod drop_index_not_concurrently;
pub mod drop_not_null;
pub mod drop_table;
pub mod empty_migration;
pub mod fk_column_not_indexed;
pub mod fk_missing_on_delete;
pub mod missing_down_migration;
pub mod missing_semicolon;
pub mod mongo_validator;
pub mod non_transactional_not_retry_safe;
pub mod prefer_bigint_or_identity_key;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null_existing_table;
pub mod table_missing_primary_key;
pub mod timestamp_without_time_zone;
pub mod transaction_control_in_migration;
pub mod truncate;
pub mod truncate_cascade;
pub mod uncommitted_transaction;
pub mod unique_constraint_without_index;
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
    /// Whether PostgreSQL rejects every migration this rule fires on, so
    /// that the migration will not run as written (reports list these
    /// first).
    fn rejected_by_postgres(&self) -> bool {
        false
    }
    /// Whether the rule judges the schema's design (a type, a key, an
    /// `ON DELETE`) rather than what running the statement does. Such rules
    /// do not check down scripts: a down restores the shape its up changed,
    /// which was judged when it was written; locking and data-loss rules
    /// still do.
    fn judges_design(&self) -> bool {
        false
    }
    /// Checks one statement (the schema in the context is the one before it).
    fn check_statement(&self, _context: &StatementContext, _findings: &mut Vec<RawFinding>) {}
    /// Checks a whole migration (after its up script).
    fn check_migration(&self, _context: &MigrationContext, _findings: &mut Vec<RawFinding>) {}
}

/// Every rule, in the order the book lists them.
pub const RULES: &[&dyn Rule] = &[
    &fk_missing_on_delete::FkMissingOnDelete,
    &fk_column_not_indexed::FkColumnNotIndexed,
    &table_missing_primary_key::TableMissingPrimaryKey,
    &create_index_not_concurrently::CreateIndexNotConcurrently,
    &concurrently_in_transaction::ConcurrentlyInTransaction,
    &drop_index_not_concurrently::DropIndexNotConcurrently,
    &add_column_not_null_without_default::AddColumnNotNullWithoutDefault,
    &add_column_volatile_default::AddColumnVolatileDefault,
    &add_foreign_key_not_valid::AddForeignKeyNotValid,
    &unique_constraint_without_index::UniqueConstraintWithoutIndex,
    &alter_domain_add_constraint::AlterDomainAddConstraint,
    &set_not_null_existing_table::SetNotNullExistingTable,
    &drop_not_null::DropNotNull,
    &change_column_type::ChangeColumnType,
    &rename_column::RenameColumn,
    &rename_table::RenameTable,
    &drop_table::DropTable,
    &drop_column::DropColumn,
    &truncate::Truncate,
    &truncate_cascade::TruncateCascade,
    &drop_database::DropDatabase,
    &contract_in_expand_migration::ContractInExpandMigration,
    &timestamp_without_time_zone::TimestampWithoutTimeZone,
    &prefer_bigint_or_identity_key::PreferBigintOrIdentityKey,
    &char_type::CharType,
    &missing_down_migration::MissingDownMigration,
    &empty_migration::EmptyMigration,
    &down_does_not_reverse::DownDoesNotReverse,
    &transaction_control_in_migration::TransactionControlInMigration,
    &backfill_not_batchable::BackfillNotBatchable,
    &uncommitted_transaction::UncommittedTransaction,
    &non_transactional_not_retry_safe::NonTransactionalNotRetrySafe,
    &missing_semicolon::MissingSemicolon,
    &unparseable_statement::UnparseableStatement,
    &unused_ignore::UnusedIgnore,
    &changed_existing_migration::ChangedExistingMigration,
    &mongo_validator::InvalidJson,
    &mongo_validator::UnsupportedKeyword,
    &mongo_validator::RequiredNotInProperties,
    &mongo_validator::InvalidBsonType,
    &mongo_validator::ValidationActionWarn,
];

/// Whether a finding of the rule `id` means the migration will not run as
/// written (see [`Rule::rejected_by_postgres`]).
pub fn will_not_run(id: &str) -> bool {
    find(id).is_some_and(|rule| rule.rejected_by_postgres())
}

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

    /// The book's page of a rule, `docs/lint/rules/<id>.md`.
    fn rule_page(id: &str) -> String {
        let path = format!("{}/docs/lint/rules/{id}.md", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn every_rule_has_a_page_with_a_bad_and_a_good_example_and_every_page_a_rule() {
        let dir = format!("{}/docs/lint/rules", env!("CARGO_MANIFEST_DIR"));
        let mut pages: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        pages.sort();
        let mut expected: Vec<String> = RULES.iter().map(|r| format!("{}.md", r.id())).collect();
        expected.sort();
        assert_eq!(pages, expected, "docs/lint/rules/ has one page per rule");
        for rule in RULES {
            let section = rule_page(rule.id());
            let heading = format!("# `{}`", rule.id());
            assert!(section.starts_with(&heading), "{heading}");
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

    /// The schema the rule pages' examples are written against.
    const EXAMPLE_TABLES: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);\n\
        CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, created_at timestamptz, status text, total bigint, notes text);\n\
        CREATE TABLE legacy_orders (id bigint PRIMARY KEY);\n\
        CREATE TABLE sessions (id bigint PRIMARY KEY, ended_at timestamptz);\n";

    /// The ```sql blocks after `label` in a rule's page.
    fn blocks<'a>(section: &'a str, label: &str) -> Vec<&'a str> {
        let Some(start) = section.find(label) else {
            return Vec::new();
        };
        let rest = &section[start..];
        let end = ["\nBad:", "\nGood:"]
            .iter()
            .filter_map(|l| rest[label.len()..].find(l).map(|i| i + label.len()))
            .min()
            .unwrap_or(rest.len());
        rest[..end]
            .split("```sql\n")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect()
    }

    /// An example as migration files: `-- NAME.up.sql` lines start a file;
    /// text before any is `0002_example.up.sql`. The example tables come
    /// first, as `0001_tables.up.sql`.
    fn example_files(block: &str) -> Vec<(String, String)> {
        let mut files = vec![("0001_tables.up.sql".to_string(), EXAMPLE_TABLES.to_string())];
        let mut current = ("0002_example.up.sql".to_string(), String::new());
        for line in block.lines() {
            let marker = line.strip_prefix("-- ").filter(|n| {
                !n.contains(' ') && (n.ends_with(".up.sql") || n.ends_with(".down.sql"))
            });
            if let Some(name) = marker {
                if !current.1.is_empty() {
                    files.push(std::mem::take(&mut current));
                }
                current = (name.to_string(), String::new());
            } else {
                current.1.push_str(line);
                current.1.push('\n');
            }
        }
        files.push(current);
        files
    }

    #[test]
    fn the_rule_pages_examples_bad_fires_and_good_is_quiet() {
        let mut checked = 0;
        for rule in RULES {
            let page = rule_page(rule.id());
            let section = page.as_str();
            for (label, should_fire) in [("Bad:", true), ("Good:", false)] {
                for block in blocks(section, label) {
                    let files = example_files(block);
                    let borrowed: Vec<(&str, &str)> = files
                        .iter()
                        .map(|(n, s)| (n.as_str(), s.as_str()))
                        .collect();
                    let fired = super::super::rules::test_support::lint_files(&borrowed)
                        .into_iter()
                        .filter(|f| f.rule == rule.id())
                        .collect::<Vec<_>>();
                    assert_eq!(
                        !fired.is_empty(),
                        should_fire,
                        "docs/lint/rules/{}.md {label} example {}:\n{block}\n{fired:#?}",
                        rule.id(),
                        if should_fire {
                            "does not fire"
                        } else {
                            "fires"
                        }
                    );
                    checked += 1;
                }
            }
        }
        assert!(
            checked >= 30,
            "only {checked} rule page examples were checked"
        );
    }

    #[test]
    fn the_squawk_mapping_names_real_rules() {
        let path = format!("{}/docs/lint/squawk.md", env!("CARGO_MANIFEST_DIR"));
        let page = std::fs::read_to_string(path).unwrap();
        let section = page.as_str();
        let mut mapped = 0;
        for row in section.lines().filter(|l| l.starts_with("| `")) {
            let cell = row.split('|').nth(2).unwrap_or("").trim();
            // Rule ids come before any parenthesised remark.
            let cell = cell.split('(').next().unwrap_or(cell);
            if cell.starts_with("not ") {
                continue;
            }
            for id in cell
                .split('`')
                .skip(1)
                .step_by(2)
                .take_while(|id| id.contains('-'))
            {
                assert!(
                    super::find(id).is_some(),
                    "the Squawk table names `{id}`, not a rule"
                );
                mapped += 1;
            }
        }
        assert!(mapped >= 25, "only {mapped} mapped rules found");
    }
}
