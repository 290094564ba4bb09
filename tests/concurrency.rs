//! The migration lock: concurrent deploys apply each migration once, and a
//! run that cannot get the lock says who holds it.

use crate::support::{cli, schemactl, server, stable, Project};
use schemactl::postgres::HistoryTable;

/// The migration lock key of the default history table.
fn default_lock_key() -> i64 {
    let history = HistoryTable::new(
        schemactl::model::identifier::Identifier::parse("public").unwrap(),
        schemactl::model::identifier::Identifier::parse("schema_versions").unwrap(),
    )
    .unwrap();
    history.lock_key()
}

#[tokio::test]
async fn a_held_lock_times_out_naming_its_holder() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let holder = db.client().await;
    holder
        .batch_execute("SET application_name = 'deploy-42'")
        .await
        .unwrap();
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&default_lock_key()])
        .await
        .unwrap();
    let run = schemactl(&project, &db, &["migrate", "--lock-wait", "1s"]);
    run.expect_code(4);
    insta::assert_snapshot!(stable(&run.stderr));
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        run.stderr.contains(&format!("pg_terminate_backend({pid})")),
        "{}",
        run.stderr
    );
    assert!(!db.exists("customers").await);

    drop(holder);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    schemactl(&project, &db, &["migrate", "--lock-wait", "5s"]).expect_code(0);
}

/// Four migrations that take a while each.
fn four_slow_migrations() -> Project {
    let project = Project::new();
    for version in 1..=4 {
        project.write(
            &format!("000{version}_slow_{version}.up.sql"),
            format!("CREATE TABLE t{version} (id int);\nSELECT pg_sleep(0.2);\n"),
        );
    }
    project
}

/// Four runs of `args` at once; each succeeds and the four migrations are
/// applied once in all.
async fn run_four_at_once(
    db: &crate::support::TestDb,
    project: &Project,
    args: &[&str],
) -> Vec<crate::support::Run> {
    let runs = cli::concurrently(4, || {
        let mut command = cli::command(project);
        command.env("DATABASE_URL", &db.url).args(args);
        command
    });
    for run in &runs {
        run.expect_code(0);
    }
    let applied: usize = runs
        .iter()
        .map(|r| r.stderr.matches("  applied ").count())
        .sum();
    assert_eq!(applied, 4, "{runs:#?}");
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions_events WHERE event = 'applied'")
            .await,
        4
    );
    runs
}

#[tokio::test]
async fn concurrent_runs_apply_each_migration_exactly_once() {
    let (db, project) = (server().database().await, four_slow_migrations());
    let runs = run_four_at_once(&db, &project, &["migrate"]).await;
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        4
    );
    assert!(
        runs.iter()
            .any(|r| r.stderr.contains("waiting for the migration lock")),
        "{runs:#?}"
    );
}

#[tokio::test]
async fn the_lease_lock_serialises_runs_and_an_expired_lease_is_taken_over() {
    let (db, project) = (server().database().await, four_slow_migrations());
    run_four_at_once(&db, &project, &["migrate", "--lock-mode", "table"]).await;
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions_lock")
            .await,
        0,
        "the lease is given up at the end"
    );

    // A live lease of another run: wait, then name it.
    project.write("0005_more.up.sql", "CREATE TABLE t5 (id int);\n");
    let client = db.client().await;
    client
        .batch_execute(
            "INSERT INTO schema_versions_lock VALUES (1, 'deploy-host:4242:0badf00d', now(), now() + interval '1 hour')",
        )
        .await
        .unwrap();
    let blocked = schemactl(
        &project,
        &db,
        &["migrate", "--lock-mode", "table", "--lock-wait", "1s"],
    );
    blocked.expect_code(4);
    assert!(
        blocked
            .stderr
            .contains("schemactl run deploy-host:4242:0badf00d")
            && blocked.stderr.contains("lease until")
            && !blocked.stderr.contains("pg_terminate_backend"),
        "{}",
        blocked.stderr
    );
    assert!(!db.exists("t5").await);
    // The same lease, expired (its run died): taken over.
    client
        .batch_execute("UPDATE schema_versions_lock SET expires_at = now() - interval '1 second'")
        .await
        .unwrap();
    schemactl(&project, &db, &["migrate", "--lock-mode", "table"]).expect_code(0);
    assert!(db.exists("t5").await);
}

