//! `schemactl backup` against the real server: a backup restores (into a
//! scratch database with `verify`, into a fresh one with `restore`) with
//! the same rows, checked here by an independent hash; a tampered file, a
//! missing file and a wrong key each fail; no backup file holds a known
//! value in plain text; restore refuses a database that is not empty and
//! the deploy database; prune keeps what its policy says.

use crate::support::{schemactl, server, Project, Run, TestDb};
use std::path::{Path, PathBuf};

/// A marker value no encrypted file may contain.
const MARKER: &str = "marker-d41d8cd98f00b204";

/// Tables of several kinds and types, 20,000 rows in all, one of them
/// holding [`MARKER`].
async fn seed(db: &TestDb) {
    db.client()
        .await
        .batch_execute(&format!(
            "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, \
                                    balance numeric(12,2), tags text[], profile jsonb, avatar bytea, seen timestamptz);
             INSERT INTO accounts (email, balance, tags, profile, avatar, seen)
             SELECT 'user' || g || '@example.org', g * 1.5, ARRAY['a', NULL, 'ü'], jsonb_build_object('n', g),
                    decode(md5(g::text), 'hex'), '2026-01-01'::timestamptz + g * interval '1 minute'
             FROM generate_series(1, 10000) g;
             INSERT INTO accounts (email) VALUES ('{MARKER}@example.org');
             CREATE TABLE events (at date NOT NULL, account bigint REFERENCES accounts ON DELETE CASCADE, kind text)
                 PARTITION BY RANGE (at);
             CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
             CREATE INDEX ON events (account);
             INSERT INTO events SELECT '2026-01-01'::date + (g % 300), g % 10000 + 1, NULL FROM generate_series(1, 9999) g;
             CREATE VIEW rich AS SELECT email FROM accounts WHERE balance > 100;
             CREATE SEQUENCE invoice_numbers START 1000;
             SELECT nextval('invoice_numbers');"
        ))
        .await
        .expect("seed");
}

/// An independent hash of every table's rows, in row order.
async fn rows_of(db: &TestDb) -> Vec<(String, String)> {
    let client = db.client().await;
    let tables = client
        .query(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
            &[],
        )
        .await
        .expect("tables");
    let mut out = Vec::new();
    for row in tables {
        let table: String = row.get(0);
        let hash: String = client
            .query_one(
                &format!("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t"),
                &[],
            )
            .await
            .expect("hash")
            .get(0);
        out.push((table, hash));
    }
    out
}

