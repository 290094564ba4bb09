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
        .column("SELECT phase FROM schema_versions ORDER BY version")
        .await;
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

/// The previous release's queries, in a loop on their own connection until
/// told to stop: `(queries run, errors seen)`.
fn old_release_workload(
    url: String,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    tokio::task::JoinHandle<(u64, Vec<String>)>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let task = tokio::spawn(async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("the workload connects");
        tokio::spawn(connection);
        let (mut queries, mut errors) = (0u64, Vec::new());
        while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
            for sql in [
                "SELECT email FROM customers WHERE id = 1",
                "INSERT INTO customers (email) VALUES ('old@example.org')",
                "UPDATE customers SET email = email WHERE id = 2",
            ] {
                queries += 1;
                if let Err(e) = client.batch_execute(sql).await {
                    errors.push(
                        e.as_db_error()
                            .map_or_else(|| e.to_string(), |d| d.message().to_string()),
                    );
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        (queries, errors)
    });
    (stop, task)
}

#[tokio::test]
async fn contract_migrations_wait_until_the_previous_release_ships_them() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    project.write(
        "0004_drop_details.up.sql",
        "-- schemactl:phase contract\nALTER TABLE orders DROP COLUMN details;\n",
    );
    // The previous release ships 0001–0003 only.
    let previous = Project::fixture("shop");
    let previous_dir = previous.path().join("migrations");
    let previous_dir = previous_dir.to_str().unwrap();
    let refused = schemactl(
        &project,
        &db,
        &["migrate", "--previous-app-migrations", previous_dir],
    );
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("0004_drop_details is marked `phase contract`")
            && refused.stderr.contains("does not ship it"),
        "{}",
        refused.stderr
    );
    assert!(!db.exists("orders").await, "nothing changed");
    // Once the oldest release still running ships it, it runs.
    previous.write(
        "0004_drop_details.up.sql",
        "-- schemactl:phase contract\nALTER TABLE orders DROP COLUMN details;\n",
    );
    schemactl(
        &project,
        &db,
        &["migrate", "--previous-app-migrations", previous_dir],
    )
    .expect_code(0);
    let rows: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(rows, 4);
}

const CUSTOMERS: &str = "CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text);\n\
     INSERT INTO customers (email) SELECT 'c' || g || '@example.org' FROM generate_series(1, 100) g;\n";

/// Renaming a column as expand (a new column kept in step by a trigger) →
/// backfill → contract: the previous release's queries, running
/// throughout expand and backfill, never fail; the contract runs once it
/// is retired. The same rename done plainly breaks that workload (so the
/// workload can fail).
#[tokio::test]
async fn a_rename_done_as_expand_backfill_contract_never_breaks_the_previous_release() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_customers.up.sql", CUSTOMERS);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let (stop, workload) = old_release_workload(db.url.clone());
    project.write(
        "0002_email_address.up.sql",
        "-- schemactl:phase expand\n\
         ALTER TABLE customers ADD COLUMN email_address text;\n\
         CREATE FUNCTION customers_email_sync() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN\n  NEW.email_address := coalesce(NEW.email_address, NEW.email);\n  NEW.email := coalesce(NEW.email, NEW.email_address);\n  RETURN NEW;\nEND $$;\n\
         CREATE TRIGGER customers_email_sync BEFORE INSERT OR UPDATE ON customers\n  FOR EACH ROW EXECUTE FUNCTION customers_email_sync();\n",
    );
    project.write(
        "0003_backfill_email_address.up.sql",
        "-- schemactl:phase expand\n-- schemactl:backfill batch-size 2\nUPDATE customers SET email_address = email WHERE email_address IS NULL;\n",
    );
    project.write(
        "0004_drop_email.up.sql",
        "-- schemactl:phase contract\n\
         DROP TRIGGER customers_email_sync ON customers;\nDROP FUNCTION customers_email_sync();\n\
         ALTER TABLE customers DROP COLUMN email;\n",
    );
    schemactl(&project, &db, &["release", "mark-live", "v1"]).expect_code(0);
    schemactl(&project, &db, &["release", "mark-live", "v2"]).expect_code(0);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let expand = schemactl(
        &project,
        &db,
        &["migrate", "--phase", "expand", "--release", "v2"],
    );
    expand.expect_code(0);
    // The contract waits for v1, whose queries are still running.
    schemactl(&project, &db, &["migrate", "--release", "v2"]).expect_code(1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (queries, errors) = workload.await.unwrap();
    assert!(queries > 30, "the workload ran ({queries} queries)");
    assert!(errors.is_empty(), "the previous release failed: {errors:?}");
    let missing: i64 = db
        .scalar("SELECT count(*) FROM customers WHERE email_address IS NULL")
        .await;
    assert_eq!(
        missing, 0,
        "every row, old and written meanwhile, has the new column"
    );

    schemactl(&project, &db, &["release", "mark-retired", "v1"]).expect_code(0);
    schemactl(&project, &db, &["migrate", "--release", "v2"]).expect_code(0);
    let old_column: i64 = db
        .scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'email'")
        .await;
    assert_eq!(old_column, 0, "the contract dropped the old column");

    // The same change as one plain rename: the previous release breaks.
    let plain_db = server().database().await;
    let plain = Project::new();
    plain.write("0001_customers.up.sql", CUSTOMERS);
    schemactl(&plain, &plain_db, &["migrate"]).expect_code(0);
    let (stop, workload) = old_release_workload(plain_db.url.clone());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    plain.write(
        "0002_rename.up.sql",
        "ALTER TABLE customers RENAME COLUMN email TO email_address;\n",
    );
    schemactl(&plain, &plain_db, &["migrate"]).expect_code(0);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (_, errors) = workload.await.unwrap();
    assert!(
        errors.iter().any(|e| e.contains("email")),
        "a plain rename breaks the previous release: {errors:?}"
    );
}
