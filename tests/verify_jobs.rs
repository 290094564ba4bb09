//! `verify --jobs N` on the real server: the report is the one a single
//! worker gives (verdicts, rebuilds, where it stopped, rows, locks), over
//! dirty round trips whose leftovers the scratch database must shed —
//! emptied in place, or created again when the catalogs say emptying did
//! not give it back — and projects that change server-wide objects run
//! with one worker.

use crate::support::{schemactl, server, Project, TestDb};
use serde_json::Value;

/// A migration adding column `c{k}` to `t`, with its down.
pub(crate) fn add_column(project: &Project, k: usize) {
    project.write(
        &format!("{k:04}_add_c{k}.up.sql"),
        format!("ALTER TABLE t ADD COLUMN c{k} int;\n"),
    );
    project.write(
        &format!("{k:04}_add_c{k}.down.sql"),
        format!("ALTER TABLE t DROP COLUMN c{k};\n"),
    );
}

/// A migration whose down forgets `leftover` (made besides a table, so
/// that the up cannot be applied again: the round trip is dirty).
fn dirty(project: &Project, k: usize, leftover: &str) {
    project.write(
        &format!("{k:04}_dirty{k}.up.sql"),
        format!("CREATE TABLE left{k} (id int);\n{leftover}\n"),
    );
    project.write(
        &format!("{k:04}_dirty{k}.down.sql"),
        "-- forgets everything\nSELECT 1;\n",
    );
}

/// 26 migrations: clean ones, dirty ones whose leftovers are each kind the
/// emptying drops (a schema, an event trigger, a publication, a large
/// object, a changed `public` schema) and one it cannot (a comment on a
/// built-in extension), a transactional and a non-transactional failing
/// down, a migration without down.
fn mixed_project() -> Project {
    let project = Project::new();
    project.write(
        "0001_base.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n",
    );
    project.write("0001_base.down.sql", "DROP TABLE t;\n");
    let leftovers = [
        (3, "CREATE SCHEMA side; CREATE TABLE side.kept (id int);"),
        (6, "CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;\nCREATE EVENT TRIGGER watch ON ddl_command_end EXECUTE FUNCTION on_ddl();"),
        (9, "CREATE PUBLICATION everything FOR ALL TABLES;"),
        (12, "SELECT lo_create(424242);"),
        (15, "REVOKE CREATE ON SCHEMA public FROM PUBLIC; COMMENT ON SCHEMA public IS 'changed';"),
        (18, "COMMENT ON EXTENSION plpgsql IS 'changed by a migration';"),
        (21, "CREATE TYPE mood AS ENUM ('calm'); CREATE SEQUENCE counter;"),
    ];
    for (k, leftover) in leftovers {
        dirty(&project, k, leftover);
    }
    project.write(
        "0010_down_fails.up.sql",
        "ALTER TABLE t ADD COLUMN d int;\n",
    );
    project.write(
        "0010_down_fails.down.sql",
        "ALTER TABLE t DROP COLUMN no_such_column;\n",
    );
    project.write(
        "0016_concurrent.up.sql",
        "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY t_b ON t (b);\n",
    );
    project.write(
        "0016_concurrent.down.sql",
        "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY t_b;\nDROP INDEX CONCURRENTLY no_such_index;\n",
    );
    project.write("0024_no_down.up.sql", "ALTER TABLE t ADD COLUMN e int;\n");
    let taken = [1, 3, 6, 9, 10, 12, 15, 16, 18, 21, 24];
    for k in (2..=26).filter(|k| !taken.contains(k)) {
        add_column(&project, k);
    }
    project
}

/// The JSON report of `verify --jobs N`, without what differs from run to
/// run (time, the scratch database's name, whether a lock was seen live).
fn report(project: &Project, db: &TestDb, jobs: usize, extra: &[&str]) -> (i32, Value) {
    let admin = server().admin_url();
    let jobs = jobs.to_string();
    let mut args = vec![
        "verify",
        "--dev-url",
        admin.as_str(),
        "--format",
        "json",
        "--jobs",
        jobs.as_str(),
    ];
    args.extend_from_slice(extra);
    let run = schemactl(project, db, &args);
    let mut value: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    strip(&mut value);
    (run.code, value)
}

