//! Resumable batched backfills (`-- schemactl:backfill`): one UPDATE run
//! in key ranges, each batch its own transaction with its progress event;
//! a run that stops (an error, a kill) resumes after the last committed
//! batch, and the migration is recorded only with the last one.

use crate::support::{schemactl, server, Project, TestDb};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The JSON progress lines a `--format json` run wrote to stderr.
fn progress_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|value| value.get("backfill").cloned())
        .collect()
}

async fn events(db: &TestDb, kind: &str) -> i64 {
    db.scalar(&format!(
        "SELECT count(*) FROM schema_versions_events WHERE event = '{kind}'"
    ))
    .await
}

#[tokio::test]
async fn a_backfill_runs_in_batches_is_recorded_with_its_last_and_rolls_back_in_batches() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_items.up.sql",
        "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b int);\n\
         INSERT INTO items SELECT g * 3, g, NULL FROM generate_series(1, 25) g;\n",
    );
    project.write("0001_items.down.sql", "DROP TABLE items;\n");
    project.write(
        "0002_fill_b.up.sql",
        "-- schemactl:backfill batch-size 10\nUPDATE items SET b = a * 2 WHERE b IS NULL;\n",
    );
    project.write(
        "0002_fill_b.down.sql",
        "-- schemactl:backfill batch-size 10\nUPDATE items SET b = NULL;\n",
    );
    let dry = schemactl(&project, &db, &["migrate", "--dry-run", "--format", "json"]);
    let planned = dry.expect_code(0).json()["planned"][1]["execution"].clone();
    assert_eq!(planned, "backfill");

    let run = schemactl(&project, &db, &["migrate", "--format", "json"]);
    run.expect_code(0);
    let lines = progress_lines(&run.stderr);
    assert_eq!(lines.len(), 3, "one line per batch:\n{}", run.stderr);
    let last = &lines[2];
    assert_eq!(last["done"], true);
    assert_eq!(last["rows"], 25);
    assert_eq!(last["batch"], 3);
    let filled: i64 = db
        .scalar("SELECT count(*) FROM items WHERE b = a * 2")
        .await;
    assert_eq!(filled, 25);
    // Two batches recorded their progress; the third recorded the migration.
    assert_eq!(events(&db, "backfill-batch").await, 2);
    let detail: String = db
        .scalar(
            "SELECT detail FROM schema_versions_events WHERE event = 'applied' AND version = '2'",
        )
        .await;
    assert!(
        detail.starts_with("backfill: 25 rows in 3 batches"),
        "{detail}"
    );

    schemactl(&project, &db, &["rollback"]).expect_code(0);
    let cleared: i64 = db
        .scalar("SELECT count(*) FROM items WHERE b IS NULL")
        .await;
    assert_eq!(cleared, 25);
    let applied: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(applied, 1, "the rollback removed the backfill's row");
    // Applied again from the start: the earlier progress belongs to the
    // earlier application.
    let again = schemactl(&project, &db, &["migrate", "--format", "json"]);
    again.expect_code(0);
    assert_eq!(
        progress_lines(&again.stderr)[0]["resumed_after_batch"],
        serde_json::Value::Null
    );
    let filled: i64 = db
        .scalar("SELECT count(*) FROM items WHERE b = a * 2")
        .await;
    assert_eq!(filled, 25);
}

