//! The MongoDB side against a real MongoDB-wire server (SecantusDB, or a
//! real MongoDB with SCHEMACTL_TEST_MONGODB_URI).

use crate::support::cli::{command, run};
use crate::support::{mongo, server, Project, Run, TestDb};
use mongodb::bson::{doc, Document};

struct MongoProject {
    project: Project,
    db: TestDb,
    database: String,
}

impl MongoProject {
    async fn new() -> Self {
        Self {
            project: Project::new(),
            db: server().database().await,
            database: mongo::database(),
        }
    }

    fn spec(&self, collection: &str, json: &str) -> &Self {
        let dir = self.project.path().join("schemas").join(&self.database);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{collection}.json")), json).unwrap();
        self
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = command(&self.project);
        cmd.env("DATABASE_URL", &self.db.url)
            .env("MONGODB_URI", mongo::uri())
            .args(args);
        run(cmd)
    }

    /// The migration lock collection of this project's database.
    async fn locks(&self) -> mongodb::Collection<Document> {
        self.client()
            .await
            .collection::<Document>("schema_versions_lock")
    }

    async fn client(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(mongo::uri())
            .await
            .unwrap()
            .database(&self.database)
    }

    async fn indexes(&self, collection: &str) -> Vec<mongodb::bson::Bson> {
        let listed = self
            .client()
            .await
            .run_command(doc! { "listIndexes": collection })
            .await
            .unwrap();
        listed
            .get_document("cursor")
            .unwrap()
            .get_array("firstBatch")
            .unwrap()
            .clone()
    }

    async fn options(&self, collection: &str) -> Document {
        let listed = self
            .client()
            .await
            .run_command(doc! { "listCollections": 1, "filter": { "name": collection } })
            .await
            .unwrap();
        let batch = listed
            .get_document("cursor")
            .unwrap()
            .get_array("firstBatch")
            .unwrap();
        batch
            .first()
            .and_then(|b| b.as_document())
            .map(|d| d.get_document("options").unwrap().clone())
            .unwrap_or_default()
    }
}

/// A time `ms` milliseconds from now (negative: in the past).
fn from_now(ms: i64) -> mongodb::bson::DateTime {
    mongodb::bson::DateTime::from_millis(mongodb::bson::DateTime::now().timestamp_millis() + ms)
}

const USERS_V1: &str = r#"{
  "validator": { "$jsonSchema": { "bsonType": "object", "required": ["email"], "properties": { "email": { "bsonType": "string" } } } },
  "validationLevel": "strict",
  "validationAction": "error",
  "indexes": [ { "name": "email_1", "key": { "email": 1 }, "unique": true } ]
}"#;

const USERS_V2: &str = r#"{
  "validator": { "$jsonSchema": { "bsonType": "object", "required": ["email", "name"], "properties": { "email": { "bsonType": "string" }, "name": { "bsonType": "string" } } } },
  "validationLevel": "strict",
  "validationAction": "error",
  "indexes": [ { "name": "email_1", "key": { "email": 1 }, "unique": true }, { "name": "name_1", "key": { "name": 1 } } ]
}"#;

#[tokio::test]
async fn migrate_creates_the_collection_records_it_and_the_validator_bites() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    let first = p.run(&["migrate"]);
    first.expect_code(0);
    assert!(
        first
            .stdout
            .contains(&format!("{}.users (version 1)", p.database)),
        "{}",
        first.stdout
    );
    let database = p.client().await;
    let users = database.collection::<Document>("users");
    let error = users
        .insert_one(doc! { "name": "no email" })
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("121")
            || error.to_string().contains("Document failed validation"),
        "{error}"
    );
    users
        .insert_one(doc! { "email": "a@example.com" })
        .await
        .unwrap();
    let record = database
        .collection::<Document>("schema_versions")
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.get_str("collection").unwrap(), "users");
    assert_eq!(record.get_str("action").unwrap(), "apply");
    assert_eq!(record.get_str("checksum").unwrap().len(), 64);
    assert!(record.get_str("spec").unwrap().contains("email_1"));
    assert!(record.get_str("applied_by").unwrap().contains('@'));
    assert!(record.get_datetime("applied_at").is_ok());

    let again = p.run(&["migrate"]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("every collection is in sync"),
        "{}",
        again.stdout
    );
    let status = p.run(&["status"]);
    assert!(
        status.stdout.contains("in sync, version 1"),
        "{}",
        status.stdout
    );
}