#[tokio::test]
async fn a_lease_shorter_than_a_migration_is_kept_while_it_runs() {
    let db = server().database().await;
    db.client()
        .await
        .batch_execute("CREATE TABLE side_effects (id serial PRIMARY KEY)")
        .await
        .unwrap();
    let project = Project::new();
    project.write(
        "0001_slow.up.sql",
        "-- schemactl:no-transaction\nINSERT INTO side_effects DEFAULT VALUES;\nSELECT pg_sleep(3);\n",
    );
    let args = [
        "migrate",
        "--lock-mode",
        "table",
        "--lock-ttl",
        "1s",
        "--lock-wait",
        "20s",
        "--allow-non-empty",
    ];
    let mut first = cli::command(&project);
    first
        .env("DATABASE_URL", &db.url)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut first = first.spawn().unwrap();
    // The first run is inside the body: its side effect is there.
    while db.scalar::<i64>("SELECT count(*) FROM side_effects").await == 0 {
        if first.try_wait().unwrap().is_some() {
            let output = first.wait_with_output().unwrap();
            panic!(
                "the first run ended before its body: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Well past the lease's length, a second run starts.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let second = schemactl(&project, &db, &args);
    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    second.expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM side_effects").await,
        1,
        "the body ran once"
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions WHERE NOT success")
            .await,
        0,
        "no failed row"
    );
    assert!(
        second.stderr.contains("waiting for the migration lock"),
        "{}",
        second.stderr
    );
}

/// Holds the default migration lock on a connection of its own, as a
/// concurrent deploy would.
async fn hold_the_lock(db: &crate::support::TestDb) -> tokio_postgres::Client {
    let holder = db.client().await;
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&default_lock_key()])
        .await
        .unwrap();
    holder
}

#[tokio::test]
async fn an_up_to_date_database_needs_no_lock() {
    // The no-op deploy reads the history in one round trip without the
    // lock: a long deploy elsewhere does not hold it up.
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let _holder = hold_the_lock(&db).await;
    let run = schemactl(&project, &db, &["migrate", "--lock-wait", "1s"]);
    run.expect_code(0);
    assert!(run.stdout.contains("Nothing to migrate"), "{}", run.stdout);
    schemactl(&project, &db, &["status", "--lock-wait", "1s"]).expect_code(0);
    schemactl(&project, &db, &["validate"]).expect_code(0);
}

#[tokio::test]
async fn what_the_one_trip_read_cannot_settle_takes_the_lock() {
    // Each case must wait for the lock another deploy holds (exit 4):
    // deciding it without the lock could skip or misreport work.
    let cases: [(&str, &str); 4] = [
        ("a pending migration", ""),
        (
            "a failed row",
            "UPDATE schema_versions SET success = false, error = 'boom' WHERE version = '3'",
        ),
        (
            "a history of an older format",
            "ALTER TABLE schema_versions DROP COLUMN error",
        ),
        (
            "no history yet",
            "DROP TABLE schema_versions, schema_versions_events",
        ),
    ];
    for (case, change) in cases {
        let db = server().database().await;
        let project = Project::fixture("shop");
        schemactl(&project, &db, &["migrate"]).expect_code(0);
        if change.is_empty() {
            project.write("0004_more.up.sql", "CREATE TABLE more (id int);\n");
        } else {
            db.client().await.batch_execute(change).await.unwrap();
        }
        let _holder = hold_the_lock(&db).await;
        let run = schemactl(&project, &db, &["migrate", "--lock-wait", "500ms"]);
        assert_eq!(run.code, 4, "{case}: {}{}", run.stdout, run.stderr);
    }
}

#[tokio::test]
async fn a_run_in_progress_is_seen_and_waited_for() {
    // A no-transaction migration records its row as in progress before
    // it runs; a second deploy with the same files waits for the lock.
    let db = server().database().await;
    let project = std::sync::Arc::new(Project::new());
    project.write("0001_t.up.sql", "CREATE TABLE t (id int);\n");
    project.write(
        "0002_slow.up.sql",
        "-- schemactl:no-transaction\nSELECT pg_sleep(3);\n",
    );
    schemactl(&project, &db, &["migrate", "--to", "1"]).expect_code(0);
    let first = {
        let (project, db) = (project.clone(), db.clone());
        std::thread::spawn(move || schemactl(&project, &db, &["migrate"]))
    };
    let client = db.client().await;
    for _ in 0..100 {
        let rows = client
            .query(
                "SELECT 1 FROM schema_versions WHERE version = '2' AND NOT success",
                &[],
            )
            .await
            .unwrap();
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let second = schemactl(&project, &db, &["migrate", "--lock-wait", "500ms"]);
    assert_eq!(second.code, 4, "{}{}", second.stdout, second.stderr);
    first.join().unwrap().expect_code(0);
}
