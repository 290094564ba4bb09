//! The history table's shape across releases: a table made by the previous
//! release (versions as `bigint`, history format 1) is upgraded in place by
//! the first command that writes, in one transaction under the lock, with
//! an `upgraded` event, and every old row survives unchanged in content;
//! read-only commands read it as it is; a table of a newer format is never
//! touched.

use crate::support::{schemactl, server, Project};

/// The history tables exactly as schemactl 0.1 before text versions
/// created them (commit 2302630, `src/postgres/history_table.rs`).
const FORMAT_1: &str = "
    CREATE TABLE schema_versions (
        version bigint PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        down_checksum text,
        applied_at timestamptz NOT NULL DEFAULT now(),
        applied_by text NOT NULL,
        execution_ms bigint NOT NULL DEFAULT 0,
        success boolean NOT NULL,
        baselined boolean NOT NULL DEFAULT false,
        schemactl_version text NOT NULL,
        error text
    );
    CREATE TABLE schema_versions_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        event text NOT NULL,
        version bigint,
        name text,
        checksum text,
        actor text NOT NULL,
        schemactl_version text NOT NULL,
        execution_ms bigint,
        detail text
    );";

/// The history tables exactly as the release before stored down scripts
/// created them (history format 2, commit e29ad9f).
const FORMAT_2: &str = "
    CREATE TABLE schema_versions (
        version text PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        down_checksum text,
        applied_at timestamptz NOT NULL DEFAULT now(),
        applied_by text NOT NULL,
        execution_ms bigint NOT NULL DEFAULT 0,
        success boolean NOT NULL,
        baselined boolean NOT NULL DEFAULT false,
        schemactl_version text NOT NULL,
        error text
    );
    CREATE TABLE schema_versions_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        event text NOT NULL,
        version text,
        name text,
        checksum text,
        actor text NOT NULL,
        schemactl_version text NOT NULL,
        execution_ms bigint,
        detail text
    );
    COMMENT ON TABLE schema_versions IS 'schemactl history, format 2';";

const ROWS: &str =
    "SELECT version::text, name, checksum, down_checksum, applied_at::text, applied_by, \
                    execution_ms, success, baselined, schemactl_version, coalesce(error, '') \
                    FROM schema_versions ORDER BY version::bigint";

async fn rows(db: &crate::support::TestDb) -> Vec<Vec<String>> {
    db.client()
        .await
        .query(&format!("SELECT row_to_json(r)::text FROM ({ROWS}) r"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| vec![r.get::<_, String>(0)])
        .collect()
}

#[tokio::test]
async fn a_previous_releases_history_is_upgraded_in_place_and_keeps_every_row() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    // The previous release's tables, holding what it recorded.
    schemactl(
        &project,
        &db,
        &["migrate", "--to", "2", "--history-table", "staging"],
    )
    .expect_code(0);
    let client = db.client().await;
    client
        .batch_execute(&format!(
            "{FORMAT_1}
             INSERT INTO schema_versions SELECT version::bigint, name, checksum, down_checksum, applied_at,
                 applied_by, execution_ms, success, baselined, '0.1.0', error FROM staging;
             INSERT INTO schema_versions_events (at, event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
                 SELECT at, event, version::bigint, name, checksum, actor, '0.1.0', execution_ms, detail FROM staging_events ORDER BY id;
             DROP TABLE staging, staging_events;"
        ))
        .await
        .unwrap();
    let before = rows(&db).await;
    assert_eq!(before.len(), 2);

    // Reading changes nothing.
    let status = schemactl(&project, &db, &["status"]);
    status.expect_code(0);
    assert!(status.stdout.contains("pending"), "{}", status.stdout);
    let kind: String = db
        .scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'schema_versions'::regclass AND attname = 'version'")
        .await;
    assert_eq!(kind, "bigint", "a read-only command upgraded the table");

    // The first write upgrades, then carries on from the old history.
    let migrate = schemactl(&project, &db, &["migrate", "--format", "json"]);
    migrate.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&migrate.stdout).unwrap();
    assert_eq!(report["executed"][0]["version"], 3, "{}", migrate.stdout);
    let kind: String = db
        .scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'schema_versions'::regclass AND attname = 'version'")
        .await;
    assert_eq!(kind, "text");
    let after = rows(&db).await;
    assert_eq!(&after[..2], &before[..], "old rows changed in the upgrade");
    let upgraded: i64 = db
        .scalar("SELECT count(*) FROM schema_versions_events WHERE event = 'upgraded'")
        .await;
    assert_eq!(upgraded, 1);
    schemactl(&project, &db, &["validate", "--fail-on-pending"]).expect_code(0);
    schemactl(&project, &db, &["rollback", "--steps", "3"]).expect_code(0);
    let left: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_history_of_a_newer_format_is_never_touched() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate", "--to", "1"]).expect_code(0);
    db.client()
        .await
        .batch_execute("COMMENT ON TABLE schema_versions IS 'schemactl history, format 4'")
        .await
        .unwrap();
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("made by a newer schemactl"),
        "{}",
        refused.stderr
    );
    let count: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(count, 1);
}

