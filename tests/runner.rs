//! `migrate`, `rollback`, `status`, `baseline`, `new` against a real server.

use crate::support::{schemactl, server, stable, Project};
use schemactl::model::Checksum;

#[tokio::test]
async fn migrate_applies_every_migration_once_and_records_it() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("Applied 3 migration(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("applied 0003_index_order_details"),
        "{}",
        run.stderr
    );

    let client = db.client().await;
    let rows = client
        .query(
            "SELECT version::bigint, name, checksum, down_checksum, applied_by, success, schemactl_version, error
             FROM schema_versions ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let up = std::fs::read(project.migrations().join("0002_create_orders.up.sql")).unwrap();
    let down = std::fs::read(project.migrations().join("0002_create_orders.down.sql")).unwrap();
    assert_eq!(rows[1].get::<_, i64>(0), 2);
    assert_eq!(rows[1].get::<_, String>(1), "create_orders");
    assert_eq!(rows[1].get::<_, String>(2), Checksum::of(&up).as_str());
    assert_eq!(
        rows[1].get::<_, Option<String>>(3).as_deref(),
        Some(Checksum::of(&down).as_str())
    );
    assert_eq!(rows[1].get::<_, String>(4), "postgres@127.0.0.1");
    assert!(rows
        .iter()
        .all(|r| r.get::<_, bool>(5) && r.get::<_, Option<String>>(7).is_none()));
    assert_eq!(rows[0].get::<_, String>(6), schemactl::VERSION);
    assert!(db.exists("orders_details").await);
    let events: Vec<String> = client
        .query(
            "SELECT event || ' ' || version FROM schema_versions_events ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(events, ["applied 1", "applied 2", "started 3", "applied 3"]);

    let again = schemactl(&project, &db, &["migrate"]);
    again.expect_code(0);
    assert!(
        again.stdout.starts_with("Nothing to migrate"),
        "{}",
        again.stdout
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions_events")
            .await,
        4
    );
}

#[tokio::test]
async fn status_lists_every_migration_with_its_state() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate", "--to", "2"]).expect_code(0);
    let run = schemactl(&project, &db, &["status"]);
    run.expect_code(0);
    insta::assert_snapshot!(stable(&run.stdout));

    let json = schemactl(&project, &db, &["status", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("status JSON");
    let states: Vec<&str> = value["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["applied", "applied", "pending"]);
    assert!(value["migrations"][0]["applied_at"]
        .as_str()
        .unwrap()
        .contains('T'));
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_changes_nothing() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let run = schemactl(&project, &db, &["migrate", "--dry-run"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("3 script(s) would run; nothing was changed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("CREATE INDEX CONCURRENTLY orders_details"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("0003_index_order_details (migrations/0003_index_order_details.up.sql, WITHOUT a transaction, lock_timeout 10s"), "{}", run.stdout);
    assert!(!db.exists("schema_versions").await);
    assert!(!db.exists("customers").await);

    schemactl(&project, &db, &["migrate", "--to", "1"]).expect_code(0);
    let run = schemactl(&project, &db, &["rollback", "--dry-run"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("DROP TABLE customers"),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        1
    );
}

#[tokio::test]
async fn a_failing_migration_leaves_nothing_behind_and_points_at_its_line() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_ok.up.sql",
        "CREATE TABLE ok (id bigint PRIMARY KEY);\n",
    );
    project.write(
        "0002_broken.up.sql",
        "CREATE TABLE half (id bigint PRIMARY KEY);\n\nCREATE TABLE orders (\n    id bigint PRIMARY KEY,\n    customer_id bignt REFERENCES customers (id) ON DELETE CASCADE\n);\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    insta::assert_snapshot!(stable(&run.stderr));
    assert!(!db.exists("half").await);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        1
    );
    let failed: String = db
        .scalar("SELECT event || ' ' || version || ': ' || detail FROM schema_versions_events WHERE event = 'failed'")
        .await;
    assert_eq!(failed, "failed 2: type \"bignt\" does not exist");
}

#[tokio::test]
async fn an_error_without_a_position_names_the_failing_statement() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_seed.up.sql",
        "CREATE TABLE prices (cents int CHECK (cents >= 0));\nINSERT INTO prices VALUES (1);\n  INSERT INTO prices VALUES (-1);\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("--> migrations/0001_seed.up.sql:3:3"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("statement: INSERT INTO prices VALUES (-1)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("SQLSTATE 23514"), "{}", run.stderr);
    assert!(
        run.stderr.contains("= detail: Failing row contains (-1)."),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn rollback_runs_downs_newest_first_and_logs_them() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let run = schemactl(&project, &db, &["rollback"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("Rolled back 1 migration(s)")
            && run.stdout.contains("now at version 2"),
        "{}",
        run.stdout
    );
    assert!(!db.exists("orders_details").await);
    schemactl(&project, &db, &["rollback", "--to", "0"]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        0
    );
    assert!(!db.exists("customers").await);
    let rolled_back: i64 = db
        .scalar("SELECT count(*) FROM schema_versions_events WHERE event = 'rolled-back'")
        .await;
    assert_eq!(rolled_back, 3);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        3
    );
}

#[tokio::test]
async fn rollback_refuses_up_front_when_a_down_is_missing_or_changed() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.remove("0002_create_orders.down.sql");
    // Applied before down scripts were stored with the history (without
    // that, the stored one would run: `app_rollback` tests it).
    db.client()
        .await
        .batch_execute("UPDATE schema_versions SET down_script = NULL WHERE version = '2'")
        .await
        .unwrap();
    let run = schemactl(&project, &db, &["rollback", "--steps", "2"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("0002_create_orders has no down script"),
        "{}",
        run.stderr
    );
    assert!(db.exists("orders_details").await);

    project.write(
        "0002_create_orders.down.sql",
        "DROP TABLE orders CASCADE;\n",
    );
    let run = schemactl(&project, &db, &["rollback", "--steps", "2"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("0002_create_orders.down.sql changed since the migration was applied"),
        "{}",
        run.stderr
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        3
    );
    schemactl(
        &project,
        &db,
        &["rollback", "--steps", "2", "--accept-changed-down"],
    )
    .expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT max(version::bigint) FROM schema_versions")
            .await,
        1
    );
}

#[tokio::test]
async fn migrate_to_stops_at_the_target_and_refuses_to_go_back() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate", "--to", "2"]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT max(version::bigint) FROM schema_versions")
            .await,
        2
    );
    let run = schemactl(&project, &db, &["migrate", "--to", "1"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("use `schemactl rollback --to 1`"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn baseline_adopts_an_existing_database() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    db.client()
        .await
        .batch_execute("CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())")
        .await
        .unwrap();
    schemactl(&project, &db, &["baseline", "--version", "1"]).expect_code(0);
    let status = schemactl(&project, &db, &["status"]);
    assert!(
        status
            .stdout
            .lines()
            .any(|l| l.starts_with("0001 ") && l.contains("create_customers     baselined")),
        "{}",
        status.stdout
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions WHERE NOT baselined")
            .await,
        2
    );
    let again = schemactl(&project, &db, &["baseline", "--version", "1"]);
    again.expect_code(1);
    assert!(
        again.stderr.contains("already records 3 migration(s)"),
        "{}",
        again.stderr
    );
}

#[tokio::test]
async fn history_can_live_in_another_schema_and_table() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let flags = ["--history-schema", "ops", "--history-table", "deploys"];
    schemactl(&project, &db, &[&["migrate"][..], &flags].concat()).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM ops.deploys").await,
        3
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM ops.deploys_events")
            .await,
        4
    );
    assert!(!db.exists("public.schema_versions").await);
    let bad = schemactl(
        &project,
        &db,
        &[
            "migrate",
            "--history-table",
            "x\"; DROP TABLE customers; --",
        ],
    );
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("not a valid identifier"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn checksums_survive_crlf_and_a_byte_order_mark() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    for entry in std::fs::read_dir(project.migrations()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let windows = format!("\u{feff}{}", text.replace('\n', "\r\n"));
        std::fs::write(&path, windows).unwrap();
    }
    let run = schemactl(&project, &db, &["validate"]);
    run.expect_code(0);
    assert!(
        run.stdout.starts_with("OK: files and history agree"),
        "{}",
        run.stdout
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
}

#[tokio::test]
async fn new_creates_the_next_numbered_pair() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let run = schemactl(&project, &db, &["new", "add invoices"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("migrations/0004_add_invoices.up.sql"),
        "{}",
        run.stdout
    );
    assert!(project
        .migrations()
        .join("0004_add_invoices.down.sql")
        .is_file());
    let status = schemactl(&project, &db, &["status"]);
    assert!(
        status
            .stdout
            .lines()
            .any(|l| l.starts_with("0004 ") && l.contains("pending")),
        "{}",
        status.stdout
    );
    let migrate = schemactl(&project, &db, &["migrate"]);
    migrate.expect_code(2);
    assert!(
        migrate.stderr.contains(
            "0004_add_invoices.up.sql: still holds only the comment `schemactl new` wrote"
        ),
        "{}",
        migrate.stderr
    );
}

#[tokio::test]
async fn refinery_users_keep_their_files_and_import_their_history() {
    let db = server().database().await;
    let project = Project::new();
    let customers = "CREATE TABLE customers (id bigint PRIMARY KEY);\n";
    let orders = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id) ON DELETE CASCADE);\n";
    project
        .write("V1__create_customers.sql", customers)
        .write("V2__create_orders.sql", orders)
        .write(
            "V3__add_notes.sql",
            "ALTER TABLE orders ADD COLUMN notes text;\n",
        )
        .write(
            "U3__add_notes.sql",
            "ALTER TABLE orders DROP COLUMN notes;\n",
        );
    // refinery itself applies the first two (its own table, its checksums).
    let applied_by_refinery = [
        refinery::Migration::unapplied("V1__create_customers", customers).unwrap(),
        refinery::Migration::unapplied("V2__create_orders", orders).unwrap(),
    ];
    let mut client = db.client().await;
    refinery::Runner::new(&applied_by_refinery)
        .run_async(&mut client)
        .await
        .unwrap();
    let orders_checksum: String = db
        .scalar("SELECT checksum FROM refinery_schema_history WHERE version = 2")
        .await;

    // A name that differs from the file's, and a file edited since.
    client
        .batch_execute("UPDATE refinery_schema_history SET name = 'orders' WHERE version = 2")
        .await
        .unwrap();
    let refused = schemactl(&project, &db, &["baseline", "--from-refinery"]);
    refused.expect_code(1);
    assert!(refused.stderr.contains("refinery applied version 2 as `orders`, but migrations/V2__create_orders.sql names it `create_orders`"), "{}", refused.stderr);
    client
        .batch_execute(
            "UPDATE refinery_schema_history SET name = 'create_orders' WHERE version = 2",
        )
        .await
        .unwrap();
    project.write(
        "V2__create_orders.sql",
        orders.replace("bigint PRIMARY", "int PRIMARY"),
    );
    let edited = schemactl(&project, &db, &["baseline", "--from-refinery"]);
    edited.expect_code(1);
    assert!(
        edited.stderr.contains("is no longer that file")
            && edited.stderr.contains("SipHash-1-3")
            && edited.stderr.contains("V2__create_orders.sql"),
        "{}",
        edited.stderr
    );
    assert!(
        !db.exists("schema_versions").await,
        "a refused baseline changed the database"
    );

    project.write("V2__create_orders.sql", orders);
    schemactl(&project, &db, &["baseline", "--from-refinery"]).expect_code(0);
    let detail: String = db
        .scalar("SELECT detail FROM schema_versions_events WHERE version = '2'")
        .await;
    assert!(
        detail.starts_with("imported from refinery_schema_history: applied by refinery on ")
            && detail.ends_with(&format!("refinery checksum {orders_checksum}")),
        "{detail}"
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert_eq!(db.scalar::<Option<String>>("SELECT column_name::text FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'notes'").await.as_deref(), Some("notes"));
    schemactl(&project, &db, &["rollback"]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT max(version::bigint) FROM schema_versions")
            .await,
        2
    );
}

#[tokio::test]
async fn another_tools_history_is_noticed_and_the_adoption_command_named() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text); \
             CREATE TABLE customers (id bigint)",
        )
        .await
        .unwrap();
    let status = schemactl(&project, &db, &["status"]);
    status.expect_code(0);
    assert!(
        status
            .stdout
            .contains("sqlx's history table _sqlx_migrations")
            && status.stdout.contains("schemactl baseline --from auto"),
        "{}",
        status.stdout
    );
    // The first migrate refuses (nothing changed) instead of failing on
    // "already exists" halfway.
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(1);
    assert!(!db.exists("schema_versions").await);
    assert!(
        run.stderr.contains("schemactl baseline --from auto"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn sqlx_no_transaction_header_runs_the_file_outside_a_transaction() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_t.up.sql", "CREATE TABLE t (x int);\n");
    project.write(
        "0002_index.up.sql",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY t_x ON t (x);\n",
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert!(db.exists("t_x").await);
}

#[tokio::test]
async fn a_deploy_reads_the_down_scripts_only_when_something_is_pending() {
    // With nothing pending no down script is needed, and none is read (a
    // broken one is refused by `validate`, `lint` and `rollback`). With
    // something pending, every script is read and checked before
    // anything runs, and each applied migration keeps its down's checksum.
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.write("0003_index_order_details.down.sql", b"DROP INDEX \xff;\n");
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(0);
    assert!(run.stdout.contains("Nothing to migrate"), "{}", run.stdout);
    let validate = schemactl(&project, &db, &["validate"]);
    assert_eq!(validate.code, 2, "{}{}", validate.stdout, validate.stderr);
    assert!(
        validate.stderr.contains("not valid UTF-8"),
        "{}",
        validate.stderr
    );

    project.write("0004_more.up.sql", "CREATE TABLE more (id int);\n");
    let refused = schemactl(&project, &db, &["migrate"]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("0003_index_order_details.down.sql")
            && refused.stderr.contains("not valid UTF-8"),
        "{}",
        refused.stderr
    );
    let client = db.client().await;
    let more = client
        .query_one("SELECT to_regclass('more') IS NULL", &[])
        .await
        .unwrap();
    assert!(
        more.get::<_, bool>(0),
        "0004 ran although a file was broken"
    );

    project.write(
        "0003_index_order_details.down.sql",
        "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY orders_details;\n",
    );
    project.write("0004_more.down.sql", "DROP TABLE more;\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let down = client
        .query_one(
            "SELECT down_checksum FROM schema_versions WHERE version = '4'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        down.get::<_, Option<String>>(0).as_deref(),
        Some(Checksum::of(b"DROP TABLE more;\n").as_str())
    );
}
