//! Edited, missing, out-of-order and failed migrations: the runner stops,
//! says exactly what is wrong, and `repair` is the audited way out.

use crate::support::{schemactl, server, stable, Project};

#[tokio::test]
async fn an_edited_migration_stops_migrate_until_it_is_restored_or_accepted() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate", "--to", "2"]).expect_code(0);
    let original =
        std::fs::read_to_string(project.migrations().join("0001_create_customers.up.sql")).unwrap();
    project.write(
        "0001_create_customers.up.sql",
        original.replace("-- Customers of the shop.", "-- Our customers."),
    );

    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(1);
    insta::assert_snapshot!(stable(&run.stderr));
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        2,
        "nothing may be applied"
    );
    schemactl(&project, &db, &["validate"]).expect_code(1);

    // A refusal names the versions it is about for programs too.
    let unknown = schemactl(
        &project,
        &db,
        &["repair", "--accept-checksum", "9", "--format", "json"],
    );
    unknown.expect_code(1);
    let details = &unknown.json()["error"]["details"];
    assert_eq!(details["refusal"], "repair", "{}", unknown.stdout);
    assert_eq!(
        details["versions"],
        serde_json::json!([9]),
        "{}",
        unknown.stdout
    );
    schemactl(&project, &db, &["repair", "--accept-checksum", "1"]).expect_code(0);
    schemactl(&project, &db, &["validate"]).expect_code(0);
    let detail: String = db
        .scalar("SELECT detail FROM schema_versions_events WHERE event = 'repair-accept-checksum'")
        .await;
    assert!(detail.starts_with("checksum "), "{detail}");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
}

#[tokio::test]
async fn a_missing_migration_file_stops_migrate() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate", "--to", "2"]).expect_code(0);
    project.remove("0002_create_orders.up.sql");
    project.remove("0002_create_orders.down.sql");
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("version 2 (create_orders) is applied but its file is missing"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("schemactl repair --forget 2"),
        "{}",
        run.stderr
    );
    let status = schemactl(&project, &db, &["status"]);
    assert!(
        status.stdout.lines().any(|l| l.starts_with("2 ")
            && l.contains("create_orders ")
            && l.contains(" missing ")),
        "{}",
        status.stdout
    );
    schemactl(&project, &db, &["repair", "--forget", "2"]).expect_code(0);
    schemactl(&project, &db, &["validate"]).expect_code(0);
}

#[tokio::test]
async fn out_of_order_migrations_need_to_be_allowed() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    project.remove("0002_create_orders.up.sql");
    project.remove("0002_create_orders.down.sql");
    project.write(
        "0003_index_order_details.up.sql",
        "CREATE TABLE later (id bigint PRIMARY KEY);\n",
    );
    project.remove("0003_index_order_details.down.sql");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.write(
        "0002_middle.up.sql",
        "CREATE TABLE middle (id bigint PRIMARY KEY);\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "migrations/0002_middle.up.sql (version 2) is pending but version 3 is already applied"
        ),
        "{}",
        run.stderr
    );
    schemactl(&project, &db, &["validate"]).expect_code(1);
    schemactl(&project, &db, &["validate", "--allow-out-of-order"]).expect_code(0);
    schemactl(&project, &db, &["migrate", "--allow-out-of-order"]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        3
    );
}

#[tokio::test]
async fn a_failed_no_transaction_migration_leaves_a_visible_dirty_state() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_indexes.up.sql",
        "-- schemactl:no-transaction\nCREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON missing_table (id);\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("it ran outside a transaction"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> migrations/0001_indexes.up.sql:3:"),
        "{}",
        run.stderr
    );
    let (success, error): (bool, String) = {
        let row = db
            .client()
            .await
            .query_one("SELECT success, error FROM schema_versions", &[])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(!success);
    assert_eq!(error, "relation \"missing_table\" does not exist");

    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(1);
    insta::assert_snapshot!(stable(&refused.stderr));
    let status = schemactl(&project, &db, &["status"]);
    assert!(status.stdout.contains("failed"), "{}", status.stdout);

    db.client()
        .await
        .batch_execute("DROP TABLE a")
        .await
        .unwrap();
    project.write(
        "0001_indexes.up.sql",
        "-- schemactl:no-transaction\nCREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n",
    );
    schemactl(&project, &db, &["repair", "--remove-failed", "1"]).expect_code(0);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let events: Vec<String> = db
        .client()
        .await
        .query("SELECT event FROM schema_versions_events ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        events,
        [
            "started",
            "failed",
            "repair-remove-failed",
            "started",
            "applied"
        ]
    );
}

