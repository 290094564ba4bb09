//! Deploys that survive an application rollback: the down scripts stored
//! with their history rows (history format 3) undo migrations whose files
//! an older release of the application no longer ships; a down file that
//! differs from the one applied is refused with the difference unless
//! `--use-file-down`.

use crate::support::{schemactl, server, Project, TestDb};

/// The tables, columns and indexes of `public`, as one comparable text.
async fn schema_of(db: &TestDb) -> String {
    db.scalar(
        "SELECT coalesce(string_agg(c.relname || ':' || c.relkind::text || ':' ||
                    (SELECT coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum), '')
                       FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                  ';' ORDER BY c.relname), '')
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace",
    )
    .await
}

#[tokio::test]
async fn an_older_directory_rolls_back_newer_migrations_with_their_stored_downs() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate", "--to", "1"]).expect_code(0);
    let before = schema_of(&db).await;
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert_ne!(schema_of(&db).await, before);
    let stored: i64 = db
        .scalar("SELECT count(down_script) FROM schema_versions")
        .await;
    assert_eq!(stored, 3, "every applied migration keeps its down script");

    // The application goes back to the release that shipped only 0001.
    for file in [
        "0002_create_orders.up.sql",
        "0002_create_orders.down.sql",
        "0003_index_order_details.up.sql",
        "0003_index_order_details.down.sql",
    ] {
        project.remove(file);
    }
    let dry = schemactl(
        &project,
        &db,
        &["rollback", "--to", "1", "--dry-run", "--format", "json"],
    );
    let planned = dry.expect_code(0).json()["planned"].clone();
    assert_eq!(planned.as_array().map(Vec::len), Some(2), "{planned}");
    let rolled = schemactl(&project, &db, &["rollback", "--to", "1"]);
    rolled.expect_code(0);
    assert!(
        rolled
            .stderr
            .contains("3_index_order_details: its files are not in the migrations directory")
            && rolled.stderr.contains("stored when it was applied"),
        "{}",
        rolled.stderr
    );
    assert_eq!(
        schema_of(&db).await,
        before,
        "the stored downs undo what was applied"
    );
    let left: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(left, 1);
}

#[tokio::test]
async fn without_files_or_a_stored_down_the_rollback_is_refused_and_changes_nothing() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    // As a release that did not store down scripts left them.
    db.client()
        .await
        .batch_execute("UPDATE schema_versions SET down_script = NULL")
        .await
        .unwrap();
    project.remove("0003_index_order_details.up.sql");
    project.remove("0003_index_order_details.down.sql");
    let refused = schemactl(&project, &db, &["rollback", "--steps", "1"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("holds no down script")
            && refused.stderr.contains("restore its files"),
        "{}",
        refused.stderr
    );
    let left: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(left, 3);
}

#[tokio::test]
async fn a_down_file_that_differs_from_the_applied_one_is_refused_with_the_difference() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.write(
        "0003_index_order_details.down.sql",
        "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_details;\n",
    );
    let refused = schemactl(&project, &db, &["rollback", "--steps", "1"]);
    refused.expect_code(1);
    for expected in [
        "-DROP INDEX CONCURRENTLY orders_details;",
        "+DROP INDEX CONCURRENTLY IF EXISTS orders_details;",
        "--use-file-down",
    ] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}: {}",
            refused.stderr
        );
    }
    let left: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(left, 3, "nothing ran");
    schemactl(
        &project,
        &db,
        &["rollback", "--steps", "1", "--use-file-down"],
    )
    .expect_code(0);
    let left: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(left, 2);
}

/// An application rolled back to an older release runs `migrate` (an init
/// container, say) with its older files: told the database is ahead, exit
/// 7, nothing changed; `check` answers the same for a readiness probe, and
/// `current` once the newer migration is rolled back with its stored down.
#[tokio::test]
async fn an_older_directory_is_told_the_database_is_ahead_and_changes_nothing() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let newer = Project::fixture("shop");
    project.remove("0003_index_order_details.up.sql");
    project.remove("0003_index_order_details.down.sql");

    let migrate = schemactl(&project, &db, &["migrate"]);
    migrate.expect_code(7);
    assert!(
        migrate.stderr.contains(
            "the database is ahead of these migration files: 3_index_order_details is applied"
        ) && migrate.stderr.contains("`schemactl rollback --to 2`"),
        "{}",
        migrate.stderr
    );
    let json = schemactl(&project, &db, &["migrate", "--format", "json"]);
    let error = json.expect_code(7).json()["error"].clone();
    assert_eq!(error["exit_code"], 7);
    assert_eq!(
        error["details"]["newer"][0]["name"], "index_order_details",
        "{error}"
    );
    let rows: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(rows, 3, "nothing changed");

    let check = schemactl(&project, &db, &["check", "--format", "json"]);
    let answer = check.expect_code(7).json();
    assert_eq!(answer["standing"], "ahead", "{answer}");
    assert_eq!(answer["compatible"], false);
    assert_eq!(answer["fix"], "schemactl rollback --to 2");
    // The newer release's files, given as the application's: current.
    let newer_dir = newer.migrations();
    let newer_dir = newer_dir.to_str().unwrap();
    let current = schemactl(&project, &db, &["check", "--app-migrations", newer_dir]);
    current.expect_code(0);
    assert!(current.stdout.contains("is current"), "{}", current.stdout);

    schemactl(&project, &db, &["rollback", "--to", "2"]).expect_code(0);
    schemactl(&project, &db, &["check"]).expect_code(0);
    // The newer release again: behind until it migrates.
    let behind = schemactl(
        &project,
        &db,
        &["check", "--app-migrations", newer_dir, "--format", "json"],
    );
    let answer = behind.expect_code(1).json();
    assert_eq!(answer["standing"], "behind", "{answer}");
    assert_eq!(answer["fix"], "schemactl migrate");
}

