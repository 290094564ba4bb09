//! golang-migrate projects run as golang-migrate runs them: each file is one
//! message to the server, so a file without transaction control is atomic,
//! a file's own `BEGIN … COMMIT` blocks are its transactions, and a file of
//! one `CREATE INDEX CONCURRENTLY` runs outside a transaction block. The
//! fixture `tests/fixtures/golang-migrate-blocks` holds each shape.

use crate::support::{schemactl, server, Project};

fn project() -> Project {
    let project = Project::fixture("golang-migrate-blocks");
    std::fs::write(
        project.path().join("schemactl.toml"),
        "layout = \"golang-migrate\"\n",
    )
    .unwrap();
    project
}

/// The schema `dump` prints, without the lines that name the database.
fn schema_of(project: &Project, db: &crate::support::TestDb) -> String {
    let dump = schemactl(project, db, &["dump"]);
    dump.expect_code(0);
    dump.stdout
        .lines()
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn files_run_as_golang_migrate_sends_them_and_match_its_schema() {
    let project = project();
    let db = server().database().await;
    // The dry run says how each file will run.
    let dry = schemactl(&project, &db, &["migrate", "--dry-run", "--format", "json"]);
    dry.expect_code(0);
    let modes: Vec<(String, String)> = dry.json()["planned"]
        .as_array()
        .expect("planned")
        .iter()
        .map(|p| {
            (
                p["label"].as_str().unwrap().to_string(),
                p["execution"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("000001_init", "transaction"),
        ("000002_memberships", "one-message"),
        ("000003_accounts_email_index", "no-transaction"),
        ("000004_display_names", "one-message"),
        ("000005_settings", "one-message"),
        ("000006_touch_updated_at", "transaction"),
    ];
    assert_eq!(
        modes,
        expected.map(|(l, m)| (l.to_string(), m.to_string())),
        "{}",
        dry.stdout
    );
    let text = schemactl(&project, &db, &["migrate", "--dry-run"]);
    assert!(
        text.stdout.contains("000002_memberships (")
            && text
                .stdout
                .contains("as one message with its own transaction blocks")
            && text.stdout.contains("WITHOUT a transaction"),
        "{}",
        text.stdout
    );

    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let status = schemactl(&project, &db, &["status", "--format", "json"]);
    assert_eq!(status.json()["layout"], "golang-migrate");
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions WHERE success")
            .await,
        6
    );

    // The same files, each sent as one simple-query message the way
    // golang-migrate's PostgreSQL driver sends them, give the same schema.
    let by_hand = server().database().await;
    let client = by_hand.client().await;
    let mut ups: Vec<_> = std::fs::read_dir(project.migrations())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    for up in &ups {
        let sql = std::fs::read_to_string(up).unwrap();
        client
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", up.display()));
    }
    assert_eq!(schema_of(&project, &db), schema_of(&project, &by_hand));

    // Down to nothing and up again, then verify's round trips.
    schemactl(&project, &db, &["rollback", "--steps", "6"]).expect_code(0);
    assert!(!db.exists("accounts").await);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let admin = server().admin_url();
    schemactl(&project, &db, &["verify", "--dev-url", &admin]).expect_code(0);
}

#[tokio::test]
async fn lint_models_the_files_own_transaction_blocks() {
    let project = project();
    let db = server().database().await;
    let lint = schemactl(&project, &db, &["lint", "--format", "json"]);
    let findings = lint.json()["findings"].as_array().unwrap().clone();
    let of = |rule: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["position"]["line"]))
            .collect()
    };
    // The VALIDATE runs in the block that added the key NOT VALID.
    let validated = of("add-foreign-key-not-valid");
    assert!(
        validated
            .iter()
            .any(|f| f.ends_with("000002_memberships.up.sql:11")),
        "{validated:?}\n{}",
        lint.stdout
    );
    for quiet in [
        "transaction-control-in-migration",
        "uncommitted-transaction",
        "non-transactional-not-retry-safe",
        "concurrently-in-transaction",
    ] {
        assert_eq!(of(quiet), Vec::<String>::new(), "{quiet}: {}", lint.stdout);
    }

    // A file committing in parts: the part that stays done must be retry-safe.
    project.write(
        "000007_parts.up.sql",
        "BEGIN;\nCREATE TABLE audit (id bigint PRIMARY KEY);\nCOMMIT;\nBEGIN;\nINSERT INTO audit VALUES (1);\nCOMMIT;\n",
    );
    project.write("000007_parts.down.sql", "DROP TABLE audit;\n");
    // A BEGIN never committed, and a concurrent build in a message of several statements.
    project.write(
        "000008_open.up.sql",
        "BEGIN;\nCREATE TABLE open_one (id bigint PRIMARY KEY);\n",
    );
    project.write("000008_open.down.sql", "DROP TABLE open_one;\n");
    project.write(
        "000009_concurrent.up.sql",
        "CREATE TABLE c (id bigint PRIMARY KEY, n int);\nCREATE INDEX CONCURRENTLY c_n ON c (n);\n",
    );
    project.write("000009_concurrent.down.sql", "DROP TABLE c;\n");
    let lint = schemactl(&project, &db, &["lint", "--format", "json"]);
    let findings = lint.json()["findings"].as_array().unwrap().clone();
    let rules: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (rule, file) in [
        ("non-transactional-not-retry-safe", "000007_parts.up.sql"),
        ("uncommitted-transaction", "000008_open.up.sql"),
        ("concurrently-in-transaction", "000009_concurrent.up.sql"),
    ] {
        assert!(
            rules.iter().any(|(r, p)| r == rule && p.ends_with(file)),
            "{rule} on {file}: {rules:?}"
        );
    }
}

