//! Other tools' migration layouts, read as they are: each fixture under
//! `tests/fixtures/layouts/` is a project in that tool's own layout
//! (including the awkward cases: differently named golang-migrate pairs,
//! `-- noop` and comment-only downs, diesel's dashed and suffixed versions
//! and `metadata.toml`, goose `StatementBegin` blocks with semicolons inside
//! a function, dbmate and goose no-transaction sections, a Flyway
//! repeatable) and must migrate, lint, verify and roll back unchanged.

use crate::support::{schemactl, server, Project};

struct Case {
    layout: &'static str,
    migrations: usize,
    /// How many of the newest can be rolled back (sqlx's simple
    /// migrations have no down).
    reversible: usize,
    /// Tables the reversible up scripts create.
    tables: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        layout: "diesel",
        migrations: 4,
        reversible: 4,
        tables: &["users", "posts"],
    },
    Case {
        layout: "golang-migrate",
        migrations: 3,
        reversible: 3,
        tables: &["users"],
    },
    Case {
        layout: "dbmate",
        migrations: 3,
        reversible: 3,
        tables: &["users"],
    },
    Case {
        layout: "goose",
        migrations: 3,
        reversible: 3,
        tables: &["users"],
    },
    Case {
        layout: "flyway",
        // Four versioned and one repeatable (`R__`), which has no down.
        migrations: 5,
        reversible: 4,
        tables: &["users"],
    },
    Case {
        layout: "sqlx",
        migrations: 2,
        reversible: 1,
        tables: &["users"],
    },
];

#[tokio::test]
async fn every_layout_migrates_lints_verifies_and_rolls_back_as_it_is() {
    for case in CASES {
        let db = server().database().await;
        let project = Project::fixture(&format!("layouts/{}", case.layout));
        let what = case.layout;

        let status = schemactl(&project, &db, &["status", "--format", "json"]);
        status.expect_code(0);
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(json["layout"], what, "{what}: {}", status.stdout);
        assert_eq!(
            json["migrations"].as_array().map(Vec::len),
            Some(case.migrations),
            "{what}: {}",
            status.stdout
        );

        let migrate = schemactl(&project, &db, &["migrate", "--format", "json"]);
        migrate.expect_code(0);
        let applied: serde_json::Value = serde_json::from_str(&migrate.stdout).unwrap();
        let order: Vec<String> = applied["executed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["version"].to_string())
            .collect();
        if what == "flyway" {
            // Flyway's order: 2.10 after 2.9, repeatables last; dotted versions are strings.
            assert_eq!(
                order,
                ["1", "2", "\"2.9\"", "\"2.10\"", "\"R__app_release\""],
                "{}",
                migrate.stdout
            );
        }
        for table in case.tables {
            assert!(db.exists(table).await, "{what}: {table} was not created");
        }
        schemactl(&project, &db, &["validate", "--fail-on-pending"]).expect_code(0);

        let lint = schemactl(&project, &db, &["lint"]);
        assert_eq!(lint.code, 0, "{what}: {}{}", lint.stdout, lint.stderr);

        let admin = server().admin_url();
        let verify = schemactl(&project, &db, &["verify", "--dev-url", &admin]);
        assert_eq!(verify.code, 0, "{what}: {}{}", verify.stdout, verify.stderr);

        let steps = case.reversible.to_string();
        let rollback = schemactl(&project, &db, &["rollback", "--steps", &steps]);
        assert_eq!(
            rollback.code, 0,
            "{what}: {}{}",
            rollback.stdout, rollback.stderr
        );
        for table in case.tables {
            assert!(!db.exists(table).await, "{what}: {table} was not dropped");
        }
        schemactl(&project, &db, &["migrate"]).expect_code(0);
    }
}

#[tokio::test]
async fn what_a_layout_cannot_place_is_named_and_strict_makes_it_an_error() {
    let db = server().database().await;
    let project = Project::fixture("layouts/flyway");
    project.write("notes.sql", "-- scratch queries, not a migration\n");
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("notes.sql") && run.stderr.contains("is not a flyway migration"),
        "{}",
        run.stderr
    );
    let strict = schemactl(&project, &db, &["status", "--strict"]);
    strict.expect_code(2);
    assert!(strict.stderr.contains("notes.sql"), "{}", strict.stderr);

    let golang = Project::fixture("layouts/golang-migrate");
    golang
        .write(
            "000004_add_role.up.sql",
            "ALTER TABLE users ADD COLUMN role text;\n",
        )
        .write(
            "000004_drop_role.down.sql",
            "ALTER TABLE users DROP COLUMN role;\n",
        );
    let warned = schemactl(&golang, &db, &["lint"]);
    // One line for all the renamed pairs, naming the first and the fix.
    assert_eq!(
        warned.stderr.matches("by version alone").count(),
        1,
        "{}",
        warned.stderr
    );
    assert!(
        warned.stderr.contains("000002_remove_email.down.sql")
            && warned.stderr.contains("and 1 other down file")
            && warned.stderr.contains("layout = \"golang-migrate\""),
        "{}",
        warned.stderr
    );
    let said = schemactl(&golang, &db, &["lint", "--layout", "golang-migrate"]);
    assert!(!said.stderr.contains("by version alone"), "{}", said.stderr);
    let named = schemactl(&golang, &db, &["lint", "--layout", "schemactl"]);
    named.expect_code(2);
    assert!(named.stderr.contains("rename one"), "{}", named.stderr);
}