/// Leaves out what differs from run to run: time, the scratch database's
/// name, and the locks of statements outside a transaction (seen while
/// they run, or not).
fn strip(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in ["total_ms", "scratch", "observed"] {
                map.remove(key);
            }
            if map.get("label").and_then(Value::as_str) == Some("0016_concurrent") {
                map.remove("locks");
            }
            map.values_mut().for_each(strip);
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// `label outcome rebuilt` of every result.
fn verdicts(report: &Value) -> Vec<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {} {}", r["label"], r["outcome"], r["rebuilt"]))
        .collect()
}

#[tokio::test]
async fn the_report_is_the_same_with_any_number_of_jobs() {
    let db = server().database().await;
    let project = mixed_project();
    let (code, one) = report(&project, &db, 1, &[]);
    assert_eq!(code, 1, "{one:#}");
    assert!(one["stopped"].is_null(), "{one:#}");
    let found = verdicts(&one);
    assert_eq!(found.len(), 26, "{found:#?}");
    let dirty = [3, 6, 9, 12, 15, 18, 21];
    for (index, verdict) in found.iter().enumerate() {
        let k = index + 1;
        let expected = if k == 1 {
            "\"0001_base\" \"ok\" false".to_string()
        } else if dirty.contains(&k) {
            format!("\"{k:04}_dirty{k}\" \"down-does-not-restore\" true")
        } else if k == 10 {
            "\"0010_down_fails\" \"down-failed\" false".to_string()
        } else if k == 16 {
            "\"0016_concurrent\" \"down-failed\" true".to_string()
        } else if k == 24 {
            "\"0024_no_down\" \"no-down\" false".to_string()
        } else {
            format!("\"{k:04}_add_c{k}\" \"ok\" false")
        };
        assert_eq!(verdict, &expected, "{found:#?}");
    }
    for jobs in [2, 3] {
        let (parallel_code, parallel) = report(&project, &db, jobs, &[]);
        assert_eq!(parallel_code, code);
        assert_eq!(parallel, one, "--jobs {jobs}");
    }
    let (_, one_data) = report(&project, &db, 1, &["--data"]);
    let (_, two_data) = report(&project, &db, 2, &["--data"]);
    assert_eq!(two_data, one_data);
    assert!(
        one_data["results"][1]["data"]["class"].is_string(),
        "{one_data:#}"
    );
}

#[tokio::test]
async fn a_stop_in_a_later_chunk_is_reported_as_one_worker_reports_it() {
    let db = server().database().await;
    let project = mixed_project();
    project.write(
        "0020_add_c20.up.sql",
        "ALTER TABLE missing ADD COLUMN x int;\n",
    );
    let (code, one) = report(&project, &db, 1, &[]);
    assert_eq!(code, 1);
    assert_eq!(one["stopped"]["migration"], "0020_add_c20", "{one:#}");
    assert_eq!(one["stopped"]["step"], "up");
    assert_eq!(
        one["stopped"]["not_verified"].as_array().unwrap().len(),
        6,
        "{one:#}"
    );
    assert_eq!(one["results"].as_array().unwrap().len(), 20);
    let (two_code, two) = report(&project, &db, 2, &[]);
    assert_eq!(two_code, code);
    assert_eq!(two, one);
    // Verifying from a version on: the older ones are applied by every worker.
    let (from_code, from) = report(&project, &db, 1, &["--from", "0005"]);
    let (from_two_code, from_two) = report(&project, &db, 2, &["--from", "0005"]);
    assert_eq!((from_two_code, &from_two), (from_code, &from));
    assert_eq!(from["applied_plainly"], 4, "{from:#}");
}

#[tokio::test]
async fn a_project_that_changes_roles_is_verified_with_one_worker() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_base.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY);\n\
         DO $$ BEGIN CREATE ROLE schemactl_test_jobs NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n",
    );
    project.write("0001_base.down.sql", "DROP TABLE t;\n");
    for k in 2..=20 {
        add_column(&project, k);
    }
    let admin = server().admin_url();
    let run = schemactl(
        &project,
        &db,
        &["verify", "--dev-url", &admin, "--jobs", "4"],
    );
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("verifying with one worker: 0001_base changes roles"),
        "{}",
        run.stderr
    );
    let zero = schemactl(
        &project,
        &db,
        &["verify", "--dev-url", &admin, "--jobs", "0"],
    );
    zero.expect_code(2);
}
