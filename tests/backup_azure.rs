//! `schemactl backup` with an Azure Blob Storage store (`az://`), against
//! Azurite (the Azure Storage emulator, started by the harness): a backup
//! large enough to go up in several blocks is encrypted in the container,
//! listed once whole, verified, restored and pruned.

use crate::support::cli::{command, run};
use crate::support::{azure, server, Project, Run, TestDb};

/// Runs `schemactl` against `db` with the Azure environment.
fn schemactl_azure(project: &Project, db: &TestDb, args: &[&str]) -> Run {
    let mut cli = command(project);
    azure::environment(&mut cli)
        .env("DATABASE_URL", &db.url)
        .args(args);
    run(cli)
}

#[tokio::test]
async fn a_backup_in_azure_blob_storage_is_streamed_up_verified_restored_and_pruned() {
    let db = server().database().await;
    let project = Project::new();
    let container = azure::container();
    let store = format!("az://{container}/nightly");
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE noise (id int PRIMARY KEY, hex text);
             INSERT INTO noise SELECT g, md5(g::text || random()::text) FROM generate_series(1, 400000) g;
             INSERT INTO noise VALUES (0, 'marker-azure-0cc175b9c0f1b6a831c399e269772661');",
        )
        .await
        .unwrap();
    let keygen = schemactl_azure(
        &project,
        &db,
        &[
            "backup", "keygen", "--output", "key.txt", "--format", "json",
        ],
    );
    let recipient = keygen.expect_code(0).json()["recipient"]
        .as_str()
        .unwrap()
        .to_string();
    let create = |project: &Project| {
        schemactl_azure(
            project,
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
        )
    };
    let created = create(&project).expect_code(0).json();
    let id = created["backup"]["id"].as_str().unwrap().to_string();
    assert!(
        created["backup"]["size_bytes"].as_u64().unwrap() > 8 << 20,
        "{created}"
    );
    // In the container, under the prefix, encrypted.
    let dump = azure::download(&container, &format!("nightly/{id}/postgres.dump.zst.age"));
    assert!(dump.len() > 8 << 20);
    assert!(!String::from_utf8_lossy(&dump).contains("marker-azure-"));
    let listed = schemactl_azure(
        &project,
        &db,
        &["backup", "list", "--store", &store, "--format", "json"],
    );
    assert_eq!(
        listed.expect_code(0).json()["backups"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let admin = server().admin_url();
    let verified = schemactl_azure(
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
    assert_eq!(verified.expect_code(0).json()["ok"], true);
    let fresh = server().database().await;
    let restored = schemactl_azure(
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
    let rows: i64 = fresh.scalar("SELECT count(*) FROM noise").await;
    assert_eq!(rows, 400_001);
    // Prune deletes the older backup from the container.
    create(&project).expect_code(0);
    let pruned = schemactl_azure(
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
    assert_eq!(
        pruned.expect_code(0).json()["deleted"][0]["id"],
        id.as_str()
    );
    let listed = schemactl_azure(
        &project,
        &db,
        &["backup", "list", "--store", &store, "--format", "json"],
    );
    let listed = listed.expect_code(0).json();
    assert_eq!(listed["backups"].as_array().unwrap().len(), 1, "{listed}");
    assert_ne!(listed["backups"][0]["id"], id.as_str());
}
