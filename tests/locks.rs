//! Locks on a real server: what `verify --locks` measures for the DDL that
//! causes incidents, retries of a migration that times out on a lock held
//! by another session, and the blocker named when the retries run out.

use crate::support::{schemactl, server, Project};
use serde_json::Value;

/// A table with enough rows that a concurrent index build lasts long
/// enough to be watched, and the table it references.
const BASE: &str = "
CREATE TABLE parent (id bigint PRIMARY KEY);
CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint, n int, note text);
INSERT INTO child SELECT g, NULL, g, 'x' FROM generate_series(1, 200000) g;
";

/// (migration, up, down, expected strongest lock on `public.child`,
/// rewritten, scanned).
const CASES: &[(&str, &str, &str, &str, bool, bool)] = &[
    (
        "add_column_volatile_default",
        "ALTER TABLE child ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE child DROP COLUMN token;",
        "AccessExclusiveLock",
        true,
        false,
    ),
    (
        "add_not_null_column_constant_default",
        "ALTER TABLE child ADD COLUMN flag boolean NOT NULL DEFAULT false;",
        "ALTER TABLE child DROP COLUMN flag;",
        "AccessExclusiveLock",
        false,
        false,
    ),
    (
        "set_not_null",
        "ALTER TABLE child ALTER COLUMN n SET NOT NULL;",
        "ALTER TABLE child ALTER COLUMN n DROP NOT NULL;",
        "AccessExclusiveLock",
        false,
        true,
    ),
    (
        "add_foreign_key",
        "ALTER TABLE child ADD CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id);",
        "ALTER TABLE child DROP CONSTRAINT child_parent;",
        "ShareRowExclusiveLock",
        false,
        true,
    ),
    (
        "add_foreign_key_not_valid",
        "ALTER TABLE child ADD CONSTRAINT child_parent_later FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;",
        "ALTER TABLE child DROP CONSTRAINT child_parent_later;",
        "ShareRowExclusiveLock",
        false,
        false,
    ),
    (
        "validate_foreign_key",
        "ALTER TABLE child VALIDATE CONSTRAINT child_parent_later;",
        "ALTER TABLE child DROP CONSTRAINT child_parent_later;\nALTER TABLE child ADD CONSTRAINT child_parent_later FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;",
        "ShareUpdateExclusiveLock",
        false,
        true,
    ),
    (
        "create_index",
        "CREATE INDEX child_n ON child (n);",
        "DROP INDEX child_n;",
        "ShareLock",
        false,
        false,
    ),
    (
        "create_index_concurrently",
        "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY child_note ON child (note);",
        "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY child_note;",
        "ShareUpdateExclusiveLock",
        false,
        false,
    ),
    (
        "alter_type",
        "ALTER TABLE child ALTER COLUMN n TYPE bigint;",
        "ALTER TABLE child ALTER COLUMN n TYPE integer;",
        "AccessExclusiveLock",
        true,
        false,
    ),
];

