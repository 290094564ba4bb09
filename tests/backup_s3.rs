//! `schemactl backup` with an S3-compatible store (moto's server, started
//! by the harness): a backup large enough to go up in several parts is
//! listed only once whole, holds no plain text of a known row, verifies
//! and restores; a changed object fails `verify`; the data a destructive
//! migration destroys goes to the bucket and comes back with `rollback
//! --restore-data`; prune deletes from the bucket.

use crate::support::cli::{command, run};
use crate::support::{s3, server, Project, Run, TestDb};

/// A new identity in `key.txt`: its recipient.
fn keygen(project: &Project, db: &TestDb) -> String {
    let keygen = schemactl_s3(
        project,
        db,
        &[
            "backup", "keygen", "--output", "key.txt", "--format", "json",
        ],
    );
    keygen.expect_code(0).json()["recipient"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `schemactl` against `db` with the S3 environment.
fn schemactl_s3(project: &Project, db: &TestDb, args: &[&str]) -> Run {
    let mut cli = command(project);
    s3::environment(&mut cli)
        .env("DATABASE_URL", &db.url)
        .args(args);
    run(cli)
}

#[tokio::test]
async fn a_backup_in_object_storage_is_streamed_up_verified_restored_and_pruned() {
    let db = server().database().await;
    let project = Project::new();
    let bucket = s3::bucket();
    let store = format!("s3://{bucket}/nightly/prod");
    let client = db.client().await;
    // About 25 MB of random hex: more than one 8 MiB part once compressed.
    client
        .batch_execute(
            "CREATE TABLE noise (id int PRIMARY KEY, hex text);
             INSERT INTO noise SELECT g, md5(g::text || random()::text) FROM generate_series(1, 700000) g;
             INSERT INTO noise VALUES (0, 'marker-s3-7d865e959b2466918c9863afca942d0f');",
        )
        .await
        .unwrap();
    let recipient = keygen(&project, &db);
    let created = schemactl_s3(
        &project,
        &db,
        &[
            "backup",
            "create",
            "--store",
            &store,
            "--recipient",
            &recipient,
            "--format",
            "json",
        ],
    );
    let created = created.expect_code(0).json();
    let id = created["backup"]["id"].as_str().unwrap().to_string();
    assert!(
        created["backup"]["size_bytes"].as_u64().unwrap() > 8 << 20,
        "{created}"
    );
    // In the bucket, under the prefix: encrypted files and the manifest.
    let (status, dump) = s3::http(
        "GET",
        &format!("/{bucket}/nightly/prod/{id}/postgres.dump.zst.age"),
        b"",
    );
    assert_eq!(status, 200);
    assert!(dump.len() > 8 << 20);
    assert!(!String::from_utf8_lossy(&dump).contains("marker-s3-"));
    let listed = schemactl_s3(
        &project,
        &db,
        &["backup", "list", "--store", &store, "--format", "json"],
    );
    let listed = listed.expect_code(0).json();
    assert_eq!(listed["backups"].as_array().unwrap().len(), 1, "{listed}");
    let admin = server().admin_url();
    let verified = schemactl_s3(
        &project,
        &db,
        &[
            "backup",
            "verify",
            "latest",
            "--store",
            &store,
            "--identity",
            "key.txt",
            "--dev-url",
            &admin,
            "--format",
            "json",
        ],
    );
    let verified = verified.expect_code(0).json();
    assert_eq!(verified["ok"], true, "{verified}");
    let fresh = server().database().await;
    let restored = schemactl_s3(
        &project,
        &db,
        &[
            "backup",
            "restore",
            &id,
            "--store",
            &store,
            "--identity",
            "key.txt",
            "--database-url",
            &fresh.url,
            "--format",
            "json",
        ],
    );
    assert_eq!(restored.expect_code(0).json()["ok"], true);
    let rows: i64 = fresh
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM noise WHERE hex LIKE 'marker-s3-%' OR id > 0",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 700_001);
    // A changed object fails verify, naming it.
    let schema = format!("/{bucket}/nightly/prod/{id}/schema.json.zst.age");
    let (status, _) = s3::http("PUT", &schema, b"not what was written");
    assert_eq!(status, 200);
    let tampered = schemactl_s3(
        &project,
        &db,
        &[
            "backup",
            "verify",
            &id,
            "--store",
            &store,
            "--identity",
            "key.txt",
            "--dev-url",
            &admin,
        ],
    );
    assert_eq!(tampered.code, 1, "{}", tampered.output());
    assert!(
        tampered.output().contains("schema.json.zst.age"),
        "{}",
        tampered.output()
    );
    // Prune deletes the manifest and every object of the backup.
    let second = schemactl_s3(
        &project,
        &db,
        &[
            "backup",
            "create",
            "--store",
            &store,
            "--recipient",
            &recipient,
            "--format",
            "json",
        ],
    );
    second.expect_code(0);
    let pruned = schemactl_s3(
        &project,
        &db,
        &[
            "backup",
            "prune",
            "--store",
            &store,
            "--keep-last",
            "1",
            "--format",
            "json",
        ],
    );
    let pruned = pruned.expect_code(0).json();
    assert_eq!(pruned["deleted"][0]["id"], id.as_str(), "{pruned}");
    let (_, listing) = s3::http("GET", &format!("/{bucket}?prefix=nightly/prod/{id}/"), b"");
    assert!(
        !String::from_utf8_lossy(&listing).contains("<Key>"),
        "{}",
        String::from_utf8_lossy(&listing)
    );
}

#[tokio::test]
async fn destroyed_data_goes_to_the_bucket_and_comes_back() {
    let db = server().database().await;
    let project = Project::new();
    let bucket = s3::bucket();
    project
        .write("0001_t.up.sql", "CREATE TABLE t (id int PRIMARY KEY, gone text);\nINSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 25) g;\n")
        .write("0001_t.down.sql", "DROP TABLE t;\n")
        .write("0002_drop.up.sql", "ALTER TABLE t DROP COLUMN gone;\n")
        .write("0002_drop.down.sql", "ALTER TABLE t ADD COLUMN gone text;\n");
    let recipient = keygen(&project, &db);
    std::fs::write(
        project.path().join("schemactl.toml"),
        format!("[backup]\nstore = \"s3://{bucket}/pre\"\nrecipients = [\"{recipient}\"]\n"),
    )
    .unwrap();
    let migrated = schemactl_s3(&project, &db, &["migrate", "--format", "json"]);
    let migrated = migrated.expect_code(0).json();
    assert_eq!(migrated["data_backups"][0]["version"], "2", "{migrated}");
    let rolled = schemactl_s3(
        &project,
        &db,
        &["rollback", "--restore-data", "--identity", "key.txt"],
    );
    assert!(
        rolled
            .expect_code(0)
            .output()
            .contains("25 rows of public.t put back"),
        "{}",
        rolled.output()
    );
    let back: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM t WHERE gone = 'v' || id", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(back, 25);
}

#[tokio::test]
async fn an_unreachable_or_unknown_bucket_is_a_clear_error() {
    let db = server().database().await;
    let project = Project::new();
    let missing = schemactl_s3(
        &project,
        &db,
        &[
            "backup",
            "list",
            "--store",
            "s3://no-such-bucket-schemactl/x",
        ],
    );
    assert_ne!(missing.code, 0);
    assert!(
        missing.output().contains("s3://no-such-bucket-schemactl/x"),
        "{}",
        missing.output()
    );
    assert!(
        !missing.output().contains("schemactl-test-secret"),
        "{}",
        missing.output()
    );
}
