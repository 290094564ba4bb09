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

#[tokio::test]
async fn every_bad_input_gets_a_precise_message_and_changes_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 14, "the corpus shrank");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
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
        match name.as_str() {
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
}