#[tokio::test]
async fn a_failed_batch_keeps_the_committed_ones_and_the_next_run_resumes_after_them() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_items.up.sql",
        "CREATE TABLE items (id int PRIMARY KEY, a int NOT NULL, n int NOT NULL DEFAULT 0, q int);\n\
         INSERT INTO items (id, a) SELECT g, CASE WHEN g = 25 THEN 0 ELSE g END FROM generate_series(1, 30) g;\n",
    );
    project.write(
        "0002_fill_q.up.sql",
        "-- schemactl:backfill batch-size 10 key id\nUPDATE items SET n = n + 1, q = 100 / a;\n",
    );
    let failed = schemactl(&project, &db, &["migrate"]);
    failed.expect_code(3);
    assert!(
        failed.stderr.contains("batch 3 failed")
            && failed
                .stderr
                .contains("resumes after the last committed batch"),
        "{}",
        failed.stderr
    );
    let done: i64 = db.scalar("SELECT count(*) FROM items WHERE n = 1").await;
    assert_eq!(done, 20, "the two committed batches stay");
    let recorded: i64 = db
        .scalar("SELECT count(*) FROM schema_versions WHERE version = '2'")
        .await;
    assert_eq!(recorded, 0, "not recorded before its last batch");
    let status = schemactl(&project, &db, &["status"]);
    assert!(
        status
            .stdout
            .contains("0002_fill_q  2 batches committed, 20 rows changed; resumes after key 20"),
        "{}",
        status.stdout
    );
    let standing = schemactl(&project, &db, &["status", "--format", "json"]).json();
    assert_eq!(
        standing["migrations"][1]["backfill_progress"]["batch"], 2,
        "{standing}"
    );

    db.client()
        .await
        .batch_execute("UPDATE items SET a = 5 WHERE id = 25")
        .await
        .unwrap();
    let resumed = schemactl(&project, &db, &["migrate", "--format", "json"]);
    resumed.expect_code(0);
    let lines = progress_lines(&resumed.stderr);
    assert_eq!(lines[0]["resumed_after_batch"], 2, "{}", resumed.stderr);
    assert_eq!(lines.last().unwrap()["rows"], 30);
    let once: i64 = db.scalar("SELECT count(*) FROM items WHERE n = 1").await;
    assert_eq!(once, 30, "every row changed exactly once");
}

#[tokio::test]
async fn backfills_that_cannot_run_in_batches_are_refused_before_anything_runs() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_tables.up.sql",
        "CREATE TABLE keyless (a int, b int);\nCREATE TABLE unindexed (id int PRIMARY KEY, code int NOT NULL, b int);\n",
    );
    project.write(
        "0002_two.up.sql",
        "-- schemactl:backfill\nUPDATE keyless SET b = 1;\nUPDATE keyless SET b = 2;\n",
    );
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("0002_two.up.sql:3")
            && refused.stderr.contains("one UPDATE or DELETE statement"),
        "{}",
        refused.stderr
    );
    assert!(!db.exists("keyless").await, "nothing ran");

    project.write(
        "0002_two.up.sql",
        "-- schemactl:backfill\nUPDATE keyless SET b = 1;\n",
    );
    let keyless = schemactl(&project, &db, &["migrate"]);
    keyless.expect_code(3);
    assert!(
        keyless.stderr.contains("no one-column primary key")
            && keyless
                .stderr
                .contains("-- schemactl:backfill key <column>"),
        "{}",
        keyless.stderr
    );
    project.write(
        "0002_two.up.sql",
        "-- schemactl:backfill key code\nUPDATE unindexed SET b = 1;\n",
    );
    project.write(
        "0002_two.up.sql",
        "-- schemactl:backfill key b\nUPDATE unindexed SET code = 1;\n",
    );
    let nullable = schemactl(&project, &db, &["migrate"]);
    nullable.expect_code(3);
    assert!(
        nullable.stderr.contains("unindexed.b may be NULL"),
        "{}",
        nullable.stderr
    );
    project.write(
        "0002_two.up.sql",
        "-- schemactl:backfill key code\nUPDATE unindexed SET b = 1;\n",
    );
    let unindexed = schemactl(&project, &db, &["migrate"]);
    unindexed.expect_code(3);
    assert!(
        unindexed.stderr.contains("unindexed.code has no index"),
        "{}",
        unindexed.stderr
    );
    project.write(
        "0002_two.up.sql",
        "-- schemactl:backfill batch-size ten\nUPDATE unindexed SET b = 1;\n",
    );
    let malformed = schemactl(&project, &db, &["migrate"]);
    malformed.expect_code(2);
    assert!(
        malformed.stderr.contains("0002_two.up.sql:1"),
        "{}",
        malformed.stderr
    );
}

