//! Bad directories, files, configuration and connections: a precise message,
//! the documented exit code, no panic, and nothing changed.

use crate::support::{cli, schemactl, server, stable, Project};

#[tokio::test]
async fn unreadable_file_names_are_listed_with_the_expected_form() {
    let db = server().database().await;
    let project = Project::fixture("bad_names");
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(2);
    insta::assert_snapshot!(stable(&run.stderr));
    assert!(!db.exists("ok").await);
}

#[tokio::test]
async fn ambiguous_or_broken_files_are_refused_all_at_once() {
    let db = server().database().await;
    let project = Project::new();
    project
        .write(
            "0001_users.up.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY);\n",
        )
        .write(
            "1_people.up.sql",
            "CREATE TABLE people (id bigint PRIMARY KEY);\n",
        )
        .write("0002_orphan.down.sql", "DROP TABLE orphan;\n")
        .write(
            "0003_latin1.up.sql",
            b"CREATE TABLE caf\xe9 (id int);\n".as_slice(),
        )
        .write("0004_empty.up.sql", "  \n\n")
        .write(
            "0007_typo.up.sql",
            "-- schemactl:no-transation\nSELECT 1;\n",
        )
        .write("0008_a.up.sql", "SELECT 1;\n")
        .write("0008_b.down.sql", "SELECT 1;\n");
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(2);
    insta::assert_snapshot!(stable(&run.stderr));
    assert!(!db.exists("schema_versions").await);
}

