//! schemactl through a real transaction-pooling PgBouncer: a session
//! advisory lock cannot hold there, so `--lock-mode advisory` is refused
//! before anything is taken or changed, and `--lock-mode table` (a lease
//! row) migrates and rolls back through it, batched backfills included.

use crate::support::pgbouncer::PgBouncer;
use crate::support::{schemactl, server, Project};

fn project() -> Project {
    let project = Project::new();
    project
        .write(
            "0001_orders.up.sql",
            "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
        )
        .write("0001_orders.down.sql", "DROP TABLE orders;\n");
    project
}

#[tokio::test]
async fn a_session_lock_through_a_transaction_pooler_is_refused_and_nothing_is_left_behind() {
    let db = server().database().await;
    let pooler = PgBouncer::start(&db).await;
    let project = project();
    let refused = schemactl(&project, &pooler.in_front_of(&db), &["migrate"]);
    refused.expect_code(1);
    let said = refused.output();
    assert!(
        said.contains("transaction-pooling proxy") && said.contains("--lock-mode table"),
        "{said}"
    );
    assert!(!said.contains(&db.password), "{said}");
    assert!(!db.exists("orders").await, "a migration ran: {said}");
    assert!(!db.exists("public.schema_versions").await, "{said}");
    let advisory_locks: i64 = db
        .scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .await;
    assert_eq!(
        advisory_locks, 0,
        "a session lock stayed behind in the pooler"
    );
    // Straight to PostgreSQL, the same command is not kept waiting.
    schemactl(&project, &db, &["--lock-wait", "2s", "migrate"]).expect_code(0);
    assert!(db.exists("orders").await);
}

#[tokio::test]
async fn the_table_lock_migrates_and_rolls_back_through_a_transaction_pooler() {
    let db = server().database().await;
    let pooler = PgBouncer::start(&db).await;
    let project = project();
    let through_pooler = pooler.in_front_of(&db);
    let table_lock =
        |verb: &str| schemactl(&project, &through_pooler, &["--lock-mode", "table", verb]);
    let applied = table_lock("migrate");
    applied.expect_code(0);
    assert!(db.exists("orders").await, "{}", applied.output());
    let recorded: Vec<String> = db
        .column("SELECT version::text FROM public.schema_versions WHERE success")
        .await;
    assert_eq!(recorded, ["1"]);
    table_lock("migrate").expect_code(0);
    let rolled_back = table_lock("rollback");
    rolled_back.expect_code(0);
    assert!(!db.exists("orders").await, "{}", rolled_back.output());
    let left: i64 = db
        .scalar("SELECT count(*) FROM public.schema_versions")
        .await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_batched_backfill_runs_and_rolls_back_through_a_transaction_pooler() {
    let db = server().database().await;
    let pooler = PgBouncer::start(&db).await;
    let project = Project::new();
    project
        .write(
            "0001_items.up.sql",
            "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b int);\n\
             INSERT INTO items (id, a) SELECT g, g FROM generate_series(1, 95) g;\n",
        )
        .write("0001_items.down.sql", "DROP TABLE items;\n")
        .write(
            "0002_fill_b.up.sql",
            "-- schemactl:backfill batch-size 10\nUPDATE items SET b = a * 2 WHERE b IS NULL;\n",
        )
        .write(
            "0002_fill_b.down.sql",
            "-- schemactl:backfill batch-size 10\nUPDATE items SET b = NULL;\n",
        );
    let through_pooler = pooler.in_front_of(&db);
    let table_lock = |args: &[&str]| {
        schemactl(
            &project,
            &through_pooler,
            &[&["--lock-mode", "table"], args].concat(),
        )
    };
    let applied = table_lock(&["migrate"]);
    applied.expect_code(0);
    let filled: i64 = db
        .scalar("SELECT count(*) FROM items WHERE b = a * 2")
        .await;
    assert_eq!(filled, 95, "{}", applied.output());
    let batches: i64 = db
        .scalar("SELECT count(*) FROM public.schema_versions_events WHERE event = 'backfill-batch'")
        .await;
    assert_eq!(
        batches, 9,
        "ten batches, the last one recorded with the migration"
    );
    let recorded: Vec<String> = db
        .column("SELECT version::text FROM public.schema_versions WHERE success ORDER BY 1")
        .await;
    assert_eq!(recorded, ["1", "2"]);
    let rolled_back = table_lock(&["rollback"]);
    rolled_back.expect_code(0);
    let emptied: i64 = db
        .scalar("SELECT count(*) FROM items WHERE b IS NULL")
        .await;
    assert_eq!(emptied, 95, "{}", rolled_back.output());
}