#[tokio::test]
async fn a_directory_of_unrecognised_files_fails_every_command() {
    let db = server().database().await;
    let project = Project::new();
    project
        .write(
            "schema.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY);\n",
        )
        .write("seed.sql", "INSERT INTO users VALUES (1);\n");
    let admin = server().admin_url();
    for args in [
        vec!["migrate"],
        vec!["status"],
        vec!["validate"],
        vec!["lint"],
        vec!["rollback"],
        vec!["verify", "--dev-url", admin.as_str()],
    ] {
        let run = schemactl(&project, &db, &args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("schema.sql") && run.stderr.contains("seed.sql"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let empty = Project::new();
    for args in [vec!["migrate"], vec!["lint"], vec!["validate"]] {
        let run = schemactl(&empty, &db, &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("--allow-empty"),
            "{args:?}: {}",
            run.stderr
        );
    }
    schemactl(&empty, &db, &["migrate", "--allow-empty"]).expect_code(0);
    assert!(!db.exists("users").await);
}

#[tokio::test]
async fn comment_only_scripts_are_recorded_no_ops_and_verify_judges_them_by_the_schema() {
    let db = server().database().await;
    let project = Project::new();
    project
        .write("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n")
        .write("0001_t.down.sql", "DROP TABLE t;\n")
        .write("0002_backfill.up.sql", "INSERT INTO t VALUES (1);\n")
        .write("0002_backfill.down.sql", "-- noop\n")
        .write("0003_empty.up.sql", "")
        .write("0003_empty.down.sql", "");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions WHERE success")
            .await,
        3
    );
    let admin = server().admin_url();
    schemactl(&project, &db, &["verify", "--dev-url", &admin]).expect_code(0);
    let lint = schemactl(&project, &db, &["lint"]);
    assert!(
        lint.stdout.contains("warning[empty-migration]"),
        "{}",
        lint.stdout
    );
    // A no-op down after a schema change is a failure, with the difference.
    project.write("0004_column.up.sql", "ALTER TABLE t ADD COLUMN c int;\n");
    project.write(
        "0004_column.down.sql",
        "-- This file should undo anything in `up.sql`\n",
    );
    let verify = schemactl(&project, &db, &["verify", "--dev-url", &admin]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    assert!(verify.stdout.contains("0004_column"), "{}", verify.stdout);
}

#[tokio::test]
async fn a_changed_flyway_repeatable_is_applied_again_after_the_versioned_ones() {
    let db = server().database().await;
    let project = Project::fixture("layouts/flyway");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let release = || async {
        crate::support::server::connect(&db.url)
            .await
            .query_one("SELECT app_release()", &[])
            .await
            .unwrap()
            .get::<_, String>(0)
    };
    assert_eq!(release().await, "1");
    project.write(
        "R__app_release.sql",
        "CREATE OR REPLACE FUNCTION app_release() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '2' $$;\n",
    );
    project.write(
        "V3__add_city.sql",
        "ALTER TABLE users ADD COLUMN city text;\n",
    );
    project.write("U3__add_city.sql", "ALTER TABLE users DROP COLUMN city;\n");
    let status = schemactl(&project, &db, &["status"]);
    status.expect_code(0);
    assert!(!status.stdout.contains("modified"), "{}", status.stdout);
    schemactl(&project, &db, &["validate"]).expect_code(0);
    let run = schemactl(&project, &db, &["migrate", "--format", "json"]);
    run.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let labels: Vec<&str> = report["executed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["label"].as_str())
        .collect();
    assert_eq!(labels, ["3_add_city", "R__app_release"], "{}", run.stdout);
    assert_eq!(report["current_version"], 3, "{}", run.stdout);
    assert_eq!(release().await, "2");
    let applied: i64 = db
        .scalar("SELECT count(*) FROM schema_versions_events WHERE event = 'applied' AND version = 'R__app_release'")
        .await;
    assert_eq!(applied, 2);
    // Unchanged, it is not applied again; rollback passes it by.
    schemactl(&project, &db, &["validate", "--fail-on-pending"]).expect_code(0);
    let back = schemactl(&project, &db, &["rollback", "--format", "json"]);
    back.expect_code(0);
    assert!(back.stdout.contains("3_add_city"), "{}", back.stdout);
}

#[tokio::test]
async fn a_dbmate_file_saved_with_a_byte_order_mark_keeps_its_sections_and_lines() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "20240101120000_create_users.sql",
        "\u{feff}-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\nSELECT no_such_function();\n",
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert!(db.exists("users").await);
    let failed = schemactl(&project, &db, &["rollback"]);
    assert_eq!(failed.code, 3, "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .contains("20240101120000_create_users.sql:6:8"),
        "the error points at the file's own line: {}",
        failed.stderr
    );
    assert!(db.exists("users").await, "the failed down rolled back");
}

#[tokio::test]
async fn a_projects_own_naming_is_described_by_a_pattern() {
    let db = server().database().await;
    let project = Project::new();
    for n in 1..=3 {
        project
            .write(
                &format!("V000{n}.Table_{n}.up.sql"),
                format!("CREATE TABLE t{n} (id int PRIMARY KEY);\n"),
            )
            .write(
                &format!("V000{n}.Table_{n}.down.sql"),
                format!("DROP TABLE t{n};\n"),
            );
    }
    // Unreadable under every layout: one line for the six files, with the
    // pattern that reads them.
    let refused = schemactl(&project, &db, &["status"]);
    refused.expect_code(2);
    assert_eq!(
        refused.stderr.matches("\n  - ").count(),
        1,
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("6 files (")
            && refused
                .stderr
                .contains("layout = \"V{version}.{name}.{direction}.sql\"")
            && !refused.stderr.contains("two underscores"),
        "{}",
        refused.stderr
    );
    std::fs::write(
        project.path().join("schemactl.toml"),
        "layout = \"V{version}.{name}.{direction}.sql\"\n",
    )
    .unwrap();
    let migrated = schemactl(&project, &db, &["migrate"]);
    migrated.expect_code(0);
    assert!(
        migrated.stdout.contains("now at version 3"),
        "{}",
        migrated.stdout
    );
    let created = schemactl(&project, &db, &["new", "add thing"]);
    created.expect_code(0);
    assert!(
        project.migrations().join("V0004.add_thing.up.sql").exists()
            && project
                .migrations()
                .join("V0004.add_thing.down.sql")
                .exists(),
        "{}",
        created.stdout
    );
    project
        .write("V0004.add_thing.up.sql", "CREATE TABLE t4 (id int);\n")
        .write("V0004.add_thing.down.sql", "DROP TABLE t4;\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    schemactl(&project, &db, &["rollback"]).expect_code(0);
    assert!(!db.exists("t4").await && db.exists("t3").await);
    // A stray file is named as not matching; a bad pattern is a config error.
    project.write("notes.sql", "SELECT 1;\n");
    let stray = schemactl(&project, &db, &["status"]);
    assert!(
        stray.stderr.contains("notes.sql")
            && stray.stderr.contains("does not match the naming pattern"),
        "{}",
        stray.stderr
    );
    let bad = schemactl(&project, &db, &["status", "--layout", "V{version}.sql"]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("{name}"), "{}", bad.stderr);
}
