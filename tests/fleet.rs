//! `schemactl fleet`: hundreds of databases and a thousand tenant schemas
//! on the test server, canaries, the failure limit, a SIGKILL followed by
//! `--resume`, and shards that together cover every target once.

use crate::support::cli::{self, Run};
use crate::support::{server, Project, TestDb};
use std::collections::{BTreeMap, BTreeSet};

/// Three migrations, each with its down; 0002 sleeps a little when asked,
/// so that a run can be killed in the middle.
fn project(sleep_ms: u32) -> Project {
    let project = Project::new();
    project
        .write(
            "0001_accounts.up.sql",
            "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);",
        )
        .write("0001_accounts.down.sql", "DROP TABLE accounts;")
        .write(
            "0002_orders.up.sql",
            format!(
                "CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE);\n\
                 CREATE INDEX orders_account_id ON orders (account_id);\n\
                 SELECT pg_sleep({});",
                f64::from(sleep_ms) / 1000.0
            ),
        )
        .write("0002_orders.down.sql", "DROP TABLE orders;")
        .write(
            "0003_accounts_name.up.sql",
            "ALTER TABLE accounts ADD COLUMN name text;",
        )
        .write(
            "0003_accounts_name.down.sql",
            "ALTER TABLE accounts DROP COLUMN name;",
        );
    project
}

fn fleet(project: &Project, db: Option<&TestDb>, args: &[&str]) -> Run {
    let mut command = cli::command(project);
    if let Some(db) = db {
        command.env("DATABASE_URL", &db.url);
    }
    command
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SCHEMACTL_SHARD");
    command.arg("fleet").args(args);
    cli::run(command)
}