/// The `repair` command a failure's recovery text names (`--remove-failed 2`…).
fn advised_repair(stderr: &str) -> Vec<String> {
    let start = stderr.find("`schemactl repair ").expect("a repair command") + 1;
    let end = start + stderr[start..].find('`').expect("closing backquote");
    stderr[start..end]
        .split(" ")
        .skip(2)
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_no_transaction_script_whose_first_statement_fails_says_nothing_of_it_ran() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
    project.write("0001_a.down.sql", "DROP TABLE a;\n");
    project.write(
        "0002_index.up.sql",
        "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY a_id ON missing (id);\nCREATE TABLE b (id int);\n",
    );
    project.write(
        "0002_index.down.sql",
        "-- schemactl:no-transaction\nDROP INDEX CONCURRENTLY missing_index;\nDROP TABLE b;\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    assert!(
        run.stderr
            .contains("its first statement failed: nothing of it is applied")
            && !run.stderr.contains("statements before the failing one"),
        "{}",
        run.stderr
    );
    assert_eq!(advised_repair(&run.stderr), ["--remove-failed", "2"]);
    // Following the advice works.
    project.write(
        "0002_index.up.sql",
        "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\nCREATE TABLE b (id int);\n",
    );
    let mut repair = vec!["repair"];
    let advice = advised_repair(&run.stderr);
    repair.extend(advice.iter().map(String::as_str));
    schemactl(&project, &db, &repair).expect_code(0);
    schemactl(&project, &db, &["migrate"]).expect_code(0);

    // A down script whose first statement fails undid nothing: still applied.
    let run = schemactl(&project, &db, &["rollback"]);
    run.expect_code(3);
    assert!(
        run.stderr
            .contains("its first statement failed: nothing of it was undone"),
        "{}",
        run.stderr
    );
    let advice = advised_repair(&run.stderr);
    assert_eq!(advice, ["--mark-applied", "2"]);
    let mut repair = vec!["repair"];
    repair.extend(advice.iter().map(String::as_str));
    schemactl(&project, &db, &repair).expect_code(0);
    schemactl(&project, &db, &["validate"]).expect_code(0);
    assert!(db.exists("b").await, "still applied");
}

#[tokio::test]
async fn repair_refuses_rows_that_are_not_in_the_state_it_fixes() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let run = schemactl(&project, &db, &["repair", "--remove-failed", "1"]);
    run.expect_code(1);
    assert!(run.stderr.contains("did not fail"), "{}", run.stderr);
    schemactl(&project, &db, &["repair", "--forget", "1"]).expect_code(1);
    schemactl(&project, &db, &["repair", "--mark-applied", "9"]).expect_code(1);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions_events WHERE event LIKE 'repair%'")
            .await,
        0
    );
}

#[tokio::test]
async fn validate_is_a_deploy_gate() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["validate"]).expect_code(0);
    let pending = schemactl(&project, &db, &["validate", "--fail-on-pending"]);
    pending.expect_code(1);
    assert!(
        pending
            .stdout
            .contains("pending migrations (run `schemactl migrate`): 0001, 0002, 0003"),
        "{}",
        pending.stdout
    );
    assert!(!db.exists("schema_versions").await);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let json = schemactl(
        &project,
        &db,
        &["validate", "--fail-on-pending", "--format", "json"],
    );
    json.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["ok"], true);
}

#[tokio::test]
async fn transaction_control_in_a_transactional_file_is_refused_before_anything_runs() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
    project.write("0002_b.up.sql", "CREATE TABLE b (id int);\nCOMMIT;\n");
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("migrations/0002_b.up.sql:2:1: `COMMIT` controls the transaction"),
        "{}",
        run.stderr
    );
    assert!(!db.exists("a").await);
}

#[tokio::test]
async fn a_renamed_migration_file_passes_validate_with_a_note_and_status_shows_both_names() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
    project.write("0002_b.up.sql", "CREATE TABLE b (id int);\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    std::fs::rename(
        project.path().join("migrations/0002_b.up.sql"),
        project.path().join("migrations/0002_create_b.up.sql"),
    )
    .unwrap();
    let validate = schemactl(&project, &db, &["validate"]);
    validate.expect_code(0);
    assert!(
        validate.stdout.contains(
            "note: 0002 is recorded as `b`; its file is now named `create_b` (same version, same content)"
        ),
        "{}",
        validate.stdout
    );
    let status = schemactl(&project, &db, &["status"]);
    assert!(
        status.stdout.contains("create_b (recorded as b)"),
        "{}",
        status.stdout
    );
    let json = schemactl(&project, &db, &["status", "--format", "json"]).json();
    let row = &json["migrations"][1];
    assert_eq!(
        (&row["name"], &row["recorded_name"]),
        (&"create_b".into(), &"b".into())
    );
    assert!(json["migrations"][0].get("recorded_name").is_none());
    schemactl(&project, &db, &["migrate"]).expect_code(0);
}
