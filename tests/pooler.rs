//! schemactl through a real transaction-pooling PgBouncer: a session
//! advisory lock cannot hold there, so `--lock-mode advisory` is refused
//! before anything is taken or changed, and `--lock-mode table` (a lease
//! row) migrates and rolls back through it.

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
        .scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
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