/// Each target's state in a `--format json` report.
fn states(report: &serde_json::Value) -> BTreeMap<String, String> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap().to_string(),
                t["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Creates `count` tenant schemas' names in a file (the schemas themselves
/// are created by the runs) and returns its path.
fn schema_list(project: &Project, file: &str, names: &[String]) -> String {
    list_file(project, file, &(names.join("\n") + "\n"))
}

/// Writes `text` to `file` in the project directory (not its migrations).
fn list_file(project: &Project, file: &str, text: &str) -> String {
    let path = project.path().join(file);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn tenants(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("tenant_{i:04}")).collect()
}

/// Waits until the run's ledger in `dir` records `count` targets done, and
/// returns its path.
fn wait_for_done(dir: &std::path::Path, count: usize) -> std::path::PathBuf {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let file = std::fs::read_dir(dir)
            .ok()
            .and_then(|mut entries| entries.next())
            .and_then(Result::ok)
            .map(|entry| entry.path());
        if let Some(file) = file {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if text.matches("\"done\"").count() >= count {
                return file;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run made no progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn signal(child: &std::process::Child, signal: rustix::process::Signal) {
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        signal,
    )
    .unwrap();
}

/// How many times each tenant schema recorded each version.
async fn recorded(db: &TestDb) -> BTreeMap<(String, String), i64> {
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'schema_versions'",
            &[],
        )
        .await
        .unwrap();
    let mut union = Vec::new();
    for row in rows {
        let schema: String = row.get(0);
        union.push(format!(
            "SELECT '{schema}'::text, version::text, count(*) FROM \"{schema}\".schema_versions WHERE success GROUP BY version"
        ));
    }
    let mut counts = BTreeMap::new();
    for chunk in union.chunks(200) {
        for row in client.query(&chunk.join(" UNION ALL "), &[]).await.unwrap() {
            counts.insert((row.get(0), row.get(1)), row.get(2));
        }
    }
    counts
}

#[tokio::test]
async fn two_hundred_databases_from_a_control_query_are_migrated_and_reported_each() {
    let project = project(0);
    let control = server().database().await;
    let mut databases = Vec::new();
    for _ in 0..200 {
        databases.push(server().database().await);
    }
    let client = control.client().await;
    client
        .batch_execute("CREATE TABLE tenants (id serial PRIMARY KEY, url text NOT NULL)")
        .await
        .unwrap();
    for db in &databases {
        client
            .execute("INSERT INTO tenants (url) VALUES ($1)", &[&db.url])
            .await
            .unwrap();
    }
    let query = "SELECT url FROM tenants ORDER BY id";
    let run = fleet(
        &project,
        None,
        &[
            "migrate",
            "--targets-query",
            query,
            "--control-url",
            &control.url,
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["summary"]["total"], 200);
    assert_eq!(report["summary"]["done"], 200);
    assert_eq!(report["summary"]["migrations"], 600);
    assert_eq!(report["versions"]["3"], 200, "{}", report["versions"]);
    let first = &report["targets"][0];
    assert_eq!(first["applied"], 3);
    assert!(
        first["target"].as_str().unwrap().contains(":***@"),
        "{first}"
    );
    // Every database has each migration once.
    for db in databases.iter().step_by(37) {
        assert_eq!(
            db.scalar::<i64>("SELECT count(*) FROM schema_versions WHERE success")
                .await,
            3
        );
    }
    // The ledger is in the control database, without passwords.
    let run_id = report["run"].as_str().unwrap();
    let ledger: Vec<String> = client
        .query(
            "SELECT target || ' ' || state FROM schemactl_fleet_targets WHERE run = $1",
            &[&run_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ledger.len(), 200);
    assert!(ledger
        .iter()
        .all(|l| l.ends_with(" done") && l.contains(":***@")));
    // Status aggregates the fleet from the targets themselves.
    let status = fleet(
        &project,
        None,
        &[
            "status",
            "--targets-query",
            query,
            "--control-url",
            &control.url,
        ],
    );
    status.expect_code(0);
    assert!(
        status.stdout.contains("versions: 3: 200"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("200 done, 0 failed"),
        "{}",
        status.stdout
    );
}

#[tokio::test]
async fn a_thousand_tenant_schemas_each_get_their_migrations_and_their_own_history() {
    let project = project(0);
    let db = server().database().await;
    let names = tenants(1000);
    let list = schema_list(&project, "tenants.txt", &names);
    let run = fleet(
        &project,
        Some(&db),
        &["migrate", "--tenant-schemas", &list, "--format", "json"],
    );
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["summary"]["done"], 1000, "{}", report["summary"]);
    assert_eq!(report["summary"]["migrations"], 3000);
    let counts = recorded(&db).await;
    assert_eq!(counts.len(), 3000);
    assert!(counts.values().all(|count| *count == 1));
    // Each tenant's tables are in its own schema; nothing leaked into public.
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM pg_tables WHERE tablename = 'orders'")
            .await,
        1000
    );
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .await,
        0
    );
    // A second run finds nothing to do.
    let again = fleet(&project, Some(&db), &["migrate", "--tenant-schemas", &list]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("1000 done, 0 failed"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("0 migration(s) applied"),
        "{}",
        again.stdout
    );
    // Drift: one tenant changed by hand is named; the others are clean.
    let some = schema_list(&project, "some.txt", &names[..20]);
    let client = db.client().await;
    client
        .batch_execute("ALTER TABLE tenant_0007.accounts ADD COLUMN hand_made int")
        .await
        .unwrap();
    let dev = server().database().await;
    let mut command = cli::command(&project);
    command
        .env("DATABASE_URL", &db.url)
        .env("SCHEMACTL_DEV_URL", &dev.url)
        .args([
            "fleet",
            "diff",
            "--tenant-schemas",
            &some,
            "--format",
            "json",
        ]);
    let diff = cli::run(command);
    diff.expect_code(1);
    let report = diff.json();
    let failed: Vec<String> = states(&report)
        .into_iter()
        .filter(|(_, state)| state == "failed")
        .map(|(name, _)| name)
        .collect();
    assert_eq!(failed, vec!["tenant_0007"], "{report}");
    let line = report["targets"][7]["error"].as_str().unwrap();
    assert!(line.contains("tenant_0007.accounts"), "{line}");
}

#[tokio::test]
async fn a_failing_canary_stops_the_rest_of_the_fleet() {
    let project = project(0);
    let db = server().database().await;
    let names = tenants(12);
    // The first tenant already has an `orders` table: 0002 fails there
    // (allowed to start on a non-empty schema, as a deliberate run would).
    db.client()
        .await
        .batch_execute("CREATE SCHEMA tenant_0000; CREATE TABLE tenant_0000.orders (x int);")
        .await
        .unwrap();
    let query = "SELECT 'tenant_' || lpad(i::text, 4, '0') FROM generate_series(0, 11) AS i";
    let list = schema_list(&project, "tenants.txt", &names);
    let run = fleet(
        &project,
        Some(&db),
        &[
            "migrate",
            "--tenant-schemas-query",
            query,
            "--canary",
            "3",
            "--max-failures",
            "0",
            "--allow-non-empty",
            "--format",
            "json",
        ],
    );
    run.expect_code(1);
    let report = run.json();
    let states = states(&report);
    assert_eq!(states["tenant_0000"], "failed");
    assert_eq!(states["tenant_0001"], "done");
    assert_eq!(states["tenant_0002"], "done");
    for name in &names[3..] {
        assert_eq!(states[name], "not-run", "{name}");
    }
    let error = report["targets"][0]["error"].as_str().unwrap();
    assert!(error.contains("0002_orders"), "{error}");
    assert_eq!(
        report["targets"][0]["applied"], 1,
        "0001 went in before 0002 failed"
    );
    assert_eq!(report["targets"][0]["exit_code"], 3);
    // Nothing reached the targets after the canaries.
    let counts = recorded(&db).await;
    assert!(!counts.keys().any(|(schema, _)| schema == "tenant_0005"));
    // The failed canary kept its first migration only, as a single run would.
    assert_eq!(counts.get(&("tenant_0000".into(), "1".into())), Some(&1));
    assert_eq!(counts.get(&("tenant_0000".into(), "2".into())), None);
    // The text report points at the fix and the resume.
    let text = fleet(
        &project,
        Some(&db),
        &["migrate", "--tenant-schemas", &list, "--canary", "3"],
    );
    text.expect_code(1);
    assert!(text.stdout.contains("--resume"), "{}", text.stdout);
}

#[tokio::test]
async fn max_failures_stops_new_targets_and_zero_runs_them_all() {
    let project = project(0);
    let db = server().database().await;
    let names = tenants(10);
    let client = db.client().await;
    for broken in ["tenant_0002", "tenant_0004", "tenant_0008"] {
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {broken}; CREATE TABLE {broken}.accounts (x int);"
            ))
            .await
            .unwrap();
    }
    let list = schema_list(&project, "tenants.txt", &names);
    let stopped = fleet(
        &project,
        Some(&db),
        &[
            "migrate",
            "--tenant-schemas",
            &list,
            "--concurrency",
            "1",
            "--max-failures",
            "2",
            "--format",
            "json",
        ],
    );
    stopped.expect_code(1);
    let report = stopped.json();
    let states = states(&report);
    assert_eq!(states["tenant_0002"], "failed");
    assert_eq!(states["tenant_0004"], "failed");
    for name in [
        "tenant_0005",
        "tenant_0006",
        "tenant_0007",
        "tenant_0008",
        "tenant_0009",
    ] {
        assert_eq!(states[name], "not-run", "{name}");
    }
    assert_eq!(report["summary"]["done"], 3);
    let all = fleet(
        &project,
        Some(&db),
        &[
            "migrate",
            "--tenant-schemas",
            &list,
            "--max-failures",
            "0",
            "--format",
            "json",
        ],
    );
    all.expect_code(1);
    let report = all.json();
    assert_eq!(report["summary"]["failed"], 3);
    assert_eq!(report["summary"]["done"], 7);
    assert_eq!(report["summary"]["not_run"], 0);
}

#[tokio::test]
async fn a_killed_run_resumes_and_every_tenant_gets_each_migration_once() {
    let project = project(20);
    let db = server().database().await;
    let names = tenants(300);
    let list = schema_list(&project, "tenants.txt", &names);
    let ledger_dir = project.path().join("ledgers");
    let mut command = cli::command(&project);
    command
        .env("DATABASE_URL", &db.url)
        .args([
            "fleet",
            "migrate",
            "--tenant-schemas",
            &list,
            "--concurrency",
            "4",
        ])
        .arg("--ledger-dir")
        .arg(&ledger_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().expect("start fleet migrate");
    // Kill it once some tenants are done and others are in flight.
    let ledger = wait_for_done(&ledger_dir, 40);
    signal(&child, rustix::process::Signal::KILL);
    child.wait().unwrap();
    let run_id = ledger.file_stem().unwrap().to_str().unwrap().to_string();
    let text = std::fs::read_to_string(&ledger).unwrap();
    let done_before = text.matches("\"done\"").count();
    assert!(done_before < 300, "the run finished before it was killed");
    let resumed = fleet(
        &project,
        Some(&db),
        &[
            "migrate",
            "--tenant-schemas",
            &list,
            "--ledger-dir",
            ledger_dir.to_str().unwrap(),
            "--resume",
            &run_id,
            "--format",
            "json",
        ],
    );
    resumed.expect_code(0);
    let report = resumed.json();
    let skipped = report["summary"]["skipped"].as_u64().unwrap() as usize;
    assert!(
        skipped >= done_before,
        "{skipped} skipped, {done_before} done before"
    );
    assert_eq!(
        report["summary"]["done"].as_u64().unwrap() as usize + skipped,
        300,
        "{}",
        report["summary"]
    );
    assert_eq!(report["run"], run_id.as_str());
    let counts = recorded(&db).await;
    assert_eq!(counts.len(), 900, "every tenant has every version");
    assert!(
        counts.values().all(|count| *count == 1),
        "applied exactly once"
    );
    // Resuming the same run again finds everything done.
    let again = fleet(
        &project,
        Some(&db),
        &[
            "migrate",
            "--tenant-schemas",
            &list,
            "--ledger-dir",
            ledger_dir.to_str().unwrap(),
            "--resume",
            &run_id,
        ],
    );
    again.expect_code(0);
    assert!(again.stdout.contains("300 skipped"), "{}", again.stdout);
    // A resume with another verb is refused.
    let wrong = fleet(
        &project,
        Some(&db),
        &[
            "rollback",
            "--tenant-schemas",
            &list,
            "--ledger-dir",
            ledger_dir.to_str().unwrap(),
            "--resume",
            &run_id,
        ],
    );
    wrong.expect_code(1);
    assert!(
        wrong.stderr.contains("was `fleet migrate`"),
        "{}",
        wrong.stderr
    );
}

#[tokio::test]
async fn two_shards_cover_every_target_exactly_once() {
    let project = project(0);
    let db = server().database().await;
    let names = tenants(120);
    let list = schema_list(&project, "tenants.txt", &names);
    let shard = |index: &str, use_job_index: bool| {
        let mut command = cli::command(&project);
        command
            .env("DATABASE_URL", &db.url)
            .env_remove("SCHEMACTL_SHARD")
            .args([
                "fleet",
                "migrate",
                "--tenant-schemas",
                &list,
                "--format",
                "json",
            ]);
        if use_job_index {
            command
                .env("JOB_COMPLETION_INDEX", index)
                .env("SCHEMACTL_SHARD_COUNT", "2");
        } else {
            command.env_remove("JOB_COMPLETION_INDEX");
            command.arg("--shard").arg(format!("{index}/2"));
        }
        command
    };
    let (a, b) = (shard("0", false), shard("1", true));
    let runs: Vec<Run> = [a, b]
        .into_iter()
        .map(|command| std::thread::spawn(move || cli::run(command)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let mut seen = BTreeSet::new();
    for (index, run) in runs.iter().enumerate() {
        run.expect_code(0);
        let report = run.json();
        assert_eq!(report["shard"], format!("{index}/2"));
        let covered = states(&report);
        assert!(covered.len() > 30, "{} in shard {index}", covered.len());
        for name in covered.keys() {
            assert!(seen.insert(name.clone()), "{name} in both shards");
        }
    }
    assert_eq!(seen.len(), 120);
    let counts = recorded(&db).await;
    assert_eq!(counts.len(), 360);
    assert!(counts.values().all(|count| *count == 1));
    // The same split again: a shard's share does not change.
    let again = cli::run(shard("0", false));
    let report = again.json();
    let first: BTreeSet<String> = states(&runs[0].json()).into_keys().collect();
    assert_eq!(states(&report).into_keys().collect::<BTreeSet<_>>(), first);
}

#[tokio::test]
async fn targets_from_a_file_or_a_command_roll_back_and_validate() {
    let project = project(0);
    let databases = [
        server().database().await,
        server().database().await,
        server().database().await,
    ];
    let urls: Vec<&str> = databases.iter().map(|db| db.url.as_str()).collect();
    let file = list_file(
        &project,
        "targets.txt",
        &format!("# tenants\n{}\n\n", urls.join("\n")),
    );
    fleet(&project, None, &["migrate", "--targets", &file]).expect_code(0);
    // Rollback: each target goes back one step, and the ledger keeps the
    // version it goes back to.
    let rollback = fleet(
        &project,
        None,
        &[
            "rollback",
            "--targets",
            &file,
            "--steps",
            "1",
            "--format",
            "json",
        ],
    );
    rollback.expect_code(0);
    let report = rollback.json();
    assert_eq!(report["versions"]["2"], 3, "{report}");
    // Validate with pending migrations failing: every target is named.
    let command = format!("cat {file}");
    let validate = fleet(
        &project,
        None,
        &[
            "validate",
            "--targets-command",
            &command,
            "--fail-on-pending",
        ],
    );
    validate.expect_code(1);
    assert_eq!(
        validate.stdout.matches("1 pending: 0003").count(),
        3,
        "{}",
        validate.stdout
    );
    // A failing command is named without the passwords it holds.
    let failing = fleet(
        &project,
        None,
        &[
            "status",
            "--targets-command",
            "PGPASSWORD=Hunter2Secret psql 'postgres://app:Hunter2Secret@nowhere/x' ; exit 3",
        ],
    );
    failing.expect_code(2);
    assert!(
        !failing.output().contains("Hunter2Secret")
            && failing.stderr.contains("PGPASSWORD=***")
            && failing.stderr.contains("postgres://app:***@nowhere/x"),
        "{}",
        failing.output()
    );
    // Drift of whole databases: clean after the rollback, then one changed by hand.
    let dev = server().database().await;
    let diff = |expected: i32| {
        let mut command = cli::command(&project);
        command
            .env("SCHEMACTL_DEV_URL", &dev.url)
            .args(["fleet", "diff", "--targets", &file]);
        let run = cli::run(command);
        run.expect_code(expected);
        run
    };
    diff(0);
    databases[2]
        .client()
        .await
        .batch_execute("CREATE INDEX accounts_email ON accounts (email)")
        .await
        .unwrap();
    let drifted = diff(1);
    assert!(
        drifted
            .stdout
            .contains("drift: 1 difference(s): index public.accounts_email"),
        "{}",
        drifted.stdout
    );
    assert!(
        drifted.stdout.contains("2 done, 1 failed"),
        "{}",
        drifted.stdout
    );
    // A target listed twice is refused before anything runs, by its line.
    let twice = list_file(
        &project,
        "twice.txt",
        &format!("{}\n{}\n", urls[0], urls[0]),
    );
    let refused = fleet(&project, None, &["migrate", "--targets", &twice]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("twice.txt:2:"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("listed twice (first at line 1)"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        databases[0]
            .scalar::<i64>("SELECT count(*) FROM schema_versions WHERE success")
            .await,
        2
    );
}

#[tokio::test]
async fn a_control_database_ledger_resumes_only_the_failed_targets() {
    let project = project(0);
    let control = server().database().await;
    let databases = [
        server().database().await,
        server().database().await,
        server().database().await,
    ];
    // The second tenant cannot take 0001 yet.
    databases[1]
        .client()
        .await
        .batch_execute("CREATE TABLE accounts (x int)")
        .await
        .unwrap();
    let urls: Vec<&str> = databases.iter().map(|db| db.url.as_str()).collect();
    let file = list_file(&project, "targets.txt", &urls.join("\n"));
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "migrate",
            "--targets",
            &file,
            "--control-url",
            &control.url,
            "--max-failures",
            "0",
            "--format",
            "json",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        args.extend(extra.iter().map(ToString::to_string));
        args
    };
    let run = |extra: &[&str]| {
        let args = args(extra);
        fleet(
            &project,
            None,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let first = run(&[]);
    first.expect_code(1);
    let report = first.json();
    let run_id = report["run"].as_str().unwrap().to_string();
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["done"], 2);
    // The tenant is fixed by hand; the resumed run does only that one.
    databases[1]
        .client()
        .await
        .batch_execute("DROP TABLE accounts")
        .await
        .unwrap();
    let resumed = run(&["--resume", &run_id]);
    resumed.expect_code(0);
    let report = resumed.json();
    assert_eq!(report["summary"]["skipped"], 2, "{report}");
    assert_eq!(report["summary"]["done"], 1);
    assert_eq!(report["targets"][1]["applied"], 3);
    let states: Vec<String> = control
        .client()
        .await
        .query(
            "SELECT state FROM schemactl_fleet_targets WHERE run = $1 ORDER BY target",
            &[&run_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(states, vec!["done", "done", "done"]);
    // An unknown run is refused, naming where it looked.
    let unknown = run(&["--resume", "20990101T000000Z-000000"]);
    unknown.expect_code(2);
    assert!(
        unknown.stdout.contains("no run 20990101T000000Z-000000"),
        "{}",
        unknown.stdout
    );
    // Ledger tables changed by hand are a named error, not a panic.
    control
        .client()
        .await
        .batch_execute("ALTER TABLE schemactl_fleet_targets ALTER COLUMN applied TYPE int")
        .await
        .unwrap();
    let altered = run(&["--resume", &run_id]);
    assert_ne!(altered.code, 101, "{}", altered.stderr);
    assert!(
        altered
            .stdout
            .contains("column `applied` of public.schemactl_fleet_targets"),
        "{}\n{}",
        altered.stdout,
        altered.stderr
    );
}

#[tokio::test]
async fn the_fleet_table_of_schemactl_toml_names_the_targets() {
    let project = project(0);
    let db = server().database().await;
    list_file(&project, "tenants.txt", "alpha\nbeta\n");
    list_file(
        &project,
        "schemactl.toml",
        "[fleet]\ntenant_schemas = \"tenants.txt\"\nconcurrency = 2\nledger_dir = \"runs\"\n",
    );
    let run = fleet(&project, Some(&db), &["migrate"]);
    run.expect_code(0);
    assert!(run.stdout.contains("2 done, 0 failed"), "{}", run.stdout);
    assert!(db.exists("alpha.orders").await && db.exists("beta.orders").await);
    assert_eq!(
        std::fs::read_dir(project.path().join("runs"))
            .unwrap()
            .count(),
        1
    );
    // Two lists at once are refused.
    let both = fleet(
        &project,
        Some(&db),
        &["migrate", "--targets", "a.txt", "--tenant-schemas", "b.txt"],
    );
    both.expect_code(2);
    assert!(
        both.stderr.contains("one target list at a time"),
        "{}",
        both.stderr
    );
}

#[tokio::test]
async fn a_resumed_rollback_by_steps_never_undoes_more_than_asked() {
    let project = project(0);
    let db = server().database().await;
    let list = schema_list(&project, "tenants.txt", &tenants(4));
    fleet(&project, Some(&db), &["migrate", "--tenant-schemas", &list]).expect_code(0);
    // In one tenant, 0002's down cannot drop `orders`: a view depends on it.
    let client = db.client().await;
    client
        .batch_execute("CREATE VIEW tenant_0001.order_view AS SELECT * FROM tenant_0001.orders")
        .await
        .unwrap();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["rollback", "--tenant-schemas", &list, "--steps", "2"]
            .iter()
            .map(ToString::to_string)
            .collect();
        args.extend(extra.iter().map(ToString::to_string));
        args.extend(["--max-failures", "0", "--format", "json"].map(String::from));
        args
    };
    let first = fleet(
        &project,
        Some(&db),
        &args(&[]).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    first.expect_code(1);
    let report = first.json();
    assert_eq!(states(&report)["tenant_0001"], "failed");
    assert_eq!(report["targets"][1]["version"], serde_json::Value::Null);
    assert_eq!(report["versions"]["1"], 3, "{report}");
    // It stopped after undoing 0003: it is at version 2 now.
    let counts = recorded(&db).await;
    assert_eq!(counts.get(&("tenant_0001".into(), "2".into())), Some(&1));
    assert_eq!(counts.get(&("tenant_0001".into(), "3".into())), None);
    client
        .batch_execute("DROP VIEW tenant_0001.order_view")
        .await
        .unwrap();
    let run_id = report["run"].as_str().unwrap().to_string();
    let resumed = fleet(
        &project,
        Some(&db),
        &args(&["--resume", &run_id])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    resumed.expect_code(0);
    let report = resumed.json();
    assert_eq!(report["summary"]["skipped"], 3);
    // Back to version 1, as the others: one more step, not two.
    assert_eq!(report["targets"][1]["applied"], 1, "{report}");
    assert_eq!(report["targets"][1]["version"], "1");
    let counts = recorded(&db).await;
    assert_eq!(counts.get(&("tenant_0001".into(), "1".into())), Some(&1));
}

#[tokio::test]
async fn an_unreachable_target_fails_alone_and_its_password_stays_hidden() {
    let project = project(0);
    let db = server().database().await;
    let unreachable = format!(
        "postgres://app:{}-gone@127.0.0.1:1/nowhere",
        crate::support::server::PASSWORD_PREFIX
    );
    let file = list_file(
        &project,
        "targets.txt",
        &format!("{unreachable}\n{}\n", db.url),
    );
    let run = fleet(
        &project,
        None,
        &[
            "migrate",
            "--targets",
            &file,
            "--max-failures",
            "0",
            "--format",
            "json",
        ],
    );
    run.expect_code(1);
    let report = run.json();
    let first = &report["targets"][0];
    assert_eq!(first["state"], "failed");
    assert_eq!(first["target"], "postgres://app:***@127.0.0.1:1/nowhere");
    assert!(
        first["error"].as_str().unwrap().contains("cannot connect"),
        "{first}"
    );
    assert_eq!(first["exit_code"], 2);
    assert_eq!(report["targets"][1]["state"], "done");
    assert_eq!(report["targets"][1]["applied"], 3);
    let ledger = std::fs::read_dir(project.path().join(".schemactl/fleet"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(
        ledger.contains("\"failed\"") && !ledger.contains("-gone"),
        "{ledger}"
    );
}

#[tokio::test]
async fn sigterm_lets_running_targets_finish_and_starts_no_new_one() {
    let project = project(20);
    let db = server().database().await;
    let list = schema_list(&project, "tenants.txt", &tenants(200));
    let ledger_dir = project.path().join("ledgers");
    let mut command = cli::command(&project);
    command
        .env("DATABASE_URL", &db.url)
        .args([
            "fleet",
            "migrate",
            "--tenant-schemas",
            &list,
            "--concurrency",
            "4",
        ])
        .args(["--format", "json", "--ledger-dir"])
        .arg(&ledger_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("start fleet migrate");
    wait_for_done(&ledger_dir, 20);
    signal(&child, rustix::process::Signal::TERM);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["interrupted"], true);
    let not_run = report["summary"]["not_run"].as_u64().unwrap();
    assert!(not_run > 0, "{}", report["summary"]);
    assert_eq!(
        report["summary"]["failed"], 0,
        "running targets finished, none broken"
    );
    // No target is left `running` in the ledger: every one started also finished.
    let ledger = std::fs::read_dir(&ledger_dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect::<String>();
    let mut last = BTreeMap::new();
    for line in ledger.lines().skip(1) {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        last.insert(
            entry["target"].as_str().unwrap().to_string(),
            entry["state"].as_str().unwrap().to_string(),
        );
    }
    assert!(!last.values().any(|state| state == "running"), "{last:?}");
    let counts = recorded(&db).await;
    assert!(counts.values().all(|count| *count == 1));
    let tenants_started = counts
        .keys()
        .map(|(schema, _)| schema)
        .collect::<BTreeSet<_>>();
    assert_eq!(
        tenants_started.len() as u64,
        200 - not_run,
        "every started tenant got all its migrations"
    );
    assert_eq!(counts.len() as u64, (200 - not_run) * 3);
    let run_id = report["run"].as_str().unwrap();
    let resumed = fleet(
        &project,
        Some(&db),
        &[
            "migrate",
            "--tenant-schemas",
            &list,
            "--ledger-dir",
            ledger_dir.to_str().unwrap(),
            "--resume",
            run_id,
        ],
    );
    resumed.expect_code(0);
    assert_eq!(recorded(&db).await.len(), 600);
}

#[tokio::test]
async fn an_empty_or_wrong_target_list_is_refused_before_anything_runs() {
    let project = project(0);
    let db = server().database().await;
    // Empty, from a file or from a query that returns only NULLs.
    let empty = list_file(&project, "empty.txt", "# no tenants yet\n\n");
    let run = fleet(
        &project,
        Some(&db),
        &["migrate", "--tenant-schemas", &empty],
    );
    run.expect_code(2);
    assert!(run.stderr.contains("is empty"), "{}", run.stderr);
    let nulls = fleet(
        &project,
        Some(&db),
        &["status", "--tenant-schemas-query", "SELECT NULL::text"],
    );
    nulls.expect_code(2);
    assert!(nulls.stderr.contains("is empty"), "{}", nulls.stderr);
    // … unless an empty list is expected: a run over nothing, said so.
    let expected = fleet(
        &project,
        Some(&db),
        &["migrate", "--tenant-schemas", &empty, "--allow-empty"],
    );
    expected.expect_code(0);
    assert!(
        expected.stdout.contains("0 target(s)"),
        "{}",
        expected.stdout
    );
    // System schemas are not tenants.
    let system = list_file(&project, "system.txt", "tenant_a\npublic\npg_catalog\n");
    let run = fleet(
        &project,
        Some(&db),
        &["migrate", "--tenant-schemas", &system],
    );
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("system.txt:2: `public` is a system schema")
            && run.stderr.contains("system.txt:3: `pg_catalog`"),
        "{}",
        run.stderr
    );
    // Named explicitly, a system schema can be a tenant; others still not.
    let named = fleet(
        &project,
        Some(&db),
        &[
            "migrate",
            "--tenant-schemas",
            &system,
            "--allow-system-schema",
            "public",
            "--dry-run",
        ],
    );
    named.expect_code(2);
    assert!(
        !named.stderr.contains("`public` is a system schema")
            && named.stderr.contains("`pg_catalog`"),
        "{}",
        named.stderr
    );
    // A list query is one read-only statement: nothing it says is changed.
    db.client()
        .await
        .batch_execute("CREATE TABLE keep (id int)")
        .await
        .unwrap();
    for sql in [
        "SELECT 'tenant_a'; DROP TABLE keep",
        "WITH gone AS (DELETE FROM keep RETURNING 1) SELECT 'tenant_a'",
    ] {
        let run = fleet(
            &project,
            Some(&db),
            &["status", "--tenant-schemas-query", sql],
        );
        run.expect_code(2);
    }
    assert!(db.exists("keep").await);
    assert!(!db.exists("accounts").await, "nothing ran");
}

#[tokio::test]
async fn a_resume_re_checks_finished_targets_against_the_files_and_the_list() {
    let project = project(0);
    project.remove("0003_accounts_name.up.sql");
    project.remove("0003_accounts_name.down.sql");
    let db = server().database().await;
    // The third tenant cannot take 0001 yet.
    db.client()
        .await
        .batch_execute("CREATE SCHEMA t_c; CREATE TABLE t_c.accounts (x int)")
        .await
        .unwrap();
    let names = ["t_a".to_string(), "t_b".to_string(), "t_c".to_string()];
    let list = schema_list(&project, "tenants.txt", &names);
    let ledger_dir = project.path().join("ledgers");
    let ledger_dir = ledger_dir.to_str().unwrap();
    let run = |list: &str, extra: &[&str]| {
        let mut args = vec![
            "migrate",
            "--tenant-schemas",
            list,
            "--ledger-dir",
            ledger_dir,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        fleet(&project, Some(&db), &args)
    };
    let first = run(&list, &["--max-failures", "0"]);
    first.expect_code(1);
    let run_id = first.json()["run"].as_str().unwrap().to_string();
    assert_eq!(first.json()["summary"]["done"], 2, "{}", first.stdout);

    // A migration added since: the finished tenants get it too.
    project.write(
        "0003_accounts_name.up.sql",
        "ALTER TABLE accounts ADD COLUMN name text;",
    );
    db.client()
        .await
        .batch_execute("DROP TABLE t_c.accounts")
        .await
        .unwrap();
    let resumed = run(&list, &["--resume", &run_id]);
    resumed.expect_code(0);
    let report = resumed.json();
    assert_eq!(report["summary"]["skipped"], 0, "{report}");
    assert_eq!(report["summary"]["done"], 3, "{report}");
    let applied: Vec<u64> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["applied"].as_u64().unwrap())
        .collect();
    assert_eq!(applied, vec![1, 1, 3], "{report}");
    for schema in &names {
        let columns: i64 = db
            .scalar(&format!(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = '{schema}' AND table_name = 'accounts' AND column_name = 'name'"
            ))
            .await;
        assert_eq!(columns, 1, "{schema} is behind");
    }

    // A ledger edited by hand is not trusted: the disagreement is named.
    let path = std::path::Path::new(ledger_dir).join(format!("{run_id}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"version\":\"3\"", "\"version\":\"9\""),
    )
    .unwrap();
    let edited = run(&list, &["--resume", &run_id]);
    edited.expect_code(0);
    let report = edited.json();
    assert_eq!(report["summary"]["skipped"], 3, "{report}");
    let note = report["targets"][0]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("at version 9, its history says 3"),
        "{report}"
    );

    // An applied migration edited since: refused on every tenant, not skipped.
    project.write(
        "0001_accounts.up.sql",
        "CREATE TABLE accounts (id bigint PRIMARY KEY);",
    );
    let changed = run(&list, &["--resume", &run_id]);
    changed.expect_code(1);
    assert_eq!(changed.json()["summary"]["failed"], 3, "{}", changed.stdout);
    assert_eq!(changed.json()["summary"]["skipped"], 0);

    // Another target list: refused before anything runs, naming the change.
    let other = schema_list(
        &project,
        "other.txt",
        &["t_a".to_string(), "t_b".to_string(), "t_d".to_string()],
    );
    let refused = run(&other, &["--resume", &run_id]);
    refused.expect_code(1);
    assert!(
        refused.stdout.contains("the target list changed")
            && refused.stdout.contains("added")
            && refused.stdout.contains("t_d")
            && refused.stdout.contains("removed")
            && refused.stdout.contains("t_c"),
        "{}\n{}",
        refused.stdout,
        refused.stderr
    );
    let created: bool = db
        .scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 't_d')")
        .await;
    assert!(!created, "a refused resume created a tenant");
}

#[tokio::test]
async fn fleet_migrate_takes_phases_and_runs_backfills_in_batches_on_every_target() {
    let project = project(0);
    project
        .write(
            "0004_fill_email.up.sql",
            "-- schemactl:phase expand\n-- schemactl:backfill\nUPDATE accounts SET email = lower(email);\n",
        )
        .write(
            "0005_drop_orders.up.sql",
            "-- schemactl:phase contract\nDROP TABLE orders;\n",
        );
    let databases = [server().database().await, server().database().await];
    let urls: Vec<&str> = databases.iter().map(|db| db.url.as_str()).collect();
    let file = list_file(&project, "targets.txt", &urls.join("\n"));
    // Rows for the backfill: the first three migrations, then data.
    fleet(
        &project,
        None,
        &["migrate", "--targets", &file, "--to", "3"],
    )
    .expect_code(0);
    for db in &databases {
        db.client()
            .await
            .batch_execute(
                "INSERT INTO accounts SELECT g, 'A' || g || '@X' FROM generate_series(1, 7) g",
            )
            .await
            .unwrap();
    }
    let expand = fleet(
        &project,
        None,
        &[
            "migrate",
            "--targets",
            &file,
            "--phase",
            "expand",
            "--batch-size",
            "3",
            "--metrics-file",
            "fleet.prom",
        ],
    );
    expand.expect_code(0);
    let metrics = std::fs::read_to_string(project.path().join("fleet.prom")).unwrap();
    let exposition = openmetrics_parser::prometheus::parse_prometheus(&metrics)
        .unwrap_or_else(|e| panic!("{e:?}: {metrics}"));
    let done = exposition.families["schemactl_fleet_targets"]
        .iter_samples()
        .find(|s| s.get_labelset().unwrap().get_label_value("state") == Some("done"))
        .map(|s| format!("{:?}", s.value));
    assert_eq!(done.as_deref(), Some("Gauge(Int(2))"), "{metrics}");
    for db in &databases {
        let lowered: i64 = db
            .scalar("SELECT count(*) FROM accounts WHERE email = lower(email)")
            .await;
        assert_eq!(lowered, 7);
        let batches: i64 = db
            .scalar("SELECT count(*) FROM schema_versions_events WHERE event = 'backfill-batch'")
            .await;
        assert_eq!(
            batches, 2,
            "7 rows in batches of 3: two recorded, the third records the migration"
        );
        assert!(
            db.exists("orders").await,
            "the contract waits for --phase contract"
        );
    }
    fleet(
        &project,
        None,
        &["migrate", "--targets", &file, "--phase", "contract"],
    )
    .expect_code(0);
    for db in &databases {
        assert!(!db.exists("orders").await);
    }
}