#[tokio::test]
async fn verify_locks_measures_the_modes_rewrites_and_scans_of_risky_ddl() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_base.up.sql", BASE);
    project.write("0001_base.down.sql", "DROP TABLE child, parent;\n");
    for (index, (name, up, down, ..)) in CASES.iter().enumerate() {
        let version = index + 2;
        project.write(&format!("{version:04}_{name}.up.sql"), format!("{up}\n"));
        project.write(
            &format!("{version:04}_{name}.down.sql"),
            format!("{down}\n"),
        );
    }
    let admin = server().admin_url();
    let run = schemactl(
        &project,
        &db,
        &["verify", "--dev-url", &admin, "--format", "json"],
    );
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    run.expect_code(0);
    let results = report["results"].as_array().unwrap();
    for ((name, _, _, mode, rewritten, scanned), result) in CASES.iter().zip(&results[1..]) {
        let tables = result["locks"]["tables"].as_array().unwrap();
        let child = tables
            .iter()
            .find(|t| t["table"] == "public.child")
            .unwrap_or_else(|| panic!("{name}: no lock on public.child in {tables:?}"));
        assert_eq!(child["mode"], *mode, "{name}: {child}");
        assert_eq!(child["rewritten"], *rewritten, "{name}: {child}");
        assert_eq!(child["scanned"], *scanned, "{name}: {child}");
        assert!(
            child["statement"].as_str().unwrap().ends_with(".up.sql:1")
                || child["statement"].as_str().unwrap().ends_with(".up.sql:2"),
            "{name}: {child}"
        );
        assert!(
            !result["locks"]["up"].as_array().unwrap().is_empty(),
            "{name}: every statement is traced"
        );
    }
    // The foreign key also locks the table it references.
    let parent = results[4]["locks"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "public.parent")
        .cloned();
    assert_eq!(
        parent.map(|p| p["mode"].clone()),
        Some(Value::from("ShareRowExclusiveLock"))
    );
    // Text: the write-blocking locks are warnings that name the statement.
    let text = schemactl(&project, &db, &["verify", "--dev-url", &admin, "--locks"]);
    assert!(
        text.stdout.contains(
            "warning: lock: AccessExclusiveLock on public.child at migrations/0002_add_column_volatile_default.up.sql:1 (rewrote the table)"
        ) && text
            .stdout
            .contains("lock: ShareUpdateExclusiveLock on public.child at migrations/0009_create_index_concurrently.up.sql:2"),
        "{}",
        text.stdout
    );
}

/// A session that holds a lock on `table` in an open transaction until
/// the returned sender is dropped or sent to.
async fn hold_lock(db: &crate::support::TestDb, table: &str) -> tokio::sync::oneshot::Sender<()> {
    let client = db.client().await;
    client
        .batch_execute(&format!(
            "SET application_name = 'nightly-report'; BEGIN; LOCK TABLE {table} IN ACCESS SHARE MODE; SELECT 'Hunter2Secret' AS note"
        ))
        .await
        .unwrap();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = released.await;
        let _ = client.batch_execute("COMMIT").await;
    });
    release
}

