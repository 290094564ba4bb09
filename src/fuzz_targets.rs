//! Entry points for fuzzing the parsers that read untrusted input: migration
//! file names, file contents (checksums, directives, statement splitting),
//! the linter on arbitrary SQL, validator specs on arbitrary JSON, and
//! `pg_dump` archives read back from a backup store. Each
//! must return without panicking on any input; the assertions check the
//! invariants that must hold for every input. Driven by property tests in
//! `tests/fuzz.rs` (a short pass in CI) and `cargo xtask fuzz` (long runs).

use crate::lint::{self, LintOptions};
use crate::model::file_name::{classify, Classified};
use crate::model::{directives, statements, Checksum, Migration, Script};
use std::path::PathBuf;

/// A file name: classified without panicking; a migration has a positive
/// version and a non-empty name.
pub fn file_name(name: &str) {
    if let Classified::Migration(parsed) = classify(name) {
        assert!(
            parsed.version > crate::model::Version::integer(0) && !parsed.name.is_empty(),
            "{name:?} -> {parsed:?}"
        );
    }
}

/// File bytes: the checksum is the SHA-256 of the bytes with one leading BOM
/// removed and each CR LF replaced by LF (nothing else).
pub fn checksum(bytes: &[u8]) {
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut normalised = Vec::with_capacity(without_bom.len());
    let mut i = 0;
    while i < without_bom.len() {
        if without_bom[i] == b'\r' && without_bom.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        normalised.push(without_bom[i]);
        i += 1;
    }
    use sha2::Digest;
    let expected: String = sha2::Sha256::digest(&normalised)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(Checksum::of(bytes).as_str(), expected);
}

/// SQL text: directives and statement splitting never panic, and statements
/// are in order, inside the text, on character boundaries.
pub fn split(sql: &str) {
    let _ = directives::parse(sql);
    if let Ok(found) = statements::split(sql) {
        let mut last = 0;
        for statement in &found {
            assert!(
                statement.start >= last
                    && statement.start <= statement.end
                    && statement.end <= sql.len()
            );
            assert!(sql.is_char_boundary(statement.start) && sql.is_char_boundary(statement.end));
            last = statement.end;
        }
    }
}

/// SQL text linted as the up script (and, reversed, the down script) of a
/// migration: the linter never panics, and every finding points inside the file.
pub fn lint_sql(up: &str, down: &str) {
    let script = |path: &str, sql: &str| {
        Script::new(
            PathBuf::from(path),
            sql.to_string(),
            Checksum::of(sql.as_bytes()),
            directives::parse(sql).unwrap_or_default(),
        )
    };
    let migration = Migration {
        version: crate::model::Version::integer(1),
        version_text: "0001".into(),
        name: "fuzz".into(),
        up: script("0001_fuzz.up.sql", up),
        down: Some(script("0001_fuzz.down.sql", down)),
    };
    for finding in lint::lint(std::slice::from_ref(&migration), &LintOptions::default())
        .expect("the linter does not fail on one migration")
    {
        let text = if finding.path.ends_with("0001_fuzz.up.sql") {
            up
        } else {
            down
        };
        assert!(
            finding.position.line >= 1 && finding.position.line <= text.lines().count().max(1) + 1,
            "{finding:?}"
        );
    }
}

/// JSON text as a MongoDB validator spec: never panics.
pub fn spec_json(text: &str) {
    let mut out = Vec::new();
    crate::mongo::validator_checks::check_file(text, &mut out);
    for (_, offset, _, _) in out {
        assert!(offset.is_none_or(|o| o <= text.len()));
    }
}

/// A password written into a connection string in every syntax schemactl
/// accepts (URL userinfo, URL `password=` parameter, libpq `key=value` with
/// and without blanks and quotes, MongoDB URI): it appears neither in the
/// target that is shown nor in the error for a string that cannot be used.
/// `password` is at least 8 characters of no other use in the string.
pub fn connection_secret(password: &str, host: &str) {
    use crate::postgres::DatabaseTarget;
    let url_encoded: String = url::form_urlencoded::byte_serialize(password.as_bytes()).collect();
    let kv_quoted = password.replace('\\', "\\\\").replace('\'', "\\'");
    let forms = [
        format!("postgres://app:{url_encoded}@{host}:5432/app"),
        format!("postgres://app:{password}@{host}:5432/app"),
        format!("postgresql://app@{host}/app?password={url_encoded}&sslmode=disable"),
        format!("host={host} user=app password='{kv_quoted}' dbname=app"),
        format!("host={host} user=app password = '{kv_quoted}' dbname=app"),
        format!("host = {host} password ='{kv_quoted}' user=app"),
        format!("host={host} password={kv_quoted} user=app"),
    ];
    let leaks = |shown: &str| {
        shown.contains(password) || (url_encoded.len() >= 8 && shown.contains(&url_encoded))
    };
    for form in &forms {
        match DatabaseTarget::parse(form) {
            Ok(target) => {
                assert!(
                    !leaks(target.display()),
                    "{form:?} shown as {}",
                    target.display()
                );
                let other = target.with_database("other");
                assert!(
                    !leaks(other.display()),
                    "{form:?} shown as {}",
                    other.display()
                );
            }
            Err(error) => assert!(!leaks(&error.to_string()), "{form:?}: {error}"),
        }
    }
    #[cfg(feature = "mongodb")]
    for form in [
        format!("mongodb://app:{url_encoded}@{host}:27017/app"),
        format!("mongodb://app:{password}@{host}:27017/app?tls=true"),
    ] {
        match crate::mongo::connection::MongoTarget::parse(&form) {
            Ok(target) => assert!(
                !leaks(target.display()),
                "{form:?} shown as {}",
                target.display()
            ),
            Err(error) => assert!(!leaks(&error.to_string()), "{form:?}: {error}"),
        }
    }
}

/// Bytes read as a `pg_dump` custom-format archive (what `backup restore`
/// reads back from a store): an error or rows, never a panic; rows are
/// never negative.
pub fn backup_archive(bytes: &[u8]) {
    if let Ok(tables) = crate::backup::archive_rows::read_archive(bytes) {
        assert!(tables.iter().all(|t| t.rows >= 0), "{tables:?}");
    }
}
