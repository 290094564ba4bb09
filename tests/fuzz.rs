//! Property-based fuzzing of the parsers (a short pass on every test run;
//! `cargo xtask fuzz --seconds 600` runs the same targets for longer).
//! Set PROPTEST_CASES to change the number of cases.

use proptest::prelude::*;
use schemactl::fuzz_targets;

/// SQL-shaped text: keywords, identifiers, quotes, dollar quotes, comments,
/// punctuation and arbitrary characters, in any order.
pub fn sql() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "CREATE TABLE",
            "ALTER TABLE",
            "ADD COLUMN",
            "DROP TABLE",
            "DROP COLUMN",
            "CREATE INDEX",
            "CONCURRENTLY",
            "ON",
            "REFERENCES",
            "ON DELETE CASCADE",
            "PRIMARY KEY",
            "NOT NULL",
            "DEFAULT",
            "CHECK",
            "NOT VALID",
            "BEGIN",
            "ATOMIC",
            "END",
            "CASE",
            "COMMIT",
            "ROLLBACK",
            "TRUNCATE",
            "RENAME TO",
            "TYPE",
            "int",
            "bigint",
            "char(3)",
            "timestamp",
            "serial",
            "(",
            ")",
            ",",
            ";",
            "'",
            "''",
            "E'\\''",
            "$$",
            "$tag$",
            "--",
            "/*",
            "*/",
            "\n",
            "\r\n",
            "\"",
            "t",
            "x",
            "-- schemactl:no-transaction\n",
            "-- schemactl:ignore drop-table why\n",
            "-- schemactl:lock-timeout 5s\n",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,8}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.join(" "))
}

/// JSON-shaped text around `$jsonSchema`.
pub fn json() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"validator\"",
            "\"$jsonSchema\"",
            "\"bsonType\"",
            "\"object\"",
            "\"properties\"",
            "\"required\"",
            "\"items\"",
            "\"$ref\"",
            "\"format\"",
            "\"validationAction\"",
            "\"warn\"",
            "\"indexes\"",
            "1",
            "null",
            "\"a\"",
            "true",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn file_names(name in prop_oneof!["[VU]?[0-9]{0,22}_{0,2}[a-z_]{0,10}(\\.up|\\.down)?\\.(sql|SQL|txt)", any::<String>()]) {
        fuzz_targets::file_name(&name);
    }

    #[test]
    fn checksums(bytes in prop::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(0xEF), Just(0xBB), Just(0xBF), any::<u8>()], 0..200)) {
        fuzz_targets::checksum(&bytes);
    }

    #[test]
    fn statement_splitting(text in sql()) {
        fuzz_targets::split(&text);
    }

    #[test]
    fn linting(up in sql(), down in sql()) {
        fuzz_targets::lint_sql(&up, &down);
    }

    #[test]
    fn connection_secrets(
        password in prop_oneof!["Pw[ -~]{6,24}", "Pw[^\\x00]{6,16}"],
        host in prop_oneof![Just("db.internal".to_string()), Just("127.0.0.1".to_string()), "[a-z]{1,6}"],
    ) {
        fuzz_targets::connection_secret(&password, &host);
    }

    #[test]
    fn validator_specs(text in json()) {
        fuzz_targets::spec_json(&text);
    }

    #[test]
    fn backup_archives(
        // A real header (format 1.14, 4-byte integers, 8-byte offsets,
        // custom, uncompressed) and then anything.
        tail in prop::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(b'\n'), any::<u8>()], 0..300),
        cut in 0usize..24,
    ) {
        let mut bytes = b"PGDMP\x01\x0e\x00\x04\x08\x01".to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&tail);
        bytes.truncate(bytes.len().saturating_sub(cut));
        fuzz_targets::backup_archive(&bytes);
    }
}