/// A database with `orders` applied and a pending migration that needs
/// its lock.
async fn orders_with_a_pending_column() -> (crate::support::TestDb, Project) {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_orders.up.sql",
        "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.write(
        "0002_add_note.up.sql",
        "ALTER TABLE orders ADD COLUMN note text;\n",
    );
    (db, project)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_timeout_is_retried_and_succeeds_once_the_blocker_is_gone() {
    let (db, project) = orders_with_a_pending_column().await;
    // Sent behind the blocked one, so withdrawn while it waits, and run
    // once after it: never twice, never before it.
    project.write(
        "0003_note_index.up.sql",
        "CREATE INDEX orders_note ON orders (note);\n",
    );
    project.write("0004_refunds.up.sql", "CREATE TABLE refunds (id bigint);\n");
    let release = hold_lock(&db, "orders").await;
    let releaser = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let _ = release.send(());
    });
    let run = tokio::task::block_in_place(|| {
        schemactl(&project, &db, &["migrate", "--lock-timeout", "300ms"])
    });
    releaser.await.unwrap();
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("0002_add_note: attempt 1: timed out waiting for a lock")
            && run.stderr.contains("nightly-report"),
        "{}",
        run.stderr
    );
    let client = db.client().await;
    let retries: i64 = client
        .query_one(
            "SELECT count(*) FROM schema_versions_events WHERE event = 'lock-timeout' AND version = '2'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(retries >= 1, "each attempt is an event");
    let applied: i64 = client
        .query_one(
            "SELECT count(*) FROM schema_versions WHERE version = '2' AND success",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1);
    let trail: Vec<(String, String)> = client
        .query(
            "SELECT version, event FROM schema_versions_events WHERE version IN ('3', '4') ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let applied_once = |v: &str| (v.to_string(), "applied".to_string());
    assert_eq!(trail, [applied_once("3"), applied_once("4")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_retries_run_out_the_error_names_the_blocking_session() {
    let (db, project) = orders_with_a_pending_column().await;
    let release = hold_lock(&db, "orders").await;
    let migrate = |extra: &[&str]| {
        let mut args = vec!["migrate", "--lock-timeout", "200ms"];
        args.extend_from_slice(extra);
        tokio::task::block_in_place(|| schemactl(&project, &db, &args))
    };
    // Blocked by locks has its own exit code (5), and the JSON says so.
    let run = migrate(&["--lock-retries", "1", "--format", "json"]);
    run.expect_code(5);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    assert_eq!(report["error"]["details"]["blocked_by_locks"], true);
    assert_eq!(report["error"]["details"]["status"], "failed");
    let contention = &report["error"]["details"]["lock_contention"];
    assert_eq!(contention["attempts"], 2, "{report:#}");
    let blocker = &contention["blockers"][0];
    assert_eq!(blocker["application"], "nightly-report", "{report:#}");
    assert_eq!(blocker["state"], "idle in transaction");
    assert!(
        blocker["locks"]
            .as_str()
            .unwrap()
            .contains("public.orders (AccessShareLock)"),
        "{blocker}"
    );
    // The blocker's own text is shown with its literals masked.
    assert!(!run.stdout.contains("Hunter2Secret"), "{}", run.stdout);
    let text = migrate(&["--lock-retries", "0"]);
    let _ = release.send(());
    text.expect_code(5);
    assert!(!text.stderr.contains("Hunter2Secret"), "{}", text.stderr);
    assert!(
        text.stderr.contains("--lock-timeout") && text.stderr.contains("--lock-retries"),
        "the message names the retry flags: {}",
        text.stderr
    );
    assert!(
        text.stderr.contains("blocked by pid")
            && text
                .stderr
                .contains("application 'nightly-report', idle in transaction")
            && text
                .stderr
                .contains("end it with: SELECT pg_terminate_backend("),
        "{}",
        text.stderr
    );
}

#[tokio::test]
async fn an_interrupted_concurrent_index_build_is_named_with_the_cleanup_that_works() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, x int);\nINSERT INTO t VALUES (1, 7), (2, 7);\n",
    );
    project.write(
        "0002_unique_x.up.sql",
        "-- schemactl:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY t_x ON t (x);\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    let cleanup = "DROP INDEX CONCURRENTLY public.t_x;";
    assert!(
        run.stderr.contains(&format!(
            "left INVALID: index public.t_x on public.t; remove it with: {cleanup}"
        )),
        "{}",
        run.stderr
    );
    // The next attempt is warned before it runs.
    let again = schemactl(&project, &db, &["repair", "--remove-failed", "2"]);
    again.expect_code(0);
    let retried = schemactl(&project, &db, &["migrate"]);
    assert!(
        retried
            .stderr
            .contains("index public.t_x on public.t is INVALID"),
        "{}",
        retried.stderr
    );
    let client = db.client().await;
    client.batch_execute(cleanup).await.unwrap();
    let left: i64 = client
        .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the named cleanup removes it");
}

/// The tables the rule pages' lint examples are written against (as in the
/// linter's own rule page test).
const EXAMPLE_TABLES: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);\n\
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, created_at timestamptz, status text, total bigint, notes text);\n";