#[tokio::test]
async fn reformatting_a_spec_changes_nothing() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    p.run(&["migrate"]).expect_code(0);
    let reordered = r#"{"indexes":[{"unique":true,"key":{"email":1},"name":"email_1"}],"validationAction":"error","validationLevel":"strict",
      "validator":{"$jsonSchema":{"properties":{"email":{"bsonType":"string"}},"required":["email"],"bsonType":"object"}}}"#;
    p.spec("users", reordered);
    assert!(p.run(&["status"]).stdout.contains("in sync"));
    assert!(p
        .run(&["migrate"])
        .stdout
        .contains("every collection is in sync"));
}

#[tokio::test]
async fn tightening_a_validator_over_violating_documents_is_refused_unless_allowed() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    p.run(&["migrate"]).expect_code(0);
    let users = p.client().await.collection::<Document>("users");
    users
        .insert_one(doc! { "_id": "u1", "email": "a@example.com" })
        .await
        .unwrap();
    users
        .insert_one(doc! { "_id": "u2", "email": "b@example.com", "name": "B" })
        .await
        .unwrap();
    p.spec("users", USERS_V2);
    let dry = p.run(&["migrate", "--dry-run"]);
    dry.expect_code(1);
    assert!(
        dry.stderr
            .contains("1 existing document(s) break the new validator (for example _id \"u1\")"),
        "{}",
        dry.stderr
    );
    let refused = p.run(&["migrate"]);
    refused.expect_code(1);
    let validator = p
        .options("users")
        .await
        .get_document("validator")
        .unwrap()
        .to_string();
    assert!(
        !validator.contains("name"),
        "a refused migrate changed the validator"
    );
    let dry = p.run(&["migrate", "--dry-run", "--allow-violations"]);
    dry.expect_code(0);
    assert!(
        dry.stdout.contains("would change 1 collection(s)") && dry.stdout.contains("\"collMod\""),
        "{}",
        dry.stdout
    );
    assert!(
        !p.options("users")
            .await
            .get_document("validator")
            .unwrap()
            .to_string()
            .contains("name"),
        "a dry run changed the validator"
    );
    p.run(&["migrate", "--allow-violations"]).expect_code(0);
    assert!(p
        .options("users")
        .await
        .get_document("validator")
        .unwrap()
        .to_string()
        .contains("name"));
}

#[tokio::test]
async fn drift_made_by_hand_is_shown_and_not_overwritten_silently() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    p.run(&["migrate"]).expect_code(0);
    p.client()
        .await
        .run_command(doc! { "collMod": "users", "validationAction": "warn" })
        .await
        .unwrap();
    let status = p.run(&["status"]);
    assert!(
        status.stdout.contains("DRIFTED (changed by hand)"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("-  \"validationAction\": \"error\"")
            && status.stdout.contains("+  \"validationAction\": \"warn\""),
        "{}",
        status.stdout
    );
    let refused = p.run(&["migrate"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("was changed by hand"),
        "{}",
        refused.stderr
    );
    p.run(&["migrate", "--overwrite-drift"]).expect_code(0);
    assert_eq!(
        p.options("users")
            .await
            .get_str("validationAction")
            .unwrap(),
        "error"
    );
}

#[tokio::test]
async fn dropping_an_index_needs_the_destructive_flag() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V2);
    p.run(&["migrate"]).expect_code(0);
    p.spec(
        "users",
        &USERS_V2.replace(r#", { "name": "name_1", "key": { "name": 1 } }"#, ""),
    );
    let refused = p.run(&["migrate"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains(
            "drop index name_1 of users (it is no longer in the spec); pass --allow-destructive"
        ),
        "{}",
        refused.stderr
    );
    p.run(&["migrate", "--allow-destructive"]).expect_code(0);
    let indexes = p
        .client()
        .await
        .run_command(doc! { "listIndexes": "users" })
        .await
        .unwrap()
        .to_string();
    assert!(!indexes.contains("name_1"), "{indexes}");
}

#[tokio::test]
async fn rollback_restores_the_previous_validator_and_indexes_exactly() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    p.run(&["migrate"]).expect_code(0);
    let before = p.options("users").await;
    let before_indexes = p.indexes("users").await;
    p.spec("users", USERS_V2);
    p.run(&["migrate"]).expect_code(0);
    assert_ne!(p.options("users").await, before);
    let label = format!("{}.users", p.database);
    p.run(&["rollback", "--collection", &label]).expect_code(0);
    assert_eq!(p.options("users").await, before);
    let after_indexes = p.indexes("users").await;
    assert_eq!(after_indexes, before_indexes);
    let status = p.run(&["status"]);
    assert!(
        status.stdout.contains("pending, version 3"),
        "{}",
        status.stdout
    );

    p.run(&["migrate"]).expect_code(0);
    let last_run = p.run(&["rollback", "--mongodb-last-run"]);
    last_run.expect_code(0);
    assert!(last_run.stdout.contains(&label), "{}", last_run.stdout);
    assert_eq!(p.options("users").await, before);
}