#[tokio::test]
async fn a_migrations_directory_that_is_a_file_is_named_as_such() {
    let db = server().database().await;
    let project = Project::new();
    let file = project.path().join("migrations.sql");
    std::fs::write(&file, "SELECT 1;\n").unwrap();
    for verb in ["status", "migrate", "lint"] {
        let run = schemactl(
            &project,
            &db,
            &[verb, "--migrations-dir", file.to_str().unwrap()],
        );
        run.expect_code(2);
        assert!(
            run.stderr
                .contains("migrations.sql is a file, not a directory"),
            "{verb}: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn a_version_argument_that_is_not_a_number_is_a_usage_error() {
    let db = server().database().await;
    let project = Project::new();
    project
        .write("0001_a.up.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
        .write("0001_a.down.sql", "DROP TABLE a;\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    for args in [
        &["rollback", "--to", "abc"][..],
        &["rollback", "--to", "v1"],
        &["migrate", "--to", "latest"],
    ] {
        let run = schemactl(&project, &db, args);
        run.expect_code(2);
        assert!(
            run.stderr
                .contains("is not a version: a version is a number"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(db.exists("a").await, "nothing was rolled back");
    // Numbers in every layout's style are versions.
    schemactl(&project, &db, &["rollback", "--to", "2019-02-26-002946"]).expect_code(0);
    schemactl(&project, &db, &["rollback", "--to", "1.2_3"]).expect_code(0);
    let undone = schemactl(&project, &db, &["rollback", "--to", "0"]);
    undone.expect_code(0);
    let again = schemactl(&project, &db, &["rollback"]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("has no migration applied"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn validate_refuses_a_pending_script_that_migrate_would_refuse() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_fine.up.sql", "CREATE TABLE fine (id int);\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project
        .write("0002_unterminated.up.sql", "SELECT 'oops;\n")
        .write("0003_commits.up.sql", "SELECT 1;\nCOMMIT;\n");
    let validate = schemactl(&project, &db, &["validate"]);
    validate.expect_code(2);
    let dry_run = schemactl(&project, &db, &["migrate", "--dry-run"]);
    dry_run.expect_code(2);
    assert_eq!(
        validate.stderr, dry_run.stderr,
        "the same refusal, in the same words"
    );
    assert!(
        validate.stderr.contains("0002_unterminated.up.sql:1:8")
            && validate
                .stderr
                .contains("0003_commits.up.sql:2:1: `COMMIT` controls the transaction"),
        "{}",
        validate.stderr
    );
    // An applied script is not judged again: its checksum is.
    let fixed = Project::new();
    fixed.write("0001_fine.up.sql", "CREATE TABLE fine (id int);\n");
    schemactl(&fixed, &db, &["validate", "--fail-on-pending"]).expect_code(0);
}

#[tokio::test]
async fn scripts_that_cannot_run_are_refused_before_anything_runs() {
    let db = server().database().await;
    let project = Project::new();
    project
        .write("0001_fine.up.sql", "CREATE TABLE fine (id int);\n")
        .write("0002_comments.up.sql", "-- TODO\n")
        .write("0003_unterminated.up.sql", "SELECT 1;\nSELECT 'oops;\n");
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(2);
    insta::assert_snapshot!(stable(&run.stderr));
    assert!(!db.exists("fine").await);
}

#[tokio::test]
async fn a_missing_migrations_directory_says_how_to_create_one() {
    let db = server().database().await;
    let project = Project::new();
    let run = schemactl(
        &project,
        &db,
        &["status", "--migrations-dir", "db/migrations"],
    );
    run.expect_code(2);
    assert!(run.stderr.contains("the migrations directory db/migrations does not exist; create it with `schemactl new <name>`"), "{}", run.stderr);
}

#[tokio::test]
async fn wrong_credentials_and_unreachable_servers_are_errors_without_secrets() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let wrong = format!(
        "postgres://postgres:{}-wrong@127.0.0.1:{}/{}",
        db.password, db.port, db.name
    );
    let run = schemactl(&project, &db, &["migrate", "--database-url", &wrong]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("password authentication failed for user \"postgres\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("postgres://postgres:***@127.0.0.1"),
        "{}",
        run.stderr
    );

    let unreachable = unreachable_url(&db.password);
    let run = schemactl(&project, &db, &["migrate", "--database-url", &unreachable]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("is the server running"),
        "{}",
        run.stderr
    );

    let bad_host = format!("postgres://postgres:{}@no-such-host.invalid/x", db.password);
    let run = schemactl(&project, &db, &["status", "--database-url", &bad_host]);
    run.expect_code(2);
    assert!(
        run.stderr.starts_with(
            "error: cannot connect to postgres://postgres:***@no-such-host.invalid:5432/x"
        ),
        "{}",
        run.stderr
    );

    // A string mangled so badly that its password is no longer where a
    // password goes must not be echoed either.
    let mangled = format!(
        "postgres:/{}x@127.0.0.1:{}/x?sslmode=disable",
        db.password, db.port
    );
    schemactl(&project, &db, &["status", "--database-url", &mangled]).expect_code(2);

    let bad_port = format!("postgres://postgres:{}@127.0.0.1:notaport/x", db.password);
    let run = schemactl(
        &project,
        &db,
        &["status", "--database-url", &bad_port, "--format", "json"],
    );
    run.expect_code(2);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON error");
    assert_eq!(value["error"]["exit_code"], 2);
}

#[tokio::test]
async fn a_config_file_with_wrong_types_is_reported_with_its_line() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    std::fs::write(
        project.path().join("schemactl.toml"),
        "[postgres]\nhistory_table = \"deploys\"\nlock_wait = 30\nlock_timeout = 5\n",
    )
    .unwrap();
    let run = schemactl(&project, &db, &["status"]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("schemactl.toml:4:16: invalid type: integer `5`, expected a string"),
        "{}",
        run.stderr
    );
    std::fs::write(
        project.path().join("schemactl.toml"),
        "[postgres]\nhistory_table = \"deploys\"\nlock_timeout = \"2s\"\n",
    )
    .unwrap();
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert_eq!(db.scalar::<i64>("SELECT count(*) FROM deploys").await, 3);
}

#[test]
fn usage_errors_exit_2() {
    let project = Project::new();
    let mut command = cli::command(&project);
    command.args(["rollback", "--steps", "1", "--to", "2"]);
    cli::run(command).expect_code(2);
    let mut command = cli::command(&project);
    command.args(["repair"]);
    cli::run(command).expect_code(2);
}

#[test]
fn completions_and_the_man_page_are_generated() {
    let project = Project::new();
    for (shell, marker) in [
        ("bash", "complete -F _schemactl"),
        ("zsh", "#compdef schemactl"),
        ("fish", "complete -c schemactl"),
    ] {
        let mut command = crate::support::cli::command(&project);
        command.args(["completions", shell]);
        let run = crate::support::cli::run(command);
        run.expect_code(0);
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..200.min(run.stdout.len())]
        );
        assert!(run.stdout.contains("rollback"), "{shell}");
    }
    let mut command = crate::support::cli::command(&project);
    command.arg("man");
    let man = crate::support::cli::run(command);
    man.expect_code(0);
    assert!(man.stdout.contains(".TH schemactl 1"), "{}", man.stdout);
    let mut command = crate::support::cli::command(&project);
    command.args(["migrate", "--help"]);
    let help = crate::support::cli::run(command);
    let (own, global) = help
        .stdout
        .split_once("Global options:")
        .expect("a heading");
    assert!(
        own.contains("--dry-run") && !own.contains("--history-table"),
        "{own}"
    );
    assert!(global.contains("--history-table"), "{global}");
}

/// A build without the `mongodb` feature handles PostgreSQL, and a MongoDB
/// URI given to it is an error, not silently ignored.
#[cfg(not(feature = "mongodb"))]
#[tokio::test]
async fn a_build_without_mongodb_migrates_postgres_and_refuses_a_mongodb_uri() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_fine.up.sql", "CREATE TABLE fine (id int);\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert!(db.exists("fine").await);
    let mut command = cli::command(&project);
    command
        .env("DATABASE_URL", &db.url)
        .env("MONGODB_URI", "mongodb://127.0.0.1:9/app")
        .arg("status");
    let refused = cli::run(command);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("built without MongoDB support"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn tables_made_by_hand_with_nulls_are_errors_or_taken_over_never_a_panic() {
    // A lease table pre-created with NULLs: the lease is free, not a panic.
    let db = server().database().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE schema_versions_lock (id integer PRIMARY KEY, owner text, acquired_at timestamptz, expires_at timestamptz);
             INSERT INTO schema_versions_lock VALUES (1, NULL, NULL, NULL);",
        )
        .await
        .unwrap();
    let project = Project::fixture("shop");
    let run = schemactl(
        &project,
        &db,
        &["migrate", "--lock-mode", "table", "--lock-wait", "2s"],
    );
    run.expect_code(0);
    // sqlx's history with NULLs where sqlx writes values.
    let db = server().database().await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text, installed_on timestamptz,
                 success boolean, checksum bytea, execution_time bigint);
             INSERT INTO _sqlx_migrations VALUES (1, NULL, NULL, NULL, NULL, NULL);",
        )
        .await
        .unwrap();
    let sqlx = Project::fixture("layouts/sqlx");
    let run = schemactl(&sqlx, &db, &["baseline", "--from", "sqlx"]);
    assert!(
        run.code == 1 || run.code == 0,
        "a named refusal or an import, not a panic: {}",
        run.output()
    );
}

#[tokio::test]
async fn a_database_error_carries_its_sqlstate_in_json() {
    let db = server().database().await;
    db.client()
        .await
        // The bad-input corpus's shape: the same table, made by hand.
        .batch_execute(include_str!(
            "fixtures/bad/lease_table_wrong_types/setup.sql"
        ))
        .await
        .unwrap();
    let project = Project::fixture("shop");
    let run = schemactl(
        &project,
        &db,
        &["migrate", "--lock-mode", "table", "--format", "json"],
    );
    run.expect_code(2);
    let details = &run.json()["error"]["details"];
    // 42804: datatype_mismatch (the owner, sent as text, into an integer column).
    assert_eq!(details["sqlstate"], "42804", "{}", run.stdout);
    assert!(
        details["context"]
            .as_str()
            .is_some_and(|c| c.contains("is not schemactl's lease table")),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_broken_file_is_told_before_the_history_or_the_connection_decides_anything() {
    // The history is asked for while the files are still being read: a
    // file problem must still win over an up-to-date history and over a
    // server that cannot be reached.
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.write(
        "0002_latin1.up.sql",
        b"CREATE TABLE caf\xe9 (id int);\n".as_slice(),
    );
    let unreachable = unreachable_url(&db.password);
    for args in [
        vec!["migrate"],
        vec!["status"],
        vec!["validate"],
        vec!["migrate", "--database-url", &unreachable],
        vec!["status", "--database-url", &unreachable],
    ] {
        let run = schemactl(&project, &db, &args);
        run.expect_code(2);
        assert!(
            run.stderr.contains("0002_latin1.up.sql") && run.stderr.contains("not valid UTF-8"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("is the server running"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(!db.exists("café").await);
    let applied: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(applied, 1);
}

/// A URL of a port nothing listens on (bound once, then closed).
fn unreachable_url(password: &str) -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("postgres://postgres:{password}@127.0.0.1:{closed}/x")
}
