//! The whole life of backups in one cloud's object store, the same for
//! every cloud: a backup larger than one upload part goes up encrypted
//! (read back with the cloud's own API, it holds no plain text of a known
//! row), is listed once whole, verified on a scratch database, restored
//! into a fresh one, and pruned.

use crate::support::cli::{command, run};
use crate::support::{server, Project, Run, TestDb};
use std::process::Command;

/// One cloud: its store URL and how a run and a reader reach it.
pub struct Cloud<'a> {
    /// `az://container/nightly`, `gs://bucket/nightly`…
    pub store: String,
    /// The standard environment a `schemactl` run is given.
    pub environment: fn(&mut Command) -> &mut Command,
    /// An object's bytes by its name under the container or bucket,
    /// read with the cloud's own API.
    pub download: &'a dyn Fn(&str) -> Vec<u8>,
}

impl Cloud<'_> {
    fn schemactl(&self, project: &Project, db: &TestDb, args: &[&str]) -> Run {
        let mut cli = command(project);
        (self.environment)(&mut cli)
            .env("DATABASE_URL", &db.url)
            .args(args);
        run(cli)
    }

    fn json(&self, project: &Project, db: &TestDb, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.extend(["--store", &self.store, "--format", "json"]);
        self.schemactl(project, db, &args).expect_code(0).json()
    }
}

/// Runs the whole cycle in `cloud`; `marker` is a row's text that must not
/// be readable in the bucket.
pub async fn whole_cycle(cloud: Cloud<'_>, marker: &str) {
    let db = server().database().await;
    let project = Project::new();
    db.client()
        .await
        .batch_execute(&format!(
            "CREATE TABLE noise (id int PRIMARY KEY, hex text);
             INSERT INTO noise SELECT g, md5(g::text || random()::text) FROM generate_series(1, 400000) g;
             INSERT INTO noise VALUES (0, '{marker}');"
        ))
        .await
        .unwrap();
    let keygen = cloud.schemactl(
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
    let create = || {
        cloud.json(
            &project,
            &db,
            &["backup", "create", "--recipient", &recipient],
        )
    };
    let created = create();
    let id = created["backup"]["id"].as_str().unwrap().to_string();
    assert!(
        created["backup"]["size_bytes"].as_u64().unwrap() > 8 << 20,
        "{created}"
    );
    // In the bucket, under the prefix, encrypted.
    let dump = (cloud.download)(&format!("nightly/{id}/postgres.dump.zst.age"));
    assert!(dump.len() > 8 << 20);
    assert!(!String::from_utf8_lossy(&dump).contains(marker));
    let listed = cloud.json(&project, &db, &["backup", "list"]);
    assert_eq!(listed["backups"].as_array().unwrap().len(), 1, "{listed}");
    let admin = server().admin_url();
    let verify = [
        "backup",
        "verify",
        "latest",
        "--identity",
        "key.txt",
        "--dev-url",
        &admin,
    ];
    assert_eq!(cloud.json(&project, &db, &verify)["ok"], true);
    let fresh = server().database().await;
    let restore = [
        "backup",
        "restore",
        &id,
        "--identity",
        "key.txt",
        "--database-url",
        &fresh.url,
    ];
    assert_eq!(cloud.json(&project, &db, &restore)["ok"], true);
    let rows: i64 = fresh.scalar("SELECT count(*) FROM noise").await;
    assert_eq!(rows, 400_001);
    // Prune deletes the older backup from the bucket.
    create();
    let pruned = cloud.json(&project, &db, &["backup", "prune", "--keep-last", "1"]);
    assert_eq!(pruned["deleted"][0]["id"], id.as_str());
    let listed = cloud.json(&project, &db, &["backup", "list"]);
    assert_eq!(listed["backups"].as_array().unwrap().len(), 1, "{listed}");
    assert_ne!(listed["backups"][0]["id"], id.as_str());
}
