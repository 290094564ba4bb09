//! The bad-input corpus: every directory under `tests/fixtures/bad/` is a
//! project (migrations, maybe schemas and a schemactl.toml) and a `command`
//! file (one argument per line), and maybe a `setup.sql` that puts the
//! database in the shape the case is about first (a table another tool, or
//! a hand, made). Each case must end with a precise message
//! and its documented exit code (snapshot-tested), never a panic, and must
//! change nothing in the database.

use crate::support::{schemactl, server, stable, Project};
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// One test per case, so that a bad input fails alone; the list must
/// name every directory of the corpus (checked below).
macro_rules! bad_cases {
    ($($case:ident),* $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($case)),*];
        $(
            #[tokio::test]
            async fn $case() {
                check(stringify!($case)).await;
            }
        )*
    };
}

bad_cases!(
    bad_host,
    bad_identifier,
    bad_sslmode,
    config_wrong_types,
    down_without_up,
    duplicate_versions,
    empty_directory,
    gaps_are_allowed,
    golang_migrate_dirty_null,
    golang_migrate_history_two_rows,
    invalid_json_spec,
    invalid_jsonschema,
    lease_table_wrong_types,
    malformed_names,
    mixed_layouts,
    non_utf8,
    sqlx_history_nulls,
    unparseable_sql,
    unreachable_port,
    unrecognised_sql,
    untouched_template,
);

fn corpus() -> std::path::PathBuf {
    crate::support::repository().join("tests/fixtures/bad")
}

#[test]
fn every_case_of_the_corpus_has_its_test() {
    let mut found: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<&str> = CASES.to_vec();
    listed.sort();
    assert_eq!(found, listed, "add the new case to bad_cases!");
}

/// Runs the case in `tests/fixtures/bad/<name>`: a precise message and its
/// exit code (snapshot), and the database unchanged.
async fn check(name: &str) {
    let case = corpus().join(name);
    let db = server().database().await;
    let project = Project::new();
    std::fs::remove_dir_all(project.migrations()).unwrap();
    copy_dir(&case, project.path());
    if let Ok(setup) = std::fs::read_to_string(case.join("setup.sql")) {
        db.client()
            .await
            .batch_execute(&setup)
            .await
            .unwrap_or_else(|e| panic!("{name}/setup.sql: {e}"));
    }
    let command = std::fs::read_to_string(case.join("command")).unwrap();
    let args: Vec<&str> = command.lines().filter(|l| !l.is_empty()).collect();
    let run = schemactl(&project, &db, &args);
    let report = format!(
        "$ schemactl {}\nexit: {}\n{}{}",
        args.join(" "),
        run.code,
        stable(&run.stdout),
        stable(&run.stderr)
    );
    insta::assert_snapshot!(format!("bad_{name}"), report);
    match name {
        "gaps_are_allowed" => {
            run.expect_code(0);
        }
        // The migration ran and failed: its transaction left nothing, and
        // only the history's `failed` event records the attempt.
        "unparseable_sql" => {
            assert_eq!(run.code, 3, "{report}");
            assert_eq!(
                db.scalar::<i64>("SELECT count(*) FROM schema_versions")
                    .await,
                0
            );
            assert!(!db.exists("users").await);
        }
        _ => {
            assert_ne!(run.code, 0, "{name}: {report}");
            assert!(
                !db.exists("schema_versions").await,
                "{name} changed the database"
            );
        }
    }
}