/// The ```sql blocks of `label` (`Bad:`, `Good:`) in the book's page of `rule`.
fn rule_page_examples(rule: &str, label: &str) -> Vec<String> {
    let path = format!(
        "{}/../docs/lint/rules/{rule}.md",
        env!("CARGO_MANIFEST_DIR")
    );
    let page = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let section = page.as_str();
    let from = section.find(label).expect("the label");
    let rest = &section[from + label.len()..];
    let end = ["\nBad:", "\nGood:"]
        .iter()
        .filter_map(|l| rest.find(l))
        .min()
        .unwrap_or(rest.len());
    rest[..end]
        .split("```sql\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(str::to_string)
        .collect()
}

/// What a rule page example does to the tables that existed before it, as
/// `verify --locks` measures it: for each of its migrations (a transaction,
/// whose locks are held to its end), (table, mode, rewritten, scanned) per
/// statement.
fn traced_example(
    block: &str,
    db: &crate::support::TestDb,
) -> Vec<Vec<(String, String, bool, bool)>> {
    let project = Project::new();
    project.write("0001_tables.up.sql", EXAMPLE_TABLES);
    let mut name = "0002_example.up.sql".to_string();
    let mut text = String::new();
    for line in block.lines() {
        match line
            .strip_prefix("-- ")
            .filter(|n| n.ends_with(".up.sql") && !n.contains(' '))
        {
            Some(next) => {
                if !text.is_empty() {
                    project.write(&name, &text);
                }
                (name, text) = (next.to_string(), String::new());
            }
            None => text.push_str(&format!("{line}\n")),
        }
    }
    project.write(&name, &text);
    let admin = server().admin_url();
    let run = schemactl(
        &project,
        db,
        &["verify", "--dev-url", &admin, "--format", "json"],
    );
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let mut migrations = Vec::new();
    for result in &report["results"].as_array().unwrap()[1..] {
        let mut out = Vec::new();
        for statement in result["locks"]["up"].as_array().unwrap() {
            let listed = |key: &str, table: &str| {
                statement[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t == table)
            };
            for lock in statement["locks"].as_array().unwrap() {
                if lock["pre_existing"] == true {
                    let table = lock["table"].as_str().unwrap();
                    out.push((
                        table.to_string(),
                        lock["mode"].as_str().unwrap().to_string(),
                        listed("rewritten", table),
                        listed("scanned", table),
                    ));
                }
            }
            // A scan or rewrite under a lock taken by an earlier statement.
            for key in ["rewritten", "scanned"] {
                for table in statement[key].as_array().unwrap() {
                    let table = table.as_str().unwrap();
                    if !out.iter().any(|(t, ..)| t == table) {
                        out.push((
                            table.to_string(),
                            String::new(),
                            key == "rewritten",
                            key == "scanned",
                        ));
                    }
                }
            }
        }
        migrations.push(out);
    }
    migrations
}

/// A lock held long on a table others use, in one migration's
/// transaction: a rewrite or a full scan while a lock that blocks writes is
/// already held on the table (by that statement or an earlier one), or an
/// index build under ShareLock.
fn holds_writes_long(trace: &[(String, String, bool, bool)]) -> bool {
    let blocking = |mode: &str| {
        matches!(
            mode,
            "ShareLock" | "ShareRowExclusiveLock" | "ExclusiveLock" | "AccessExclusiveLock"
        )
    };
    trace
        .iter()
        .enumerate()
        .any(|(at, (table, mode, rewritten, scanned))| {
            let held = trace[..=at]
                .iter()
                .filter(|(t, ..)| t == table)
                .any(|(_, m, ..)| blocking(m));
            ((*rewritten || *scanned) && held) || mode == "ShareLock"
        })
}

#[tokio::test]
async fn the_locking_lint_rules_bad_examples_hold_writes_long_and_their_good_ones_do_not() {
    let db = server().database().await;
    for rule in [
        "create-index-not-concurrently",
        "add-foreign-key-not-valid",
        "set-not-null-existing-table",
        "add-column-volatile-default",
        "change-column-type",
    ] {
        for (label, expected) in [("Bad:", true), ("Good:", false)] {
            for block in rule_page_examples(rule, label) {
                let trace = traced_example(&block, &db);
                assert_eq!(
                    trace.iter().any(|migration| holds_writes_long(migration)),
                    expected,
                    "{rule} {label} example, measured {trace:?}:\n{block}"
                );
            }
        }
    }
}
