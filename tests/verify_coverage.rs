//! What `verify` must see and how far it must go, on the real server:
//! every schema property a down script can forget (caught by `verify` and
//! by `diff`), formatting and frozen timestamps told from change, a verdict
//! for every migration after a dirty one, and `--data`'s classes.

use crate::support::{schemactl, server, Project, TestDb};
use serde_json::Value;

/// Objects every property migration works on. Roles are global to the
/// server: created when missing, never dropped.
const BASE: &str = "
DO $$ BEGIN CREATE ROLE schemactl_test_reader NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE schemactl_test_owner NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
CREATE TABLE items (id bigint PRIMARY KEY, body text, tags text, n int);
CREATE INDEX items_n ON items (n);
CREATE VIEW items_view AS SELECT id, n FROM items;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();
CREATE SEQUENCE counter;
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
";

const BASE_DOWN: &str = "
DROP FUNCTION on_ddl();
DROP SEQUENCE counter;
DROP VIEW items_view;
DROP TABLE items;
DROP FUNCTION touch();
";

/// Each property: a name, the up that sets it (its down forgets it), and
/// the difference `verify` and `diff` must report.
const PROPERTIES: &[(&str, &str, &str)] = &[
    (
        "fillfactor",
        "ALTER TABLE items SET (fillfactor = 70)",
        "table public.items",
    ),
    (
        "column_storage",
        "ALTER TABLE items ALTER COLUMN body SET STORAGE EXTERNAL",
        "table public.items",
    ),
    (
        "column_compression",
        "ALTER TABLE items ALTER COLUMN tags SET COMPRESSION pglz",
        "table public.items",
    ),
    (
        "statistics_target",
        "ALTER TABLE items ALTER COLUMN n SET STATISTICS 500",
        "table public.items",
    ),
    (
        "replica_identity",
        "ALTER TABLE items REPLICA IDENTITY FULL",
        "table public.items",
    ),
    (
        "cluster_on",
        "ALTER TABLE items CLUSTER ON items_n",
        "table public.items",
    ),
    (
        "view_security_barrier",
        "ALTER VIEW items_view SET (security_barrier = true)",
        "view public.items_view",
    ),
    (
        "view_check_option",
        "ALTER VIEW items_view SET (check_option = local)",
        "view public.items_view",
    ),
    (
        "view_security_invoker",
        "ALTER VIEW items_view SET (security_invoker = true)",
        "view public.items_view",
    ),
    (
        "trigger_state",
        "ALTER TABLE items ENABLE REPLICA TRIGGER items_touch",
        "trigger public.items.items_touch",
    ),
    (
        "extended_statistics",
        "CREATE STATISTICS items_stats (dependencies) ON body, n FROM items",
        "statistics public.items_stats",
    ),
    (
        "rule",
        "CREATE RULE items_no_delete AS ON DELETE TO items DO INSTEAD NOTHING",
        "rule public.items.items_no_delete",
    ),
    (
        "collation",
        "CREATE COLLATION c_copy (locale = 'C')",
        "collation public.c_copy",
    ),
    (
        "publication",
        "CREATE PUBLICATION items_pub FOR TABLE items",
        "publication items_pub",
    ),
    (
        "event_trigger",
        "CREATE EVENT TRIGGER ddl_watch ON ddl_command_end EXECUTE FUNCTION on_ddl()",
        "event trigger ddl_watch",
    ),
    (
        "sequence_parameters",
        "ALTER SEQUENCE counter INCREMENT BY 10 CACHE 5",
        "sequence public.counter",
    ),
    (
        "ownership",
        "ALTER TABLE items OWNER TO schemactl_test_owner",
        "owner table public.items",
    ),
    (
        "privileges",
        "GRANT SELECT ON items TO schemactl_test_reader",
        "privileges table public.items",
    ),
    (
        "default_privileges",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO schemactl_test_reader",
        "default privileges for role",
    ),
];

/// The base migration and one migration per property whose down forgets it.
fn property_project() -> Project {
    let project = Project::new();
    project.write("0001_base.up.sql", BASE);
    project.write("0001_base.down.sql", BASE_DOWN);
    for (index, (name, up, _)) in PROPERTIES.iter().enumerate() {
        let version = index + 2;
        project.write(&format!("{version:04}_{name}.up.sql"), format!("{up};\n"));
        project.write(
            &format!("{version:04}_{name}.down.sql"),
            format!("-- forgets: {up}\nSELECT 1;\n"),
        );
    }
    project
}