/// Migrations that declare themselves compatible with the previous release
/// (`phase expand`, `compatible-with-previous`) do not stop it: its
/// `migrate` has nothing to do and `check` says it may run; one unmarked
/// migration beyond it does.
#[tokio::test]
async fn newer_migrations_marked_compatible_let_the_previous_release_run() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let older = Project::fixture("shop");
    project.write(
        "0004_add_note.up.sql",
        "-- schemactl:phase expand\nALTER TABLE orders ADD COLUMN note text;\n",
    );
    project.write(
        "0004_add_note.down.sql",
        "ALTER TABLE orders DROP COLUMN note;\n",
    );
    project.write(
        "0005_add_flag.up.sql",
        "-- schemactl:compatible-with-previous\nALTER TABLE orders ADD COLUMN flag boolean;\n",
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let phases: Vec<Option<String>> = db
        .client()
        .await
        .query("SELECT phase FROM schema_versions ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        phases[3..],
        [Some("expand".to_string()), Some("expand".to_string())]
    );

    let migrate = schemactl(&older, &db, &["migrate"]);
    migrate.expect_code(0);
    assert!(
        migrate
            .stderr
            .contains("marked compatible with the previous release"),
        "{}",
        migrate.stderr
    );
    let check = schemactl(&older, &db, &["check", "--format", "json"]);
    let answer = check.expect_code(0).json();
    assert_eq!(answer["standing"], "ahead-compatible", "{answer}");
    assert_eq!(answer["compatible"], true);

    project.write(
        "0006_drop_note.up.sql",
        "ALTER TABLE orders DROP COLUMN note;\n",
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    schemactl(&older, &db, &["migrate"]).expect_code(7);
    schemactl(&older, &db, &["check"]).expect_code(7);
}

/// Expand and contract: `--phase expand` stops before the first contract
/// migration; contract migrations wait while a release other than the one
/// deploying is declared live, and run once it is retired.
#[tokio::test]
async fn contract_migrations_wait_until_the_previous_release_is_retired() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    project.write(
        "0004_add_amount.up.sql",
        "-- schemactl:phase expand\nALTER TABLE orders ADD COLUMN amount bigint;\n",
    );
    project.write(
        "0005_drop_details.up.sql",
        "-- schemactl:phase contract\nALTER TABLE orders DROP COLUMN details;\n",
    );
    project.write("0006_later.up.sql", "CREATE TABLE later (id int);\n");
    let expand = schemactl(
        &project,
        &db,
        &["migrate", "--phase", "expand", "--format", "json"],
    );
    let executed = expand.expect_code(0).json()["executed"].clone();
    assert_eq!(executed.as_array().map(Vec::len), Some(4), "{executed}");
    assert!(
        db.exists("orders_details").await,
        "the contract migration did not run"
    );

    schemactl(&project, &db, &["release", "mark-live", "v1"]).expect_code(0);
    schemactl(&project, &db, &["release", "mark-live", "v2"]).expect_code(0);
    let refused = schemactl(
        &project,
        &db,
        &["migrate", "--phase", "contract", "--release", "v2"],
    );
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("5_drop_details") || refused.stderr.contains("0005_drop_details"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("release(s) v1 are still marked live"),
        "{}",
        refused.stderr
    );
    let rows: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(rows, 4, "nothing changed");

    schemactl(&project, &db, &["release", "mark-retired", "v1"]).expect_code(0);
    let listed = schemactl(&project, &db, &["release", "list", "--format", "json"]);
    let releases = listed.expect_code(0).json()["releases"].clone();
    assert_eq!(releases[0]["label"], "v1");
    assert_eq!(releases[0]["live"], false);
    assert_eq!(releases[1]["live"], true);
    schemactl(
        &project,
        &db,
        &["migrate", "--phase", "contract", "--release", "v2"],
    )
    .expect_code(0);
    let rows: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(rows, 6);
}
