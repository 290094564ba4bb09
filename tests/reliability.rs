//! Faults and load: concurrent deploys, processes killed mid-migration,
//! lock holders that vanish, and running as a non-superuser role.
//! `SCHEMACTL_CRASH_TRIALS` sets the number of kill trials (default 10;
//! `cargo xtask soak` runs 60).

use crate::support::cli::{command, concurrently, run};
#[cfg(feature = "mongodb")]
use crate::support::mongo;
use crate::support::{schemactl, server, Project, TestDb};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(project: &Project, db: &TestDb, args: &[&str]) -> Child {
    Command::new(crate::support::schemactl_binary())
        .current_dir(project.path())
        .env("DATABASE_URL", &db.url)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn schemactl")
}

fn many_migrations(project: &Project, count: usize, sleep: &str) {
    for version in 1..=count {
        project.write(
            &format!("{version:04}_t{version}.up.sql"),
            format!("CREATE TABLE t{version} (id bigint PRIMARY KEY);\nSELECT pg_sleep({sleep});\nINSERT INTO t{version} VALUES (1);\n"),
        );
    }
}

#[tokio::test]
async fn eight_concurrent_deploys_apply_fifty_migrations_exactly_once() {
    let db = server().database().await;
    let project = Project::new();
    many_migrations(&project, 50, "0.002");
    let runs = concurrently(8, || {
        let mut cmd = command(&project);
        cmd.env("DATABASE_URL", &db.url).arg("migrate");
        cmd
    });
    for r in &runs {
        r.expect_code(0);
    }
    let applied: usize = runs
        .iter()
        .map(|r| r.stderr.matches("  applied ").count())
        .sum();
    assert_eq!(applied, 50);
    assert_eq!(
        runs.iter()
            .filter(|r| r.stdout.starts_with("Nothing to migrate"))
            .count(),
        7,
        "{runs:#?}"
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions WHERE success")
            .await,
        50
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions_events WHERE event = 'applied'")
            .await,
        50
    );
}

#[cfg(feature = "mongodb")]
#[tokio::test]
async fn eight_concurrent_mongodb_deploys_apply_each_change_once() {
    let db = server().database().await;
    let project = Project::new();
    let database = mongo::database();
    let dir = project.path().join("schemas").join(&database);
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..10 {
        std::fs::write(
            dir.join(format!("c{i}.json")),
            format!(r#"{{"indexes": [{{"name": "f_1", "key": {{"f{i}": 1}}}}]}}"#),
        )
        .unwrap();
    }
    let runs = concurrently(8, || {
        let mut cmd = command(&project);
        cmd.env("DATABASE_URL", &db.url)
            .env("MONGODB_URI", mongo::uri())
            .arg("migrate");
        cmd
    });
    for r in &runs {
        r.expect_code(0);
    }
    let client = mongodb::Client::with_uri_str(mongo::uri()).await.unwrap();
    let history = client
        .database(&database)
        .collection::<mongodb::bson::Document>("schema_versions");
    assert_eq!(
        history
            .count_documents(mongodb::bson::doc! {})
            .await
            .unwrap(),
        10
    );
}

/// The versions the history records as applied, and the versions whose
/// table `t<version>` exists; after any crash the two must be equal.
async fn recorded_and_created(client: &tokio_postgres::Client) -> (Vec<i64>, Vec<i64>) {
    let versions = |sql: &'static str| async move {
        match client.query(sql, &[]).await {
            Ok(rows) => rows.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        }
    };
    (
        versions("SELECT version::bigint FROM schema_versions WHERE success ORDER BY version::bigint").await,
        versions("SELECT substr(relname, 2)::bigint FROM pg_class WHERE relkind = 'r' AND relname ~ '^t[0-9]+$' ORDER BY 1").await,
    )
}

/// A small deterministic generator, so that a failing trial can be replayed.
fn delays(trials: usize) -> Vec<u64> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..trials)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            20 + state % 400
        })
        .collect()
}