fn verify_json(project: &Project, db: &TestDb, extra: &[&str]) -> (i32, Value) {
    let admin = server().admin_url();
    let mut args = vec!["verify", "--dev-url", admin.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let run = schemactl(project, db, &args);
    let value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (run.code, value)
}

/// `object_kind name` of every difference of a result.
fn differences(result: &Value) -> Vec<String> {
    result["differences"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            format!(
                "{} {}",
                d["object_kind"].as_str().unwrap(),
                d["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn verify_catches_every_forgotten_property_in_one_run() {
    let db = server().database().await;
    let project = property_project();
    let (code, report) = verify_json(&project, &db, &[]);
    assert_eq!(code, 1);
    assert!(report["stopped"].is_null(), "{report:#}");
    let results = report["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        PROPERTIES.len() + 1,
        "a verdict for every migration"
    );
    assert_eq!(results[0]["outcome"], "ok", "{:#}", results[0]);
    for ((name, _, expected), result) in PROPERTIES.iter().zip(&results[1..]) {
        assert_eq!(
            result["outcome"], "down-does-not-restore",
            "{name}: {result:#}"
        );
        let found = differences(result);
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{name}: expected `{expected}` among {found:?}"
        );
    }
    // Teams that do not manage them leave ownership and privileges out.
    let (_, relaxed) = verify_json(
        &project,
        &db,
        &["--ignore", "ownership", "--ignore", "privileges"],
    );
    for result in relaxed["results"].as_array().unwrap() {
        let label = result["label"].as_str().unwrap();
        let managed_elsewhere = ["ownership", "privileges"]
            .iter()
            .any(|p| label.ends_with(p));
        assert_eq!(
            result["outcome"] == "ok",
            label.starts_with("0001") || managed_elsewhere,
            "{label}: {result:#}"
        );
    }
}

#[tokio::test]
async fn diff_catches_every_property_changed_by_hand() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_base.up.sql", BASE);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let client = db.client().await;
    for (name, up, _) in PROPERTIES {
        client
            .batch_execute(up)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let admin = server().admin_url();
    let run = schemactl(
        &project,
        &db,
        &["diff", "--dev-url", &admin, "--format", "json"],
    );
    run.expect_code(1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let found = differences(&serde_json::json!({ "differences": report["differences"] }));
    for (name, _, expected) in PROPERTIES {
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "{name}: expected `{expected}` among {found:?}"
        );
    }
    let relaxed = schemactl(
        &project,
        &db,
        &[
            "diff",
            "--dev-url",
            &admin,
            "--format",
            "json",
            "--ignore",
            "ownership",
            "--ignore",
            "privileges",
        ],
    );
    let report: Value = serde_json::from_str(&relaxed.stdout).unwrap();
    let found = differences(&serde_json::json!({ "differences": report["differences"] }));
    assert!(
        !found
            .iter()
            .any(|d| d.starts_with("owner ") || d.contains("privileges")),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_reindented_body_passes_and_a_frozen_now_is_a_warning() {
    let db = server().database().await;
    let project = Project::new();
    let function = |body: &str| {
        format!("CREATE OR REPLACE FUNCTION total(a int, b int) RETURNS int LANGUAGE plpgsql AS $$\n{body}\n$$;\n")
    };
    project.write(
        "0001_function.up.sql",
        function("BEGIN\n  RETURN a + b;\nEND"),
    );
    project.write("0001_function.down.sql", "DROP FUNCTION total(int, int);\n");
    project.write(
        "0002_change_function.up.sql",
        function("BEGIN\n  RETURN a * b;\nEND"),
    );
    project.write(
        "0002_change_function.down.sql",
        function("begin\n        -- the original, re-indented\n        return a + b;\nend"),
    );
    project.write(
        "0003_view.up.sql",
        "CREATE VIEW created AS SELECT 'now'::timestamp AS at, 1 AS n;\n",
    );
    project.write("0003_view.down.sql", "DROP VIEW created;\n");
    project.write("0004_drop_view.up.sql", "DROP VIEW created;\n");
    project.write(
        "0004_drop_view.down.sql",
        "CREATE VIEW created AS SELECT 'now'::timestamp AS at, 1 AS n;\n",
    );
    let (code, report) = verify_json(&project, &db, &[]);
    assert_eq!(code, 0, "{report:#}");
    let results = report["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["outcome"] == "ok"), "{report:#}");
    assert_eq!(
        results[1]["formatting"][0]["name"],
        "public.total(a integer, b integer)"
    );
    assert_eq!(
        results[3]["warnings"][0]["kind"], "volatile-literal",
        "{report:#}"
    );
    let admin = server().admin_url();
    let verbose = schemactl(&project, &db, &["verify", "--dev-url", &admin, "--verbose"]);
    assert!(
        verbose.stdout.contains("ok: function public.total(a integer, b integer): the same definition, formatted differently"),
        "{}",
        verbose.stdout
    );
    assert!(
        verbose
            .stdout
            .contains("warning: view public.created: differs only in timestamp literals"),
        "{}",
        verbose.stdout
    );
    let (strict, _) = verify_json(&project, &db, &["--volatile-literal", "error"]);
    assert_eq!(strict, 1);
}

#[tokio::test]
async fn every_migration_gets_a_verdict_after_dirty_ones() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_base.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n",
    );
    project.write("0001_base.down.sql", "DROP TABLE t;\n");
    // Its down forgets the index: the up cannot be applied again.
    project.write("0002_dirty.up.sql", "CREATE INDEX t_a ON t (a);\n");
    project.write("0002_dirty.down.sql", "SELECT 1;\n");
    for k in 3..=12 {
        crate::verify_jobs::add_column(&project, k);
    }
    project.write(
        "0013_concurrent.up.sql",
        "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY t_b ON t (b);\n",
    );
    project.write(
        "0013_concurrent.down.sql",
        "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY t_b;\nDROP INDEX CONCURRENTLY no_such_index;\n",
    );
    project.write("0014_after.up.sql", "ALTER TABLE t ADD COLUMN d int;\n");
    project.write("0014_after.down.sql", "ALTER TABLE t DROP COLUMN d;\n");
    let (code, report) = verify_json(&project, &db, &[]);
    assert_eq!(code, 1);
    assert!(report["stopped"].is_null(), "{report:#}");
    let outcomes: Vec<(&str, &str, bool)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
                r["rebuilt"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 14, "{outcomes:?}");
    assert_eq!(outcomes[1], ("0002_dirty", "down-does-not-restore", true));
    for outcome in &outcomes[2..12] {
        assert_eq!((outcome.1, outcome.2), ("ok", false), "{outcomes:?}");
    }
    assert_eq!(outcomes[12], ("0013_concurrent", "down-failed", true));
    assert_eq!(outcomes[13], ("0014_after", "ok", false));

    // An up that fails ends the run, and the report says where and why.
    project.write(
        "0015_broken.up.sql",
        "ALTER TABLE missing ADD COLUMN x int;\n",
    );
    project.write("0015_broken.down.sql", "SELECT 1;\n");
    project.write("0016_never.up.sql", "SELECT 1;\n");
    let (code, report) = verify_json(&project, &db, &[]);
    assert_eq!(code, 1);
    let stopped = &report["stopped"];
    assert_eq!(stopped["migration"], "0015_broken", "{report:#}");
    assert_eq!(stopped["step"], "up");
    assert!(
        stopped["error"]
            .as_str()
            .unwrap()
            .contains("0015_broken.up.sql:1")
            && stopped["error"].as_str().unwrap().contains("missing"),
        "{stopped:#}"
    );
    assert_eq!(stopped["not_verified"], serde_json::json!(["0016_never"]));
    let admin = server().admin_url();
    let text = schemactl(&project, &db, &["verify", "--dev-url", &admin]);
    text.expect_code(1);
    assert!(
        text.stdout
            .contains("STOPPED at 0015_broken (its up script)")
            && text.stdout.contains("not verified: 0016_never")
            && text.stdout.contains("1 not verified"),
        "{}",
        text.stdout
    );
}

#[tokio::test]
async fn verify_data_classifies_reversible_lossy_and_irreversible() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_base.up.sql",
        "CREATE TYPE mood AS ENUM ('calm', 'busy');
         CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email varchar(80) NOT NULL UNIQUE, mood mood NOT NULL, seen timestamptz, tags text[], note text);
         CREATE TABLE orders (id uuid PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id), total numeric(10, 2) NOT NULL CHECK (total > 0), placed date NOT NULL, details jsonb);
         CREATE TABLE strict (code text NOT NULL CHECK (code ~ '^[A-Z]{3}-[0-9]{4}$'));
         CREATE TABLE listed (state text NOT NULL CHECK (state IN ('open', 'closed')));\n",
    );
    project.write(
        "0001_base.down.sql",
        "DROP TABLE listed, strict, orders, customers; DROP TYPE mood;\n",
    );
    project.write(
        "0002_rename.up.sql",
        "ALTER TABLE customers RENAME COLUMN note TO remark;\n",
    );
    project.write(
        "0002_rename.down.sql",
        "ALTER TABLE customers RENAME COLUMN remark TO note;\n",
    );
    project.write(
        "0003_drop_note.up.sql",
        "ALTER TABLE customers DROP COLUMN remark;\n",
    );
    project.write(
        "0003_drop_note.down.sql",
        "ALTER TABLE customers ADD COLUMN remark text;\n",
    );
    project.write(
        "0004_index.up.sql",
        "CREATE INDEX orders_placed ON orders (placed);\n",
    );
    project.write(
        "0005_no_down.up.sql",
        "ALTER TABLE orders ADD COLUMN shipped boolean;\n",
    );
    project.write("0004_index.down.sql", "DROP INDEX orders_placed;\n");
    let (code, report) = verify_json(&project, &db, &["--data"]);
    assert_eq!(report["data"], true);
    let classes: Vec<(&str, &str)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap(),
                r["data"]["class"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        classes,
        [
            ("0001_base", "reversible"),
            ("0002_rename", "reversible"),
            ("0003_drop_note", "lossy"),
            ("0004_index", "reversible"),
            ("0005_no_down", "irreversible"),
        ],
        "{report:#}"
    );
    let lossy = &report["results"][2]["data"]["tables"][0];
    assert_eq!(lossy["table"], "public.customers");
    assert_eq!(lossy["columns"], serde_json::json!(["remark"]));
    assert_eq!(
        report["unfillable"][0]["table"], "public.strict",
        "a CHECK with a pattern is listed, not guessed (one with a list of values is filled): {report:#}"
    );
    assert_eq!(
        report["unfillable"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    // Lossy is not a schema failure: no migration failed.
    assert_eq!(code, 0, "{report:#}");
    let admin = server().admin_url();
    let text = schemactl(&project, &db, &["verify", "--dev-url", &admin, "--data"]);
    assert!(
        text.stdout.contains("0003_drop_note [data: lossy]")
            && text.stdout.contains("values differ in remark")
            && text
                .stdout
                .contains("Data: 3 reversible, 1 lossy, 1 irreversible."),
        "{}",
        text.stdout
    );
}

#[tokio::test]
async fn verify_data_leaves_room_for_the_seed_rows_an_up_inserts() {
    let project = Project::new();
    let db = server().database().await;
    project.write(
        "0001_base.up.sql",
        "CREATE TABLE roles (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE);\n\
         CREATE TABLE plans (id serial PRIMARY KEY, code text NOT NULL);\n\
         CREATE TABLE flags (id int PRIMARY KEY, small smallint UNIQUE, on_off boolean NOT NULL);\n",
    );
    project.write("0001_base.down.sql", "DROP TABLE roles, plans, flags;\n");
    project.write(
        "0002_seed.up.sql",
        "INSERT INTO roles (id, name) OVERRIDING SYSTEM VALUE VALUES (1, 'admin'), (2, 'member');\n\
         INSERT INTO plans (code) VALUES ('free'), ('pro'), ('team');\n\
         INSERT INTO flags (id, small, on_off) VALUES (1, 1, true), (2, 2, false), (3, 3, true);\n",
    );
    project.write(
        "0002_seed.down.sql",
        "DELETE FROM roles WHERE id IN (1, 2);\n\
         DELETE FROM plans WHERE code IN ('free', 'pro', 'team');\n\
         DELETE FROM flags WHERE id IN (1, 2, 3);\n",
    );
    let (code, report) = verify_json(&project, &db, &["--data"]);
    assert_eq!(code, 0, "{report:#}");
    let seed = &report["results"][1];
    assert_eq!(seed["label"], "0002_seed", "{report:#}");
    assert_eq!(seed["data"]["class"], "reversible", "{report:#}");
    assert_eq!(report["unfillable"], serde_json::json!([]), "{report:#}");
}