/// A project with an identity in `key.txt`; its recipient.
fn with_key(project: &Project, db: &TestDb) -> String {
    let run = schemactl(
        project,
        db,
        &[
            "backup", "keygen", "--output", "key.txt", "--format", "json",
        ],
    );
    run.expect_code(0);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(project.path().join("key.txt"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    run.json()["recipient"].as_str().unwrap().to_string()
}

fn create(project: &Project, db: &TestDb, recipient: &str) -> String {
    let run = schemactl(
        project,
        db,
        &[
            "backup",
            "create",
            "--store",
            "store",
            "--recipient",
            recipient,
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    run.json()["backup"]["id"].as_str().unwrap().to_string()
}

fn verify(project: &Project, db: &TestDb, which: &str, key: &str) -> Run {
    let admin = server().admin_url();
    schemactl(
        project,
        db,
        &[
            "backup",
            "verify",
            which,
            "--store",
            "store",
            "--identity",
            key,
            "--dev-url",
            &admin,
            "--format",
            "json",
        ],
    )
}

/// `backup restore <which>` with key.txt into `url`, with `extra` flags.
fn restore_into(project: &Project, db: &TestDb, which: &str, url: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "backup",
        "restore",
        which,
        "--store",
        "store",
        "--identity",
        "key.txt",
        "--database-url",
        url,
    ];
    args.extend(extra);
    schemactl(project, db, &args)
}

fn backup_dir(project: &Project, id: &str) -> PathBuf {
    project.path().join("store").join(id)
}

fn files_of(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[tokio::test]
async fn a_backup_verifies_and_restores_with_the_same_rows() {
    let db = server().database().await;
    seed(&db).await;
    let project = Project::new();
    let recipient = with_key(&project, &db);
    let id = create(&project, &db, &recipient);
    let listed = schemactl(
        &project,
        &db,
        &["backup", "list", "--store", "store", "--format", "json"],
    );
    let backups = listed.expect_code(0).json()["backups"].clone();
    assert_eq!(backups.as_array().unwrap().len(), 1);
    assert_eq!(backups[0]["id"], id.as_str());
    assert_eq!(backups[0]["encrypted"], true);
    assert_eq!(backups[0]["rows"], 20000);
    // No stored file shows the marker, nor any email.
    for file in files_of(&backup_dir(&project, &id)) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in [MARKER.as_bytes(), b"@example.org"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds plain text",
                file.display()
            );
        }
        let mode = std::os::unix::fs::PermissionsExt::mode(&file.metadata().unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }

    let verified = verify(&project, &db, "latest", "key.txt");
    let report = verified.expect_code(0).json();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["rows"], 20000);
    assert!(report["restore_ms"].as_u64().is_some());

    // Exported, the archive is one pg_restore reads.
    schemactl(
        &project,
        &db,
        &[
            "backup",
            "export",
            &id,
            "--store",
            "store",
            "--identity",
            "key.txt",
            "--output",
            "plain",
        ],
    )
    .expect_code(0);
    let initdb = schemactl::devserver::binaries::PgBinaries::locate()
        .unwrap()
        .program("initdb");
    let pg_restore = initdb
        .canonicalize()
        .unwrap()
        .parent()
        .unwrap()
        .join("pg_restore");
    let listed = std::process::Command::new(pg_restore)
        .arg("--list")
        .arg(project.path().join("plain/postgres.dump"))
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("TABLE DATA public accounts"));
    let again = schemactl(
        &project,
        &db,
        &[
            "backup",
            "export",
            &id,
            "--store",
            "store",
            "--identity",
            "key.txt",
            "--output",
            "plain",
        ],
    );
    assert!(
        again.expect_code(2).stderr.contains("is not empty"),
        "{}",
        again.stderr
    );

    let fresh = server().database().await;
    let restored = restore_into(&project, &db, &id, &fresh.url, &["--format", "json"]);
    assert_eq!(restored.expect_code(0).json()["ok"], true);
    assert_eq!(rows_of(&fresh).await, rows_of(&db).await);
    let next: i64 = fresh.scalar("SELECT nextval('invoice_numbers')").await;
    assert_eq!(next, 1001, "sequences come back where they were");
}

#[tokio::test]
async fn a_tampered_file_a_missing_file_and_a_wrong_key_fail() {
    let db = server().database().await;
    seed(&db).await;
    let project = Project::new();
    let recipient = with_key(&project, &db);
    let id = create(&project, &db, &recipient);
    let dir = backup_dir(&project, &id);

    // A key it was not encrypted to; no key at all.
    schemactl(
        &project,
        &db,
        &["backup", "keygen", "--output", "other.txt"],
    )
    .expect_code(0);
    let wrong = verify(&project, &db, &id, "other.txt");
    assert!(
        wrong
            .expect_code(2)
            .output()
            .contains("not one it was encrypted to"),
        "{}",
        wrong.stderr
    );
    let admin = server().admin_url();
    let keyless = schemactl(
        &project,
        &db,
        &[
            "backup",
            "verify",
            &id,
            "--store",
            "store",
            "--dev-url",
            &admin,
        ],
    );
    assert!(
        keyless.expect_code(2).output().contains("--identity"),
        "{}",
        keyless.stderr
    );

    // One byte changed in the archive.
    let archive = dir.join("postgres.dump.zst.age");
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&archive, &bytes).unwrap();
    let tampered = verify(&project, &db, &id, "key.txt");
    let message = tampered.expect_code(1).output();
    assert_eq!(
        tampered.json()["error"]["details"]["backup_problem"],
        "tampered"
    );
    assert!(
        message.contains("postgres.dump.zst.age was changed after"),
        "{message}"
    );
    let fresh = server().database().await;
    let refused = restore_into(&project, &db, &id, &fresh.url, &[]);
    refused.expect_code(1);
    assert_eq!(
        fresh
            .scalar::<i64>("SELECT count(*) FROM pg_class WHERE relname = 'accounts'")
            .await,
        0
    );

    // A file gone (the archive given back as it was).
    bytes[middle] ^= 0x01;
    std::fs::write(&archive, &bytes).unwrap();
    verify(&project, &db, &id, "key.txt").expect_code(0);
    std::fs::remove_file(dir.join("schema.json.zst.age")).unwrap();
    let missing = verify(&project, &db, &id, "key.txt");
    assert!(
        missing
            .expect_code(1)
            .output()
            .contains("schema.json.zst.age is missing"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn restore_refuses_a_database_that_is_not_empty_and_the_deploy_database() {
    let db = server().database().await;
    seed(&db).await;
    let project = Project::new();
    let recipient = with_key(&project, &db);
    let id = create(&project, &db, &recipient);
    let restore = |url: Option<&str>, extra: &[&str]| {
        let mut args = vec![
            "backup",
            "restore",
            id.as_str(),
            "--store",
            "store",
            "--identity",
            "key.txt",
        ];
        if let Some(url) = url {
            args.extend(["--database-url", url]);
        }
        args.extend(extra);
        schemactl(&project, &db, &args)
    };
    // The deploy database: DATABASE_URL, or the same database named again.
    let deploy = restore(None, &[]);
    assert!(
        deploy
            .expect_code(1)
            .stderr
            .contains("is the deploy database"),
        "{}",
        deploy.stderr
    );
    restore(Some(&db.url), &[]).expect_code(1);
    // A database with tables.
    let busy = server().database().await;
    busy.client()
        .await
        .batch_execute("CREATE TABLE accounts (id int)")
        .await
        .unwrap();
    let not_empty = restore(Some(&busy.url), &[]);
    assert!(
        not_empty.expect_code(1).stderr.contains("is not empty"),
        "{}",
        not_empty.stderr
    );
    restore(Some(&busy.url), &["--clean"]).expect_code(0);
    assert_eq!(rows_of(&busy).await, rows_of(&db).await);
}

#[tokio::test]
async fn create_needs_a_recipient_unless_told_not_to_encrypt_and_prune_keeps_the_newest() {
    let db = server().database().await;
    seed(&db).await;
    let project = Project::new();
    let unkeyed = schemactl(&project, &db, &["backup", "create", "--store", "store"]);
    assert!(
        unkeyed.expect_code(2).stderr.contains("backup keygen"),
        "{}",
        unkeyed.stderr
    );
    assert!(
        !project.path().join("store").exists()
            || std::fs::read_dir(project.path().join("store"))
                .unwrap()
                .count()
                == 0
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        let run = schemactl(
            &project,
            &db,
            &[
                "backup",
                "create",
                "--store",
                "store",
                "--no-encrypt",
                "--format",
                "json",
            ],
        );
        ids.push(
            run.expect_code(0).json()["backup"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let plain = schemactl(
        &project,
        &db,
        &["backup", "list", "--store", "store", "--format", "json"],
    );
    assert_eq!(
        plain.expect_code(0).json()["backups"][0]["encrypted"],
        false
    );
    // Without a key: a plain backup verifies.
    let admin = server().admin_url();
    schemactl(
        &project,
        &db,
        &[
            "backup",
            "verify",
            "latest",
            "--store",
            "store",
            "--dev-url",
            &admin,
        ],
    )
    .expect_code(0);

    let nothing = schemactl(&project, &db, &["backup", "prune", "--store", "store"]);
    assert!(
        nothing.expect_code(2).stderr.contains("keeps something"),
        "{}",
        nothing.stderr
    );
    let dry = schemactl(
        &project,
        &db,
        &[
            "backup",
            "prune",
            "--store",
            "store",
            "--keep-last",
            "1",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    let dry = dry.expect_code(0).json();
    assert_eq!(dry["deleted"].as_array().unwrap().len(), 2);
    assert_eq!(
        std::fs::read_dir(project.path().join("store"))
            .unwrap()
            .count(),
        3
    );
    schemactl(
        &project,
        &db,
        &["backup", "prune", "--store", "store", "--keep-last", "1"],
    )
    .expect_code(0);
    let left = schemactl(
        &project,
        &db,
        &["backup", "list", "--store", "store", "--format", "json"],
    );
    let left = left.expect_code(0).json();
    assert_eq!(left["backups"].as_array().unwrap().len(), 1);
    assert_eq!(left["backups"][0]["id"], ids[2].as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_rows_are_written_describes_exactly_what_it_holds() {
    let db = server().database().await;
    seed(&db).await;
    let project = Project::new();
    let recipient = with_key(&project, &db);
    // A writer inserting and updating rows for as long as the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let client = db.client().await;
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut written = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                client
                    .batch_execute(&format!(
                        "INSERT INTO accounts (email) VALUES ('w{written}@example.org');
                         UPDATE accounts SET balance = balance + 1 WHERE id = {};",
                        written % 10000 + 1
                    ))
                    .await
                    .expect("write");
                written += 1;
            }
            written
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let id = {
        let (project_dir, url) = (project.path().to_path_buf(), db.url.clone());
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new(crate::support::schemactl_binary());
            command
                .current_dir(project_dir)
                .env("DATABASE_URL", url)
                .args([
                    "backup",
                    "create",
                    "--store",
                    "store",
                    "--recipient",
                    &recipient,
                    "--format",
                    "json",
                ]);
            let run = crate::support::cli::run(command);
            run.expect_code(0);
            run.json()["backup"]["id"].as_str().unwrap().to_string()
        })
        .await
        .unwrap()
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written > 10, "the writer wrote {written} times");
    let verified = verify(&project, &db, &id, "key.txt");
    let report = verified.expect_code(0).json();
    assert_eq!(report["ok"], true, "{report}");
    // The database moved on; the backup did not.
    let now: i64 = db.scalar("SELECT count(*) FROM accounts").await;
    assert!(report["rows"].as_i64().unwrap() < now + 9999);
}

/// docs/disaster-recovery.md, "Lost database", step by step.
#[tokio::test]
async fn the_disaster_recovery_drill() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    db.client()
        .await
        .batch_execute("INSERT INTO customers (email) SELECT 'c' || g || '@example.org' FROM generate_series(1, 500) g")
        .await
        .expect("rows");
    let recipient = with_key(&project, &db);
    create(&project, &db, &recipient);
    // The database is lost.
    let before = rows_of(&db).await;
    let admin = crate::support::server::connect(&server().admin_url()).await;
    admin
        .batch_execute(&format!("DROP DATABASE \"{}\" WITH (FORCE)", db.name))
        .await
        .expect("drop");
    // 1–3: an empty database, the latest backup restored into it.
    let new = server().database().await;
    let listed = schemactl(
        &project,
        &new,
        &["backup", "list", "--store", "store", "--format", "json"],
    );
    let history_version = listed.expect_code(0).json()["backups"][0]["history_version"].clone();
    let restored = schemactl(
        &project,
        &new,
        &[
            "backup",
            "restore",
            "latest",
            "--store",
            "store",
            "--identity",
            "key.txt",
            "--database-url",
            &new.url,
            "--overwrite-deploy-database",
            "--format",
            "json",
        ],
    );
    assert_eq!(restored.expect_code(0).json()["ok"], true);
    assert_eq!(rows_of(&new).await, before);
    // 4: the history is the backup's; nothing is left to migrate.
    let status = schemactl(&project, &new, &["status", "--format", "json"]);
    let status = status.expect_code(0).json();
    let migrations = status["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 3);
    assert!(
        migrations.iter().all(|m| m["state"] == "applied"),
        "{status}"
    );
    assert_eq!(
        migrations[2]["version"].to_string(),
        history_version.as_str().unwrap()
    );
    let again = schemactl(&project, &new, &["migrate"]);
    assert!(
        again.expect_code(0).output().contains("Nothing to migrate"),
        "{}",
        again.output()
    );
}

/// On a server that archives WAL, each migration gets a named restore
/// point just before it runs, recorded as an event of the migration.
#[tokio::test]
async fn a_restore_point_is_recorded_before_each_migration_when_the_server_archives_wal() {
    use schemactl::devserver::cluster::{free_port, Cluster, ClusterOptions};
    let root = tempfile::Builder::new()
        .prefix("schemactl-archive-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        root.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let cluster = Cluster::init(
        &root.path().join("cluster"),
        "archive-test-pw",
        &ClusterOptions::default(),
    )
    .expect("initdb");
    let conf = cluster.data_dir().join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("\narchive_mode = on\narchive_command = '/bin/true'\nwal_level = replica\n");
    std::fs::write(&conf, text).unwrap();
    let port = free_port().unwrap();
    cluster.start(port).expect("start");
    let url = cluster.url(port, "postgres");
    let project = Project::fixture("shop");
    let mut command = crate::support::cli::command(&project);
    command.env("DATABASE_URL", &url).arg("migrate");
    let run = crate::support::cli::run(command);
    // A fast stop (an immediate one may lose the last asynchronous
    // commits of this test server), then started again to read the events.
    let _ = cluster.stop(false);
    run.expect_code(0);
    assert!(
        run.stderr.contains("restore point schemactl_1 at"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("recovery_target_name = 'schemactl_3'"),
        "{}",
        run.stderr
    );
    cluster.start(port).expect("start again");
    let client = crate::support::server::connect(&url).await;
    let points: Vec<String> = client
        .query(
            "SELECT version::text || ' ' || detail FROM schema_versions_events WHERE event = 'restore-point' ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut command = crate::support::cli::command(&project);
    command
        .env("DATABASE_URL", &url)
        .args(["status", "--format", "json"]);
    let status = crate::support::cli::run(command);
    let text = {
        let mut command = crate::support::cli::command(&project);
        command.env("DATABASE_URL", &url).arg("status");
        crate::support::cli::run(command)
    };
    let _ = cluster.stop(true);
    assert_eq!(points.len(), 3, "{points:?}\n{}", run.stderr);
    let status = status.expect_code(0).json();
    assert_eq!(
        status["migrations"][2]["restore_point"], "schemactl_3",
        "{status}"
    );
    assert!(
        text.stdout.contains("Recovery points:")
            && text.stdout.contains("restore point schemactl_2"),
        "{}",
        text.stdout
    );
    assert!(
        points[0].starts_with("1 restore point schemactl_1 at "),
        "{points:?}"
    );
}

/// How many staging tables of kept data are on the server.
async fn staged_tables(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'schemactl\\_data\\_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// `[backup]` in the project's schemactl.toml: the `store` folder, `recipient`.
fn configure_store(project: &Project, recipient: &str) {
    std::fs::write(
        project.path().join("schemactl.toml"),
        format!("[backup]\nstore = \"store\"\nrecipients = [\"{recipient}\"]\n"),
    )
    .unwrap();
}

/// The rows of the tables the destructive migration below changes, column
/// by column (a column added again by a down script comes last).
async fn kept_rows(db: &TestDb) -> Vec<String> {
    let client = db.client().await;
    let mut out = Vec::new();
    for sql in [
        "SELECT string_agg(format('%s|%s|%s|%s', id, name, nickname, score), ',' ORDER BY id) FROM people",
        "SELECT string_agg(format('%s|%s|%s', id, what, at), ',' ORDER BY id) FROM audit",
        "SELECT string_agg(format('%s|%s', k, v), ',' ORDER BY k) FROM scratch",
        "SELECT string_agg(format('%s|%s|%s', id, k, note), ',' ORDER BY id) FROM scratch_notes",
    ] {
        out.push(client.query_one(sql, &[]).await.expect(sql).get(0));
    }
    out
}

/// `migrate --backup auto` keeps what a destructive migration destroys (a
/// dropped column, a retyped column, a dropped table, a truncated table),
/// in its own transaction; `rollback --restore-data` puts it back after
/// the down script re-created the structure.
#[tokio::test]
async fn a_destructive_migration_is_backed_up_and_its_data_restored_by_rollback() {
    let db = server().database().await;
    let project = Project::new();
    project
        .write(
            "0001_base.up.sql",
            "CREATE TABLE people (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL, \
                                  nickname text, score numeric(10,3));\n\
             CREATE TABLE audit (id serial PRIMARY KEY, what text, at timestamptz DEFAULT now());\n\
             CREATE TABLE scratch (k text PRIMARY KEY, v jsonb);\n\
             CREATE TABLE scratch_notes (id int PRIMARY KEY, k text REFERENCES scratch, note text);\n",
        )
        .write(
            "0001_base.down.sql",
            "DROP TABLE people, audit, scratch_notes, scratch;\n",
        )
        .write(
            "0002_cleanup.up.sql",
            "ALTER TABLE people DROP COLUMN nickname;\n\
             ALTER TABLE people ALTER COLUMN score TYPE integer;\n\
             DROP TABLE audit;\n\
             TRUNCATE scratch CASCADE;\n\
             CREATE TABLE fresh (id int);\n\
             DROP TABLE fresh;\n",
        )
        .write(
            "0002_cleanup.down.sql",
            "CREATE TABLE audit (id serial PRIMARY KEY, what text, at timestamptz DEFAULT now());\n\
             ALTER TABLE people ALTER COLUMN score TYPE numeric(10,3);\n\
             ALTER TABLE people ADD COLUMN nickname text;\n",
        );
    let recipient = with_key(&project, &db);
    schemactl(&project, &db, &["migrate", "--to", "1"]).expect_code(0);
    db.client()
        .await
        .batch_execute(&format!(
            "INSERT INTO people (name, nickname, score) SELECT 'p' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n''{MARKER}' || g END, g + 0.125 \
                 FROM generate_series(1, 300) g;
             INSERT INTO audit (what) SELECT 'did ' || g FROM generate_series(1, 50) g;
             INSERT INTO scratch SELECT 'k' || g, jsonb_build_object('g', g) FROM generate_series(1, 20) g;
             INSERT INTO scratch_notes SELECT g, 'k' || g, 'note ' || g FROM generate_series(1, 10) g;"
        ))
        .await
        .expect("rows");
    let before = kept_rows(&db).await;
    configure_store(&project, &recipient);
    let migrated = schemactl(&project, &db, &["migrate", "--format", "json"]);
    let report = migrated.expect_code(0).json();
    let taken = report["data_backups"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", migrated.output()));
    assert_eq!(taken.len(), 1, "{report}");
    assert_eq!(taken[0]["version"], "2");
    let tables = taken[0]["tables"].to_string();
    for expected in [
        "public.people (300 rows: columns nickname, score)",
        "audit (50 rows)",
        "scratch (20 rows)",
        "scratch_notes (10 rows)",
    ] {
        assert!(tables.contains(expected), "{tables}");
    }
    assert!(!tables.contains("fresh"), "{tables}");
    // Kept in the store, encrypted, and nothing staged is left behind.
    let id = taken[0]["backup"].as_str().unwrap();
    for file in files_of(&backup_dir(&project, id).join("data")) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(MARKER),
            "{}",
            file.display()
        );
    }
    let client = db.client().await;
    assert_eq!(staged_tables(&client).await, 0);
    let listed = schemactl(&project, &db, &["backup", "list", "--format", "json"]);
    assert_eq!(
        listed.expect_code(0).json()["backups"][0]["kind"],
        "pre-migration"
    );
    let status = schemactl(&project, &db, &["status", "--format", "json"]);
    assert_eq!(
        status.expect_code(0).json()["migrations"][1]["data_backup"],
        id
    );
    // Without --restore-data only the structure comes back.
    let structure = schemactl(&project, &db, &["rollback", "--dry-run"]);
    structure.expect_code(0);
    let rolled = schemactl(
        &project,
        &db,
        &[
            "rollback",
            "--restore-data",
            "--identity",
            "key.txt",
            "--format",
            "json",
        ],
    );
    let rolled = rolled.expect_code(0).json();
    let restored = rolled["restored_data"].as_array().expect("restored_data");
    assert_eq!(restored.len(), 4, "{rolled}");
    assert!(
        restored
            .iter()
            .all(|t| t["rows_restored"] == t["rows_in_backup"]),
        "{rolled}"
    );
    assert_eq!(kept_rows(&db).await, before);
    // The restored identity and serial columns go on after the largest id.
    client
        .batch_execute(
            "INSERT INTO audit (what) VALUES ('after'); INSERT INTO people (name) VALUES ('after')",
        )
        .await
        .expect("sequences past the restored rows");
    let events: Vec<String> = client
        .query(
            "SELECT event FROM schema_versions_events WHERE version = '2' ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(events.contains(&"data-backup".to_string()), "{events:?}");
    assert_eq!(
        events.iter().filter(|e| *e == "data-restored").count(),
        4,
        "{events:?}"
    );
}

/// A migration that fails keeps nothing (its staging tables roll back with
/// it); `--backup never` keeps nothing; a wrong key stops the rollback
/// before it changes anything.
#[tokio::test]
async fn a_failed_migration_keeps_nothing_and_a_wrong_key_stops_the_rollback() {
    let db = server().database().await;
    let project = Project::new();
    project
        .write(
            "0001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, gone text);\nINSERT INTO t VALUES (1, 'x');\n",
        )
        .write(
            "0002_drop.up.sql",
            "ALTER TABLE t DROP COLUMN gone;\nSELECT 1/0;\n",
        )
        .write(
            "0002_drop.down.sql",
            "ALTER TABLE t ADD COLUMN gone text;\n",
        );
    let recipient = with_key(&project, &db);
    configure_store(&project, &recipient);
    schemactl(&project, &db, &["migrate"]).expect_code(3);
    let client = db.client().await;
    assert_eq!(staged_tables(&client).await, 0);
    assert!(
        !project.path().join("store").exists()
            || files_of(&project.path().join("store")).is_empty()
    );
    project.write("0002_drop.up.sql", "ALTER TABLE t DROP COLUMN gone;\n");
    let never = schemactl(
        &project,
        &db,
        &["migrate", "--backup", "never", "--format", "json"],
    );
    assert!(never.expect_code(0).json().get("data_backups").is_none());
    let other = schemactl(
        &project,
        &db,
        &["backup", "keygen", "--output", "other.txt"],
    );
    other.expect_code(0);
    // No data backup recorded: the rollback says so and restores the structure.
    let rolled = schemactl(
        &project,
        &db,
        &["rollback", "--restore-data", "--identity", "other.txt"],
    );
    assert!(
        rolled
            .expect_code(0)
            .output()
            .contains("no data backup is recorded"),
        "{}",
        rolled.output()
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let wrong = schemactl(
        &project,
        &db,
        &["rollback", "--restore-data", "--identity", "other.txt"],
    );
    assert_eq!(wrong.code, 2, "{}", wrong.output());
    let applied: i64 = client
        .query_one(
            "SELECT count(*) FROM schema_versions WHERE version = '2'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1, "a refused rollback changes nothing");
}

/// When the store cannot be written after the migration committed, the
/// kept data stays staged on the server (and is said to), and the next
/// `migrate` that applies something writes it; the pre-migration backup
/// verifies, `backup restore` refuses it, `prune` keeps it unless forced.
#[tokio::test]
async fn data_kept_while_the_store_is_unwritable_reaches_it_on_the_next_run() {
    let db = server().database().await;
    let project = Project::new();
    project
        .write(
            "0001_t.up.sql",
            "CREATE TABLE t (id int PRIMARY KEY, gone text);\n",
        )
        .write("0001_t.down.sql", "DROP TABLE t;\n")
        .write("0002_drop.up.sql", "ALTER TABLE t DROP COLUMN gone;\n")
        .write(
            "0002_drop.down.sql",
            "ALTER TABLE t ADD COLUMN gone text;\n",
        );
    let recipient = with_key(&project, &db);
    configure_store(&project, &recipient);
    schemactl(&project, &db, &["migrate", "--to", "1"]).expect_code(0);
    let client = db.client().await;
    client
        .batch_execute("INSERT INTO t SELECT g, 'gone ' || g FROM generate_series(1, 40) g")
        .await
        .unwrap();
    // The store is a file: nothing can be written there.
    std::fs::write(project.path().join("store"), "not a directory").unwrap();
    let migrated = schemactl(&project, &db, &["migrate"]);
    assert!(
        migrated.expect_code(0).output().contains("staging tables"),
        "{}",
        migrated.output()
    );
    assert_eq!(staged_tables(&client).await, 1);
    std::fs::remove_file(project.path().join("store")).unwrap();
    project.write("0003_more.up.sql", "CREATE TABLE u (id int PRIMARY KEY);\n");
    project.write("0003_more.down.sql", "DROP TABLE u;\n");
    let next = schemactl(&project, &db, &["migrate", "--format", "json"]);
    let report = next.expect_code(0).json();
    assert_eq!(report["data_backups"][0]["version"], "2", "{report}");
    let id = report["data_backups"][0]["backup"]
        .as_str()
        .unwrap()
        .to_string();
    // A pre-migration backup verifies by loading its rows again.
    let verified = verify(&project, &db, &id, "key.txt");
    let verified = verified.expect_code(0).json();
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(verified["rows"], 40, "{verified}");
    // It is not a database to restore, and `latest` is never one.
    let other = server().database().await;
    let refused = schemactl(
        &project,
        &db,
        &[
            "backup",
            "restore",
            &id,
            "--identity",
            "key.txt",
            "--database-url",
            &other.url,
        ],
    );
    assert!(
        refused.output().contains("rollback --restore-data"),
        "{}",
        refused.output()
    );
    assert_ne!(refused.code, 0);
    let latest = schemactl(
        &project,
        &db,
        &["backup", "verify", "latest", "--identity", "key.txt"],
    );
    assert_ne!(latest.code, 0, "{}", latest.output());
    // Prune keeps it unless forced.
    let kept = schemactl(
        &project,
        &db,
        &["backup", "prune", "--keep-last", "1", "--format", "json"],
    );
    assert_eq!(
        kept.expect_code(0).json()["deleted"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Both rolled back; the column's values come back.
    let rolled = schemactl(
        &project,
        &db,
        &[
            "rollback",
            "--steps",
            "2",
            "--restore-data",
            "--identity",
            "key.txt",
        ],
    );
    assert!(
        rolled
            .expect_code(0)
            .output()
            .contains("40 rows of public.t put back"),
        "{}",
        rolled.output()
    );
    let back: i64 = client
        .query_one("SELECT count(*) FROM t WHERE gone = 'gone ' || id", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(back, 40);
    let forced = schemactl(
        &project,
        &db,
        &[
            "backup",
            "prune",
            "--keep-last",
            "1",
            "--force",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        forced.expect_code(0).json()["kept"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Rows read from the archive as it streams: awkward rows (a line break,
/// a row reading `\.`, empty strings, a one-column table of them, a quoted
/// name, a large object) are counted as the server counts them; a manifest
/// whose rows are not the archive's stops `restore` before `pg_restore`
/// can commit, and the target is left empty.
#[tokio::test]
async fn rows_read_from_the_archive_match_the_server_and_a_manifest_that_differs_restores_nothing()
{
    let db = server().database().await;
    seed(&db).await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE \"Odd Name\" (v text, w text);
             INSERT INTO \"Odd Name\" VALUES (E'two\\nlines', 'x'), ('\\.', ''), ('', NULL), (E'back\\\\slash', E'tab\\there');
             CREATE TABLE only_empty (v text);
             INSERT INTO only_empty VALUES (''), (''), ('\\.');
             CREATE TABLE no_rows (v int);
             SELECT lo_from_bytea(0, '\\x0a5c2e0a'::bytea);",
        )
        .await
        .expect("awkward rows");
    let project = Project::new();
    let recipient = with_key(&project, &db);
    let id = create(&project, &db, &recipient);
    let manifest_path = backup_dir(&project, &id).join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let recorded = |name: &str| {
        manifest["postgres"]["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("{name} in {manifest}"))
            .clone()
    };
    for (table, sql) in [
        ("public.\"Odd Name\"", "SELECT count(*) FROM \"Odd Name\""),
        ("public.only_empty", "SELECT count(*) FROM only_empty"),
        ("public.no_rows", "SELECT count(*) FROM no_rows"),
        ("public.accounts", "SELECT count(*) FROM accounts"),
        ("public.events_2026", "SELECT count(*) FROM events_2026"),
    ] {
        let counted: i64 = db.scalar(sql).await;
        let entry = recorded(table);
        assert_eq!(entry["rows"], counted, "{table}: {entry}");
        assert!(
            entry["fingerprint"].as_str().unwrap().starts_with("xxh3:"),
            "{entry}"
        );
    }
    assert_eq!(recorded("public.\"Odd Name\"")["rows"], 4);
    assert_eq!(recorded("public.only_empty")["rows"], 3);
    verify(&project, &db, &id, "key.txt").expect_code(0);

    // The manifest now says accounts held one row more than the archive.
    let tables = manifest["postgres"]["tables"].as_array_mut().unwrap();
    let accounts = tables
        .iter_mut()
        .find(|t| t["table"] == "public.accounts")
        .unwrap();
    accounts["rows"] = serde_json::json!(accounts["rows"].as_i64().unwrap() + 1);
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let fresh = server().database().await;
    let restored = restore_into(&project, &db, &id, &fresh.url, &[]);
    let output = restored.expect_code(1).output();
    assert!(
        output.contains("its rows are not those its manifest records")
            && output.contains("public.accounts"),
        "{output}"
    );
    let tables: i64 = fresh
        .scalar("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
        .await;
    assert_eq!(tables, 0, "nothing of the refused archive was committed");

    // The archive gone: said before anything is restored.
    std::fs::remove_file(backup_dir(&project, &id).join("postgres.dump.zst.age")).unwrap();
    let missing = verify(&project, &db, &id, "key.txt");
    assert!(
        missing
            .expect_code(1)
            .output()
            .contains("postgres.dump.zst.age is missing"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn backup_auto_without_a_store_says_what_it_did_not_keep() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    project.write(
        "0004_drop_details.up.sql",
        "ALTER TABLE orders DROP COLUMN details;\n",
    );
    let run = schemactl(&project, &db, &["migrate", "--to", "3"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("not kept"), "{}", run.stderr);
    let destroying = schemactl(&project, &db, &["migrate"]);
    destroying.expect_code(0);
    assert!(
        destroying
            .stderr
            .contains("0004_drop_details destroyed data (dropped or emptied tables or columns) and no backup store is configured"),
        "{}",
        destroying.stderr
    );
    // Said only when nobody decided: --backup never is a decision.
    let db = server().database().await;
    let never = schemactl(&project, &db, &["migrate", "--backup", "never"]);
    never.expect_code(0);
    assert!(!never.stderr.contains("not kept"), "{}", never.stderr);
}