#[tokio::test]
async fn sigkill_during_transactional_migrations_leaves_each_all_or_nothing() {
    let trials: usize = std::env::var("SCHEMACTL_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let mut interrupted = 0;
    for (trial, delay) in delays(trials).into_iter().enumerate() {
        let db = server().database().await;
        let project = Project::new();
        many_migrations(&project, 20, "0.03");
        let mut child = spawn(&project, &db, &["migrate"]);
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let client = db.client().await;
        let (recorded, tables) = recorded_and_created(&client).await;
        assert_eq!(
            recorded, tables,
            "trial {trial} (killed after {delay} ms): history and schema disagree"
        );
        for version in &tables {
            let rows: i64 = client
                .query_one(&format!("SELECT count(*) FROM t{version}"), &[])
                .await
                .unwrap()
                .get(0);
            assert_eq!(rows, 1, "trial {trial}: t{version} is half applied");
        }
        if recorded.len() < 20 {
            interrupted += 1;
        }
        let finish = schemactl(&project, &db, &["migrate"]);
        finish.expect_code(0);
        assert_eq!(
            db.scalar::<i64>("SELECT count(*) FROM schema_versions WHERE success")
                .await,
            20,
            "trial {trial}"
        );
    }
    eprintln!("crash trials: {trials}, interrupted mid-run: {interrupted}");
    assert!(
        interrupted * 2 >= trials,
        "most trials should kill the run before it finished ({interrupted}/{trials})"
    );
}

/// Waits (up to 20 s) for the running migration to have created table `a`.
async fn until_table_a_exists(db: &TestDb) {
    let started = Instant::now();
    while !db.exists("a").await {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the migration never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigkill_during_a_no_transaction_migration_is_visible_and_recoverable() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_slow.up.sql", "-- schemactl:no-transaction\nCREATE TABLE a (id int);\nSELECT pg_sleep(2);\nCREATE TABLE b (id int);\n");
    let mut child = spawn(&project, &db, &["migrate"]);
    until_table_a_exists(&db).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let (success, error): (bool, String) = {
        let row = db
            .client()
            .await
            .query_one("SELECT success, error FROM schema_versions", &[])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(
        !success && error.starts_with("started and not finished"),
        "{error}"
    );
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("schemactl repair --remove-failed 1"),
        "{}",
        refused.stderr
    );
    // Following the recovery steps: undo the partial work, remove the row, run again.
    db.client()
        .await
        .batch_execute("DROP TABLE a; DROP TABLE IF EXISTS b")
        .await
        .unwrap();
    schemactl(&project, &db, &["repair", "--remove-failed", "1"]).expect_code(0);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert!(db.exists("b").await);
}

/// Starts `schemactl migrate` with `args` on a `no-transaction` migration
/// that runs `before`, creates table `a` and sleeps 60 s; returns the
/// child once `a` exists, and the server session sleeping in the script.
async fn slow_run(project: &Project, db: &TestDb, before: &str, args: &[&str]) -> (Child, i32) {
    project.write(
        "0001_slow.up.sql",
        format!(
            "-- schemactl:no-transaction\n{before}CREATE TABLE a (id int);\nSELECT pg_sleep(60);\n"
        ),
    );
    let child = spawn(project, db, &[&["migrate"], args].concat());
    until_table_a_exists(db).await;
    let running = db
        .scalar("SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND datname = current_database()")
        .await;
    (child, running)
}

/// The unfinished migration's problem in `status --format json` (with `args`).
fn unfinished_of(project: &Project, db: &TestDb, args: &[&str]) -> serde_json::Value {
    let status = schemactl(
        project,
        db,
        &[&["status", "--format", "json"], args].concat(),
    );
    status.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    report["problems"][0]["unfinished"].clone()
}

#[tokio::test]
async fn status_tells_a_run_still_going_from_one_that_ended() {
    let db = server().database().await;
    let project = Project::new();
    // The server says who runs it: the session sleeping in the script.
    let (mut child, running) = slow_run(&project, &db, "", &[]).await;
    let going = unfinished_of(&project, &db, &[]);
    assert_eq!(going["state"], "going", "{going}");
    assert_eq!(going["holders"][0]["pid"], running, "{going}");
    let text = schemactl(&project, &db, &["status"]);
    assert!(text.stdout.contains("1 running."), "{}", text.stdout);
    assert!(
        text.stdout.contains("is being applied right now")
            && text
                .stdout
                .contains(&format!("pg_terminate_backend({running})")),
        "{}",
        text.stdout
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // Its server session notices the dead client within about a second.
    let waited = Instant::now();
    while db
        .scalar::<i64>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        .await
        > 0
    {
        assert!(waited.elapsed() < Duration::from_secs(20), "the killed run's session kept the lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ended = unfinished_of(&project, &db, &[]);
    assert_eq!(ended["state"], "ended", "{ended}");
    let text = schemactl(&project, &db, &["status"]);
    assert!(text.stdout.contains("1 failed."), "{}", text.stdout);
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains(
            "version 1 (slow) was interrupted: the run that started it ended without finishing it"
        ) && refused
            .stderr
            .contains("schemactl repair --remove-failed 1"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn a_run_whose_script_let_go_of_the_lock_is_still_seen_going() {
    let db = server().database().await;
    let project = Project::new();
    // The script releases the session's locks (the migration lock too;
    // out of sight of the file check, which refuses the plain call), then
    // goes on: another run can take the lock meanwhile.
    let unlock = "DO $$ BEGIN EXECUTE 'SELECT pg_advisory_' || 'unlock_all()'; END $$;\n";
    let (mut child, running) = slow_run(&project, &db, unlock, &[]).await;
    let going = unfinished_of(&project, &db, &[]);
    // Under the lock it took, the second run still names the session, and
    // the row cannot be repaired away under the running script.
    let refused = schemactl(&project, &db, &["migrate", "--lock-wait", "5s"]);
    let repair = schemactl(&project, &db, &["repair", "--remove-failed", "1"]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(going["state"], "going", "{going}");
    assert_eq!(going["holders"][0]["pid"], running, "{going}");
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("is being applied right now")
            && refused
                .stderr
                .contains(&format!("pg_terminate_backend({running})")),
        "{}",
        refused.stderr
    );
    assert_ne!(repair.code, 0, "{}", repair.stdout);
    assert!(
        repair.stderr.contains("is being applied right now")
            && repair
                .stderr
                .contains("`repair` changes nothing while it runs")
            && repair
                .stderr
                .contains(&format!("pg_terminate_backend({running})")),
        "{}",
        repair.stderr
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        1
    );
    let detail: String = db
        .scalar("SELECT detail FROM schema_versions_events WHERE event = 'started'")
        .await;
    assert!(
        detail.starts_with(&format!("session {running} since ")),
        "{detail}"
    );
}

#[tokio::test]
async fn a_role_that_cannot_see_the_runs_session_details_still_sees_it_going() {
    let db = server().database().await;
    let project = Project::new();
    let watcher = format!("watcher_{}", db.name);
    let password = format!("{}-watch", crate::support::server::PASSWORD_PREFIX);
    let (mut child, running) = slow_run(&project, &db, "", &[]).await;
    // Without pg_read_all_stats, pg_stat_activity hides another role's
    // session start (and state): only its pid shows.
    db.client()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {watcher} LOGIN PASSWORD '{password}';
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO {watcher};"
        ))
        .await
        .unwrap();
    let url = format!(
        "postgres://{watcher}:{password}@127.0.0.1:{}/{}?sslmode=disable",
        db.port, db.name
    );
    let going = unfinished_of(&project, &db, &["--database-url", &url]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(going["state"], "going", "{going}");
    assert_eq!(going["holders"][0]["pid"], running, "{going}");
}

#[tokio::test]
async fn status_names_the_lease_of_a_run_still_going() {
    let db = server().database().await;
    let project = Project::new();
    let (mut child, _) = slow_run(&project, &db, "", &["--lock-mode", "table"]).await;
    let going = unfinished_of(&project, &db, &["--lock-mode", "table"]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(going["state"], "going", "{going}");
    let application = going["holders"][0]["application"]
        .as_str()
        .unwrap_or_default();
    assert!(application.starts_with("schemactl run "), "{going}");
}

#[tokio::test]
async fn a_killed_run_does_not_keep_the_migration_lock() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_long.up.sql", "SELECT pg_sleep(60);\n");
    let mut child = spawn(&project, &db, &["migrate"]);
    let started = Instant::now();
    while db
        .scalar::<i64>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        .await
        == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the run never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The server notices the dead client within about a second
    // (client_connection_check_interval), ends its statement and frees the lock.
    let status = schemactl(&project, &db, &["status"]);
    status.expect_code(0);
    project.write("0001_long.up.sql", "SELECT 1;\n");
    let waited = Instant::now();
    schemactl(&project, &db, &["migrate", "--lock-wait", "20s"]).expect_code(0);
    assert!(
        waited.elapsed() < Duration::from_secs(15),
        "the lock was held for {:?}",
        waited.elapsed()
    );
}

#[tokio::test]
async fn migrations_run_as_a_non_superuser_owner_role() {
    let db = server().database().await;
    let admin = db.client().await;
    let suffix = db.name.clone();
    let (owner, deployer) = (format!("owner_{suffix}"), format!("deployer_{suffix}"));
    let password = format!("{}-deploy", crate::support::server::PASSWORD_PREFIX);
    admin
        .batch_execute(&format!(
            "CREATE ROLE {owner} NOLOGIN;
             CREATE ROLE {deployer} LOGIN NOINHERIT PASSWORD '{password}';
             GRANT {owner} TO {deployer};
             ALTER SCHEMA public OWNER TO {owner};"
        ))
        .await
        .unwrap();
    let project = Project::fixture("shop");
    let url = format!(
        "postgres://{deployer}:{password}@127.0.0.1:{}/{}?sslmode=disable",
        db.port, db.name
    );
    let denied = schemactl(&project, &db, &["migrate", "--database-url", &url]);
    denied.expect_code(2);
    assert!(
        denied
            .stderr
            .contains("permission denied for schema public"),
        "{}",
        denied.stderr
    );
    schemactl(
        &project,
        &db,
        &["migrate", "--database-url", &url, "--role", &owner],
    )
    .expect_code(0);
    let owners: String = db
        .scalar("SELECT string_agg(DISTINCT pg_get_userbyid(relowner)::text, ',') FROM pg_class WHERE relname IN ('customers', 'orders', 'schema_versions')")
        .await;
    assert_eq!(owners, owner);
    let applied_by: String = db
        .scalar("SELECT min(applied_by) FROM schema_versions")
        .await;
    assert!(applied_by.starts_with(&owner), "{applied_by}");
}

#[tokio::test]
async fn a_server_restart_mid_run_gives_a_clear_error_and_a_consistent_state() {
    // A server of its own: restarting the shared one would disturb other tests.
    let own = crate::support::server::start(false);
    let db = own.database().await;
    let project = Project::new();
    many_migrations(&project, 20, "0.05");
    let mut cmd = command(&project);
    cmd.env("DATABASE_URL", &db.url).arg("migrate");
    let runner = std::thread::spawn(move || run(cmd));
    let started = Instant::now();
    loop {
        let applied = db
            .client()
            .await
            .query_one("SELECT count(*) FROM schema_versions", &[])
            .await
            .map(|r| r.get::<_, i64>(0))
            .unwrap_or(0);
        if applied >= 3 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the run did not get going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    own.restart_immediately();
    let interrupted = runner.join().unwrap();
    assert_ne!(
        interrupted.code, 0,
        "the run cannot have finished: {interrupted:?}"
    );
    assert!(
        interrupted.stderr.contains("terminating connection")
            || interrupted.stderr.contains("connection closed")
            || interrupted.stderr.contains("administrator"),
        "{}",
        interrupted.stderr
    );
    let client = db.client().await;
    let (recorded, tables) = recorded_and_created(&client).await;
    assert_eq!(
        recorded, tables,
        "history and schema disagree after the crash"
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        20
    );
}