#[tokio::test]
async fn the_upgrade_behind_a_reader_gives_up_within_the_lock_timeout() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    db.client().await.batch_execute(FORMAT_1).await.unwrap();
    // A session idle in a transaction that has read the history.
    let reader = db.client().await;
    reader
        .batch_execute("BEGIN; SELECT count(*) FROM schema_versions;")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let run = schemactl(
        &project,
        &db,
        &["migrate", "--lock-timeout", "2s", "--lock-retries", "0"],
    );
    let waited = started.elapsed();
    run.expect_code(2);
    assert!(
        run.stderr.contains("cannot upgrade the history table")
            && run.stderr.contains("--lock-timeout"),
        "{}",
        run.stderr
    );
    assert!(
        waited < std::time::Duration::from_secs(15),
        "waited {waited:?} behind the reader"
    );
    // Once the reader is done, the upgrade and the run go through.
    reader.batch_execute("COMMIT").await.unwrap();
    schemactl(&project, &db, &["migrate"]).expect_code(0);
}

#[tokio::test]
async fn a_format_2_history_gains_stored_down_scripts_and_keeps_every_row() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(
        &project,
        &db,
        &["migrate", "--to", "2", "--history-table", "staging"],
    )
    .expect_code(0);
    db.client()
        .await
        .batch_execute(&format!(
            "{FORMAT_2}
             INSERT INTO schema_versions SELECT version, name, checksum, down_checksum, applied_at,
                 applied_by, execution_ms, success, baselined, '0.1.0', error FROM staging;
             INSERT INTO schema_versions_events (at, event, version, name, checksum, actor, schemactl_version, execution_ms, detail)
                 SELECT at, event, version, name, checksum, actor, '0.1.0', execution_ms, detail FROM staging_events ORDER BY id;
             DROP TABLE staging, staging_events;"
        ))
        .await
        .unwrap();
    let before = rows(&db).await;
    schemactl(&project, &db, &["status"]).expect_code(0);
    let column: i64 = db
        .scalar("SELECT count(*) FROM pg_attribute WHERE attrelid = 'schema_versions'::regclass AND attname = 'down_script'")
        .await;
    assert_eq!(column, 0, "a read-only command upgraded the table");

    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let after = rows(&db).await;
    assert_eq!(&after[..2], &before[..], "old rows changed in the upgrade");
    let detail: String = db
        .scalar("SELECT detail FROM schema_versions_events WHERE event = 'upgraded'")
        .await;
    assert_eq!(
        detail,
        "history format 2 -> 3: down scripts and phases stored when applied"
    );
    let comment: String = db
        .scalar("SELECT obj_description('schema_versions'::regclass, 'pg_class')")
        .await;
    assert_eq!(comment, "schemactl history, format 3");
    // Rows from before hold no down script; the one applied since does.
    let stored: Vec<bool> = db
        .column("SELECT down_script IS NOT NULL FROM schema_versions ORDER BY version")
        .await;
    assert_eq!(stored, vec![false, false, true]);
}