#[tokio::test]
async fn a_failing_file_with_its_own_blocks_says_what_stays_committed() {
    let project = project();
    let db = server().database().await;
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    project.write(
        "000007_half.up.sql",
        "BEGIN;\nCREATE TABLE kept (id bigint PRIMARY KEY);\nCOMMIT;\nBEGIN;\nCREATE TABLE lost (id bigint PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\nCOMMIT;\n",
    );
    project.write(
        "000007_half.down.sql",
        "DROP TABLE IF EXISTS lost;\nDROP TABLE IF EXISTS kept;\n",
    );
    let failed = schemactl(&project, &db, &["migrate"]);
    failed.expect_code(3);
    assert!(
        failed
            .stderr
            .contains("as one message with its own transaction blocks")
            && failed.stderr.contains("000007_half.up.sql:6:13")
            && failed.stderr.contains("no_such_table"),
        "{}",
        failed.stderr
    );
    // What the server committed, and only that.
    assert!(db.exists("kept").await && !db.exists("lost").await);
    let status = schemactl(&project, &db, &["status"]);
    assert!(
        status.stdout.contains("000007   half") && status.stdout.contains("6 applied, 1 failed"),
        "{}",
        status.stdout
    );
}

#[tokio::test]
async fn what_cannot_run_in_one_message_is_refused_before_anything_runs() {
    let project = project();
    let db = server().database().await;
    project.write(
        "000007_two_indexes.up.sql",
        "CREATE INDEX CONCURRENTLY teams_title_idx ON teams (title);\nCREATE INDEX CONCURRENTLY accounts_name_idx ON accounts (name);\n",
    );
    project.write(
        "000007_two_indexes.down.sql",
        "DROP INDEX CONCURRENTLY teams_title_idx;\n",
    );
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("000007_two_indexes.up.sql:1:1")
            && refused
                .stderr
                .contains("move the statement to a migration file of its own"),
        "{}",
        refused.stderr
    );
    assert!(
        !db.exists("accounts").await,
        "nothing may run before the refusal"
    );
    let dry = schemactl(&project, &db, &["migrate", "--dry-run"]);
    dry.expect_code(2);
}

/// golang-migrate's `x-multi-statement` mode, as its PostgreSQL driver runs
/// it: the file is cut at every `;` and each piece is sent on its own.
async fn run_as_multi_statement(client: &tokio_postgres::Client, sql: &str) {
    for piece in sql.split_inclusive(';') {
        if !piece.trim().is_empty() {
            client.batch_execute(piece).await.unwrap();
        }
    }
}