#[tokio::test]
async fn concurrent_migrates_apply_each_change_once() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1).spec(
        "orders",
        r#"{"indexes": [{"name": "customer_1", "key": {"customer": 1}}]}"#,
    );
    let runs = crate::support::cli::concurrently(3, || {
        let mut cmd = command(&p.project);
        cmd.env("DATABASE_URL", &p.db.url)
            .env("MONGODB_URI", mongo::uri())
            .arg("migrate");
        cmd
    });
    for r in &runs {
        r.expect_code(0);
    }
    let history = p.client().await.collection::<Document>("schema_versions");
    assert_eq!(history.count_documents(doc! {}).await.unwrap(), 2);
}

#[tokio::test]
async fn a_dead_runs_lock_expires_and_a_live_one_is_named() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    let locks = p.locks().await;
    let past = from_now(-60_000);
    locks
        .insert_one(doc! { "_id": "migrate", "owner": "ci@dead-host pid 1", "expires_at": past })
        .await
        .unwrap();
    p.run(&["migrate"]).expect_code(0);
    let future = from_now(600_000);
    locks
        .insert_one(
            doc! { "_id": "migrate", "owner": "deploy@other-host pid 7", "expires_at": future },
        )
        .await
        .unwrap();
    p.spec("users", USERS_V2);
    let refused = p.run(&["migrate", "--lock-wait", "1s", "--allow-violations"]);
    refused.expect_code(4);
    assert!(
        refused.stderr.contains("held by deploy@other-host pid 7"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn a_lock_document_of_unexpected_shape_is_named_and_taken_over_after_the_ttl() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    let locks = p.locks().await;
    // No expiry at all, a number for an owner: no run of schemactl wrote this.
    locks
        .insert_one(
            doc! { "_id": "migrate", "owner": 42, "acquired_at": mongodb::bson::DateTime::now() },
        )
        .await
        .unwrap();
    let refused = p.run(&["migrate", "--lock-wait", "1s"]);
    refused.expect_code(4);
    assert!(
        refused
            .stderr
            .contains("a lock document of unexpected shape"),
        "{}",
        refused.stderr
    );
    // Older than the lock TTL (10 minutes by default): taken over.
    let old = from_now(-11 * 60_000);
    locks
        .update_one(
            doc! { "_id": "migrate" },
            doc! { "$set": { "acquired_at": old } },
        )
        .await
        .unwrap();
    let run = p.run(&["migrate", "--lock-wait", "1s"]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("took over a MongoDB lock document of unexpected shape"),
        "{}",
        run.stderr
    );
    // Without any date it cannot be dated, and nothing says its owner lives.
    locks
        .insert_one(doc! { "_id": "migrate", "owner": "?" })
        .await
        .unwrap();
    p.spec("users", USERS_V2);
    p.run(&["migrate", "--lock-wait", "1s", "--allow-violations"])
        .expect_code(0);
}

#[tokio::test]
async fn invalid_specs_name_the_file_and_the_problem() {
    let p = MongoProject::new().await;
    p.spec("users", r#"{"validator": {"$jsonSchema": {"bsonType": "object", "properties": {"email": {"bsonType": "string", "format": "email"}}}}, "indexes": [{"key": {"a": 1}}]}"#);
    let run = p.run(&["migrate"]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains(&format!("schemas/{}/users.json", p.database)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`format` is not a keyword MongoDB's $jsonSchema accepts"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn verify_round_trips_the_specs_on_a_scratch_database() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    let admin = server().admin_url();
    let dev = mongo::dev_uri();
    let verify =
        |p: &MongoProject| p.run(&["verify", "--dev-url", &admin, "--mongodb-dev-uri", dev]);
    let run = verify(&p);
    run.expect_code(0);
    assert!(
        run.stdout.contains(&format!("ok   {}.users", p.database)),
        "{}",
        run.stdout
    );
    p.run(&["migrate"]).expect_code(0);
    p.spec("users", USERS_V2);
    verify(&p).expect_code(0);
    for uri in [mongo::uri(), dev] {
        assert_no_scratch_databases(uri).await;
    }
}

/// Fails when `uri`'s server holds a database `verify` left behind.
async fn assert_no_scratch_databases(uri: &str) {
    let names = mongodb::Client::with_uri_str(uri)
        .await
        .unwrap()
        .list_database_names()
        .await
        .unwrap();
    assert!(
        !names.iter().any(|n| n.starts_with("schemactl_verify_")),
        "scratch databases left on {uri}: {names:?}"
    );
}

#[tokio::test]
async fn verify_never_creates_scratch_databases_on_the_deploy_target() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    let admin = server().admin_url();
    let run = p.run(&["verify", "--dev-url", &admin]);
    run.expect_code(1);
    assert!(run.stderr.contains("--mongodb-dev-uri"), "{}", run.stderr);
    let same = mongo::uri().replace("127.0.0.1", "localhost");
    let run = p.run(&["verify", "--dev-url", &admin, "--mongodb-dev-uri", &same]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("names the deploy target"),
        "{}",
        run.stderr
    );
    assert_no_scratch_databases(mongo::uri()).await;
}

#[tokio::test]
async fn without_mongodb_the_sql_side_runs_alone_and_credentials_stay_hidden() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    // No SQL migration yet: the project's MongoDB specs make an empty
    // migrations directory expected.
    let mut cmd = command(&p.project);
    cmd.env("DATABASE_URL", &p.db.url).arg("status");
    let status = run(cmd);
    status.expect_code(0);
    assert!(
        status.stdout.contains("MongoDB: not configured"),
        "{}",
        status.stdout
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = format!(
        "mongodb://app:{}x@127.0.0.1:{closed}/?directConnection=true&serverSelectionTimeoutMS=500",
        crate::support::server::PASSWORD_PREFIX
    );
    let mut cmd = command(&p.project);
    cmd.env("DATABASE_URL", &p.db.url)
        .env("MONGODB_URI", &secret)
        .arg("status");
    let failed = run(cmd);
    failed.expect_code(2);
    assert!(
        failed.stderr.contains("mongodb://app:***@127.0.0.1"),
        "{}",
        failed.stderr
    );
}

#[tokio::test]
async fn one_refusal_names_every_flag_the_run_needs() {
    let p = MongoProject::new().await;
    p.spec("users", USERS_V1);
    p.run(&["migrate"]).expect_code(0);
    p.client()
        .await
        .collection::<Document>("users")
        .insert_one(doc! { "_id": "u1", "email": "a@example.com" })
        .await
        .unwrap();
    // A stricter validator (u1 has no name) and the unique index gone.
    p.spec(
        "users",
        &USERS_V2.replace(
            r#"{ "name": "email_1", "key": { "email": 1 }, "unique": true }, "#,
            "",
        ),
    );
    let refused = p.run(&["migrate"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains(
            "To apply all of it anyway: schemactl migrate --allow-destructive --allow-violations"
        ),
        "{}",
        refused.stderr
    );
}

/// `backup create` with MongoDB configured holds the collections `schemas/`
/// manages; `backup verify` restores them on the MongoDB development
/// server (documents, validator, indexes) and finds them equal, and finds
/// a tampered documents file.
#[tokio::test]
async fn a_backup_holds_the_managed_collections_and_verify_restores_them() {
    let p = MongoProject::new().await;
    p.spec(
        "agents",
        r#"{"validator": {"$jsonSchema": {"bsonType": "object", "required": ["name"], "properties": {"name": {"bsonType": "string"}}}},
            "indexes": [{"key": {"name": 1}, "name": "name_1", "unique": true}]}"#,
    );
    p.run(&["migrate"]).expect_code(0);
    let agents = p.client().await.collection::<Document>("agents");
    let documents: Vec<Document> = (0..2500)
        .map(|n| doc! { "name": format!("agent-{n}"), "n": n, "tags": ["a", "ü"], "nested": { "x": n * 2 } })
        .collect();
    agents.insert_many(documents).await.unwrap();
    let keygen = p.run(&[
        "backup", "keygen", "--output", "key.txt", "--format", "json",
    ]);
    let recipient = keygen.expect_code(0).json()["recipient"]
        .as_str()
        .unwrap()
        .to_string();
    let created = p.run(&[
        "backup",
        "create",
        "--store",
        "store",
        "--recipient",
        &recipient,
        "--format",
        "json",
    ]);
    let id = created.expect_code(0).json()["backup"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            p.project
                .path()
                .join("store")
                .join(&id)
                .join("manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let database = &manifest["mongodb"]["databases"][0];
    assert_eq!(database["name"], p.database.as_str());
    let collection = database["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "agents")
        .expect("agents backed up");
    assert_eq!(collection["documents"], 2500);
    let admin = server().admin_url();
    let verify = |p: &MongoProject| {
        p.run(&[
            "backup",
            "verify",
            "latest",
            "--store",
            "store",
            "--identity",
            "key.txt",
            "--dev-url",
            &admin,
            "--mongodb-dev-uri",
            mongo::dev_uri(),
            "--format",
            "json",
        ])
    };
    let verified = verify(&p);
    assert_eq!(
        verified.expect_code(0).json()["ok"],
        true,
        "{}",
        verified.output()
    );
    // Without a MongoDB development server, verify says which flag it needs.
    let no_dev = p.run(&[
        "backup",
        "verify",
        "latest",
        "--store",
        "store",
        "--identity",
        "key.txt",
        "--dev-url",
        &admin,
    ]);
    assert!(
        no_dev.expect_code(2).stderr.contains("--mongodb-dev-uri"),
        "{}",
        no_dev.stderr
    );
    // Exported: mongodump's layout, which mongorestore reads.
    p.run(&[
        "backup",
        "export",
        "latest",
        "--store",
        "store",
        "--identity",
        "key.txt",
        "--output",
        "plain",
    ])
    .expect_code(0);
    let dir = p.project.path().join("plain/mongodb").join(&p.database);
    let bson = std::fs::read(dir.join("agents.bson")).unwrap();
    let (mut at, mut count) = (0, 0);
    while at < bson.len() {
        let length = i32::from_le_bytes(bson[at..at + 4].try_into().unwrap()) as usize;
        mongodb::bson::Document::from_reader(&bson[at..at + length]).unwrap();
        at += length;
        count += 1;
    }
    assert_eq!(count, 2500);
    let metadata = std::fs::read_to_string(dir.join("agents.metadata.json")).unwrap();
    assert!(
        metadata.contains("name_1") && metadata.contains("$jsonSchema"),
        "{metadata}"
    );
    // Restored: into a fresh PostgreSQL database and another MongoDB server
    // (the deploy one, MONGODB_URI, is refused without the flag).
    let fresh = server().database().await;
    let restore = |p: &MongoProject, url: &str, extra: &[&str]| {
        let mut args = vec![
            "backup",
            "restore",
            "latest",
            "--store",
            "store",
            "--identity",
            "key.txt",
        ];
        args.extend(["--database-url", url]);
        args.extend(extra);
        p.run(&args)
    };
    let deploy = restore(&p, &fresh.url, &[]);
    assert!(
        deploy.expect_code(1).stderr.contains("deploy server"),
        "{}",
        deploy.stderr
    );
    let restored = restore(
        &p,
        &fresh.url,
        &["--mongodb-uri", mongo::dev_uri(), "--format", "json"],
    );
    assert_eq!(
        restored.expect_code(0).json()["ok"],
        true,
        "{}",
        restored.output()
    );
    let copy = mongodb::Client::with_uri_str(mongo::dev_uri())
        .await
        .unwrap()
        .database(&p.database);
    let count = copy
        .collection::<Document>("agents")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(count, 2500);
    let other = server().database().await;
    let again = restore(&p, &other.url, &["--mongodb-uri", mongo::dev_uri()]);
    assert!(
        again.expect_code(1).stderr.contains("exists"),
        "{}",
        again.stderr
    );
    restore(
        &p,
        &other.url,
        &["--mongodb-uri", mongo::dev_uri(), "--clean"],
    )
    .expect_code(0);
    let _ = copy.drop().await;
    // A documents file changed on disk is found.
    let file = p
        .project
        .path()
        .join("store")
        .join(&id)
        .join(collection["documents_file"].as_str().unwrap());
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();
    let tampered = verify(&p);
    assert_eq!(
        tampered.expect_code(1).json()["error"]["details"]["backup_problem"],
        "tampered"
    );
}