#[tokio::test]
async fn verify_runs_backfills_and_catches_a_down_backfill_that_does_not_undo_its_up() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_items.up.sql",
        "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b int);\n\
         INSERT INTO items SELECT g, g, NULL FROM generate_series(1, 50) g;\n",
    );
    project.write("0001_items.down.sql", "DROP TABLE items;\n");
    project.write(
        "0002_fill_b.up.sql",
        "-- schemactl:backfill batch-size 7\nUPDATE items SET b = a WHERE b IS NULL;\n",
    );
    project.write(
        "0002_fill_b.down.sql",
        "-- schemactl:backfill batch-size 7\nUPDATE items SET b = NULL;\n",
    );
    let admin = server().admin_url();
    let verify = |project: &Project| {
        schemactl(
            project,
            &db,
            &["verify", "--dev-url", &admin, "--data", "--format", "json"],
        )
    };
    let good = verify(&project);
    good.expect_code(0);
    assert_eq!(
        good.json()["results"][1]["data"]["class"],
        "reversible",
        "{}",
        good.stdout
    );
    // The locks of a batch, traced inside it: its range query's and its
    // rows', nothing that blocks the application's reads or writes.
    let locks = good.json()["results"][1]["locks"]["up"].clone();
    let modes: Vec<String> = locks[0]["locks"]
        .as_array()
        .unwrap_or_else(|| panic!("{locks}"))
        .iter()
        .filter(|l| l["table"] == "public.items")
        .map(|l| l["mode"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(modes, ["AccessShareLock", "RowExclusiveLock"], "{locks}");
    // A down that leaves the column filled: only running the batches shows it.
    project.write(
        "0002_fill_b.down.sql",
        "-- schemactl:backfill batch-size 7\nUPDATE items SET b = 0;\n",
    );
    let bad = verify(&project);
    bad.expect_code(0);
    let data = bad.json()["results"][1]["data"].clone();
    assert_eq!(data["class"], "lossy", "{data}");
    assert_eq!(
        data["tables"][0]["columns"],
        serde_json::json!(["b"]),
        "{data}"
    );
}

/// The longest time the sessions other than this one held a granted lock
/// on `table` inside one transaction, polled until `until` is set.
async fn longest_lock_hold(
    url: String,
    table: &str,
    until: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> f64 {
    let client = crate::support::server::connect(&url).await;
    let sql = format!(
        "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - a.xact_start)), 0)::float8
         FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
         WHERE l.relation = to_regclass('{table}') AND l.granted AND a.pid <> pg_backend_pid()"
    );
    let mut longest: f64 = 0.0;
    while !until.load(std::sync::atomic::Ordering::SeqCst) {
        if let Ok(row) = client.query_one(&sql, &[]).await {
            longest = longest.max(row.get::<_, f64>(0));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    longest
}

#[tokio::test]
async fn a_million_row_backfill_killed_mid_way_resumes_and_holds_no_lock_longer_than_a_batch() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_accounts.up.sql",
        "CREATE TABLE accounts (id bigint PRIMARY KEY, balance int NOT NULL, cents bigint, n int NOT NULL DEFAULT 0);\n\
         INSERT INTO accounts (id, balance) SELECT g, g % 1000 FROM generate_series(1, 1000000) g;\n\
         ANALYZE accounts;\n",
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.write(
        "0002_cents.up.sql",
        "-- schemactl:backfill batch-size 20000\nUPDATE accounts SET cents = balance * 100, n = n + 1;\n",
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = tokio::spawn(longest_lock_hold(db.url.clone(), "accounts", stop.clone()));

    let mut child = Command::new(crate::support::schemactl_binary())
        .current_dir(project.path())
        .env("DATABASE_URL", &db.url)
        .args(["migrate", "--batch-sleep", "20ms"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn schemactl");
    let started = Instant::now();
    while events(&db, "backfill-batch").await < 10 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the backfill never got going"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let committed = events(&db, "backfill-batch").await;
    assert!(
        committed < 49,
        "killed before the end ({committed} batches)"
    );
    let recorded: i64 = db
        .scalar("SELECT count(*) FROM schema_versions WHERE version = '2'")
        .await;
    assert_eq!(recorded, 0, "a killed backfill is not recorded as applied");

    let resumed = schemactl(&project, &db, &["migrate", "--format", "json"]);
    resumed.expect_code(0);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let longest_hold = watcher.await.unwrap();
    let lines = progress_lines(&resumed.stderr);
    let first = &lines[0];
    let last = lines.last().unwrap();
    let resumed_after = first["resumed_after_batch"].as_i64().unwrap();
    assert!(
        resumed_after >= committed - 1 && resumed_after <= committed,
        "{first}"
    );
    assert_eq!(last["done"], true);
    assert_eq!(last["batch"], 50);
    assert_eq!(last["rows"], 1_000_000);
    let once: i64 = db
        .scalar("SELECT count(*) FROM accounts WHERE n = 1 AND cents = balance * 100")
        .await;
    assert_eq!(
        once, 1_000_000,
        "every row changed exactly once across the kill"
    );
    let detail: String = db
        .scalar(
            "SELECT detail FROM schema_versions_events WHERE event = 'applied' AND version = '2'",
        )
        .await;
    assert!(
        detail.starts_with("backfill: 1000000 rows in 50 batches")
            && detail.contains("resumed after batch"),
        "{detail}"
    );
    // No session held a lock on the table for longer than a batch: far
    // below the backfill's own duration.
    let longest_batch = last["longest_batch_ms"].as_f64().unwrap() / 1000.0;
    let total = last["elapsed_ms"].as_f64().unwrap() / 1000.0;
    eprintln!(
        "backfill of 1,000,000 rows: resumed after batch {resumed_after}, {total:.2} s this run, longest batch {longest_batch:.3} s, longest lock hold seen {longest_hold:.3} s"
    );
    assert!(longest_hold > 0.0, "the watcher saw the batches' locks");
    assert!(
        longest_hold < total / 5.0 && longest_hold <= longest_batch * 2.0 + 0.2,
        "a lock was held {longest_hold:.3} s (longest batch {longest_batch:.3} s, run {total:.2} s)"
    );
}

/// A streaming standby of the test server, stopped when dropped.
struct Standby {
    cluster: schemactl::devserver::cluster::Cluster,
    port: u16,
    _root: tempfile::TempDir,
}

impl Standby {
    fn start() -> Self {
        let primary = server();
        let root = tempfile::Builder::new()
            .prefix("schemactl-standby-")
            .tempdir()
            .expect("temp dir");
        std::fs::set_permissions(
            root.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
        let cluster = schemactl::devserver::cluster::Cluster::standby_of(
            primary.port,
            &root.path().join("standby"),
            &primary.password,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let port = schemactl::devserver::cluster::free_port().expect("port");
        cluster.start(port).unwrap_or_else(|e| panic!("{e}"));
        Self {
            cluster,
            port,
            _root: root,
        }
    }

    fn url(&self, database: &str) -> String {
        self.cluster.url(self.port, database)
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = self.cluster.stop(true);
    }
}

/// Items 1..100 with `b` empty, migrated, and a backfill of `b` in
/// batches of 40 waiting as `0002_fill_b`.
fn items_with_a_backfill(db: &TestDb) -> Project {
    let project = Project::new();
    project.write(
        "0001_items.up.sql",
        "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b int);\n\
         INSERT INTO items SELECT g, g, NULL FROM generate_series(1, 100) g;\n",
    );
    schemactl(&project, db, &["migrate"]).expect_code(0);
    project.write(
        "0002_fill_b.up.sql",
        "-- schemactl:backfill batch-size 40\nUPDATE items SET b = a;\n",
    );
    project
}

/// Connects to the standby once it has replayed the database's creation,
/// pauses its replay and gives it WAL it does not replay: it lags (by the
/// time since the last transaction it replayed, 1.5 s on return).
async fn lagging(db: &TestDb, replica_url: &str) -> tokio_postgres::Client {
    let started = Instant::now();
    let replica = loop {
        if let Ok((client, connection)) =
            tokio_postgres::connect(replica_url, tokio_postgres::NoTls).await
        {
            tokio::spawn(connection);
            break client;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the standby never caught up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    // The pause is only a request: wait until replay has stopped, so that
    // the marker below is surely not replayed (under load it was).
    let pausing = Instant::now();
    loop {
        let state: String = replica
            .query_one("SELECT pg_get_wal_replay_pause_state()", &[])
            .await
            .unwrap()
            .get(0);
        if state == "paused" {
            break;
        }
        assert!(
            pausing.elapsed() < Duration::from_secs(30),
            "the standby's replay never paused ({state})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let primary = db.client().await;
    primary
        .batch_execute("CREATE TABLE lag_marker (id int)")
        .await
        .unwrap();
    // The replica measures its lag only once it has received WAL it has
    // not replayed: wait until the marker has arrived (under load it had
    // not, and the replica read as caught up).
    let marker: String = primary
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    let receiving = Instant::now();
    loop {
        let received: bool = replica
            .query_one(
                "SELECT coalesce(pg_last_wal_receive_lsn() >= $1::text::pg_lsn, false)",
                &[&marker],
            )
            .await
            .unwrap()
            .get(0);
        if received {
            break;
        }
        assert!(
            receiving.elapsed() < Duration::from_secs(30),
            "the standby never received the marker"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    replica
}

/// `migrate` started in the background, throttled by the replica at
/// `replica_url` (at most 1 s behind), its output piped.
fn migrating_behind(
    project: &Project,
    db: &TestDb,
    replica_url: &str,
    extra: &[&str],
) -> std::process::Child {
    Command::new(crate::support::schemactl_binary())
        .current_dir(project.path())
        .env("DATABASE_URL", &db.url)
        .args([
            "migrate",
            "--replica-url",
            replica_url,
            "--max-replication-lag",
            "1s",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn schemactl")
}

#[tokio::test]
async fn a_backfill_waits_while_the_replica_lags_and_goes_on_once_it_catches_up() {
    let db = server().database().await;
    let standby = Standby::start();
    let project = items_with_a_backfill(&db);
    let replica_url = standby.url(&db.name);
    let replica = lagging(&db, &replica_url).await;

    let child = migrating_behind(&project, &db, &replica_url, &["--format", "json"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        events(&db, "backfill-batch").await,
        0,
        "no batch while the replica lags"
    );
    let unchanged: i64 = db
        .scalar("SELECT count(*) FROM items WHERE b IS NOT NULL")
        .await;
    assert_eq!(unchanged, 0);
    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let lines = progress_lines(&stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert!(last["replica_wait_ms"].as_u64().unwrap() >= 2_000, "{last}");
    let filled: i64 = db.scalar("SELECT count(*) FROM items WHERE b = a").await;
    assert_eq!(filled, 100);

    // A primary given as the replica is refused: it would never hold anything back.
    project.write(
        "0003_clear_b.up.sql",
        "-- schemactl:backfill\nUPDATE items SET b = NULL;\n",
    );
    let refused = schemactl(&project, &db, &["migrate", "--replica-url", &db.url]);
    refused.expect_code(3);
    assert!(
        refused.stderr.contains("is not a replica"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains(&db.password),
        "no password in the message"
    );
}

#[tokio::test]
async fn a_batch_that_waits_too_long_for_a_row_lock_is_tried_again() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_items.up.sql",
        "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b int);\n\
         INSERT INTO items SELECT g, g, NULL FROM generate_series(1, 30) g;\n",
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.write(
        "0002_fill_b.up.sql",
        "-- schemactl:backfill batch-size 10\nUPDATE items SET b = a;\n",
    );
    // The application holds row 15 for a while.
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; SELECT * FROM items WHERE id = 15 FOR UPDATE")
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        holder.batch_execute("COMMIT").await.unwrap();
    });
    // The run blocks its thread: off the runtime, so that the release runs.
    let (dir, url) = (project.path().to_path_buf(), db.url.clone());
    let run = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(crate::support::schemactl_binary());
        command.current_dir(dir).env("DATABASE_URL", url).args([
            "migrate",
            "--lock-timeout",
            "200ms",
        ]);
        crate::support::cli::run(command)
    })
    .await
    .unwrap();
    release.await.unwrap();
    run.expect_code(0);
    let filled: i64 = db.scalar("SELECT count(*) FROM items WHERE b = a").await;
    assert_eq!(filled, 30);
    let waits: String = db
        .scalar("SELECT string_agg(detail, ' | ') FROM schema_versions_events WHERE event = 'lock-timeout'")
        .await;
    assert!(
        waits.starts_with("batch 2, attempt 1: timed out waiting for a lock"),
        "{waits}"
    );
}

#[tokio::test]
async fn a_replica_that_goes_away_stops_the_backfill_instead_of_counting_as_no_lag() {
    let db = server().database().await;
    let standby = Standby::start();
    let project = items_with_a_backfill(&db);
    let replica_url = standby.url(&db.name);
    let replica = lagging(&db, &replica_url).await;
    let child = migrating_behind(&project, &db, &replica_url, &[]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The replica goes away while the backfill waits for it.
    drop(replica);
    drop(standby);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("the replica's lag could not be read before batch 1"),
        "{stderr}"
    );
    let filled: i64 = db
        .scalar("SELECT count(*) FROM items WHERE b IS NOT NULL")
        .await;
    assert_eq!(filled, 0, "no batch ran without knowing the replica's lag");
    // Nothing was recorded as applied; without the replica it runs whole.
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let filled: i64 = db.scalar("SELECT count(*) FROM items WHERE b = a").await;
    assert_eq!(filled, 100);
}