#[tokio::test]
async fn multi_statement_mode_commits_each_statement_as_golang_migrate_does() {
    let project = Project::new();
    std::fs::write(
        project.path().join("schemactl.toml"),
        "layout = \"golang-migrate\"\nmulti_statement = true\n",
    )
    .unwrap();
    let init = "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n\
                CREATE TABLE teams (id bigint PRIMARY KEY, owner_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE);\n\
                CREATE INDEX teams_owner_id_idx ON teams (owner_id);\n";
    // Two concurrent builds in one file: golang-migrate runs them in this
    // mode, each as a message of its own.
    let indexes = "CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);\n\
                   CREATE INDEX CONCURRENTLY teams_id_owner_idx ON teams (id, owner_id);\n";
    project.write("000001_init.up.sql", init);
    project.write(
        "000001_init.down.sql",
        "DROP TABLE teams;\nDROP TABLE accounts;\n",
    );
    project.write("000002_indexes.up.sql", indexes);
    project.write(
        "000002_indexes.down.sql",
        "DROP INDEX CONCURRENTLY teams_id_owner_idx;\nDROP INDEX CONCURRENTLY accounts_email_idx;\n",
    );
    let db = server().database().await;
    let dry = schemactl(&project, &db, &["migrate", "--dry-run", "--format", "json"]);
    dry.expect_code(0);
    let plan = dry.json();
    let modes: Vec<&str> = plan["planned"]
        .as_array()
        .expect("planned")
        .iter()
        .map(|p| p["execution"].as_str().unwrap())
        .collect();
    assert_eq!(
        modes,
        ["no-transaction", "no-transaction"],
        "{}",
        dry.stdout
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);

    // The same files through golang-migrate's split give the same schema.
    let by_hand = server().database().await;
    let client = by_hand.client().await;
    run_as_multi_statement(&client, init).await;
    run_as_multi_statement(&client, indexes).await;
    assert_eq!(schema_of(&project, &db), schema_of(&project, &by_hand));

    // A failing statement leaves the ones before it committed, as in
    // golang-migrate; the history says so instead of "rolled back".
    project.write(
        "000003_half.up.sql",
        "CREATE TABLE kept (id bigint PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n",
    );
    project.write("000003_half.down.sql", "DROP TABLE IF EXISTS kept;\n");
    let failed = schemactl(&project, &db, &["migrate"]);
    failed.expect_code(3);
    assert!(
        failed.stderr.contains("000003_half.up.sql:2:13")
            && failed.stderr.contains("no_such_table"),
        "{}",
        failed.stderr
    );
    assert!(
        db.exists("kept").await,
        "the first statement committed on its own"
    );
    let status = schemactl(&project, &db, &["status"]);
    assert!(
        status.stdout.contains("2 applied, 1 failed"),
        "{}",
        status.stdout
    );

    // Undone by hand and repaired, then down again, statement by statement.
    db.client()
        .await
        .batch_execute("DROP TABLE kept")
        .await
        .unwrap();
    schemactl(&project, &db, &["repair", "--remove-failed", "3"]).expect_code(0);
    std::fs::remove_file(project.migrations().join("000003_half.up.sql")).unwrap();
    std::fs::remove_file(project.migrations().join("000003_half.down.sql")).unwrap();
    schemactl(&project, &db, &["rollback", "--steps", "1"]).expect_code(0);
    assert!(!db.exists("accounts_email_idx").await && db.exists("accounts").await);
}

#[tokio::test]
async fn multi_statement_is_refused_outside_the_golang_migrate_layout_and_in_the_url() {
    let project = Project::new();
    std::fs::write(
        project.path().join("schemactl.toml"),
        "layout = \"sqlx\"\nmulti_statement = true\n",
    )
    .unwrap();
    project.write("1_init.up.sql", "CREATE TABLE t (id int PRIMARY KEY);\n");
    project.write("1_init.down.sql", "DROP TABLE t;\n");
    let db = server().database().await;
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("x-multi-statement") && refused.stderr.contains("sqlx layout"),
        "{}",
        refused.stderr
    );

    // A golang-migrate URL pasted as it is: its `x-` options are named.
    let golang = Project::new();
    std::fs::write(
        golang.path().join("schemactl.toml"),
        "layout = \"golang-migrate\"\n",
    )
    .unwrap();
    golang.write("1_init.up.sql", "CREATE TABLE t (id int PRIMARY KEY);\n");
    golang.write("1_init.down.sql", "DROP TABLE t;\n");
    let url = format!(
        "{}?x-multi-statement=true",
        db.url.split('?').next().unwrap()
    );
    let mut command = std::process::Command::new(crate::support::schemactl_binary());
    command
        .current_dir(golang.path())
        .env("DATABASE_URL", &url)
        .arg("migrate");
    let refused = crate::support::cli::run(command);
    refused.expect_code(2);
    assert!(
        refused
            .stderr
            .contains("`x-multi-statement` is a golang-migrate option")
            && refused.stderr.contains("multi_statement = true"),
        "{}",
        refused.stderr
    );
    assert!(!db.exists("t").await);
}
