//! The MongoDB history: every applied spec is a document of
//! `<database>.schema_versions` (collection, per-collection version, checksum,
//! the full spec and the one it replaced, who, when, how long, the run), and
//! runs are serialised by a lock document in `<database>.schema_versions_lock`
//! that expires, so that a killed process does not block deploys for ever.

use crate::Error;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::FindOneOptions;
use mongodb::Database;
use serde_json::Value;
use std::time::Duration;

/// The history collection.
pub const HISTORY: &str = "schema_versions";
/// The lock collection.
pub const LOCK: &str = "schema_versions_lock";

/// One recorded change of a collection.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Record {
    /// The collection.
    pub collection: String,
    /// 1, 2, … per collection.
    pub version: i64,
    /// `apply` or `rollback`.
    pub action: String,
    /// Checksum of the spec applied.
    pub checksum: String,
    /// The spec applied (canonical JSON).
    pub spec: Value,
    /// The spec it replaced (`None`: the collection was created).
    pub previous: Option<Value>,
    /// The run that applied it.
    pub run: String,
    /// Who.
    pub applied_by: String,
    /// When (RFC 3339).
    pub applied_at: String,
    /// How long, in ms.
    pub execution_ms: i64,
}

fn failed(context: &str) -> impl Fn(mongodb::error::Error) -> Error + '_ {
    move |e| Error::Database {
        context: context.to_string(),
        message: e.to_string(),
        sqlstate: None,
    }
}

/// The latest record of `collection`, if any.
pub async fn latest(database: &Database, collection: &str) -> Result<Option<Record>, Error> {
    let options = FindOneOptions::builder()
        .sort(doc! { "version": -1 })
        .build();
    let found = database
        .collection::<Document>(HISTORY)
        .find_one(doc! { "collection": collection })
        .with_options(options)
        .await
        .map_err(failed("cannot read schema_versions"))?;
    Ok(found.map(from_document))
}

/// The latest run recorded in `database`.
pub async fn latest_run(database: &Database) -> Result<Option<(String, DateTime)>, Error> {
    let options = FindOneOptions::builder()
        .sort(doc! { "applied_at": -1, "version": -1 })
        .build();
    let found = database
        .collection::<Document>(HISTORY)
        .find_one(doc! { "action": "apply" })
        .with_options(options)
        .await
        .map_err(failed("cannot read schema_versions"))?;
    Ok(found.and_then(|d| {
        Some((
            d.get_str("run").ok()?.to_string(),
            *d.get_datetime("applied_at").ok()?,
        ))
    }))
}

/// Records of `run` in `database`.
pub async fn of_run(database: &Database, run: &str) -> Result<Vec<Record>, Error> {
    let mut cursor = database
        .collection::<Document>(HISTORY)
        .find(doc! { "run": run, "action": "apply" })
        .await
        .map_err(failed("cannot read schema_versions"))?;
    let mut out = Vec::new();
    while cursor
        .advance()
        .await
        .map_err(failed("cannot read schema_versions"))?
    {
        let document = cursor
            .deserialize_current()
            .map_err(failed("cannot read schema_versions"))?;
        out.push(from_document(document));
    }
    Ok(out)
}

/// Appends a record.
#[allow(clippy::too_many_arguments)]
pub async fn append(
    database: &Database,
    collection: &str,
    action: &str,
    checksum: &str,
    spec: &Value,
    previous: Option<&Value>,
    run: &str,
    execution_ms: i64,
) -> Result<i64, Error> {
    let version = latest(database, collection)
        .await?
        .map_or(1, |r| r.version + 1);
    let json =
        |v: &Value| mongodb::bson::to_bson(&crate::mongo::spec::canonical(v)).unwrap_or_default();
    let record = doc! {
        "collection": collection,
        "version": version,
        "action": action,
        "checksum": checksum,
        "spec": json(spec),
        "previous": previous.map(json),
        "run": run,
        "applied_by": actor(),
        "applied_at": DateTime::now(),
        "execution_ms": execution_ms,
        "schemactl_version": crate::VERSION,
    };
    database
        .collection::<Document>(HISTORY)
        .insert_one(record)
        .await
        .map_err(failed("cannot record the change in schema_versions"))?;
    Ok(version)
}

fn from_document(d: Document) -> Record {
    let parse = |key: &str| {
        d.get_str(key)
            .ok()
            .and_then(|s| serde_json::from_str(s).ok())
    };
    Record {
        collection: d.get_str("collection").unwrap_or_default().into(),
        version: d
            .get_i64("version")
            .or_else(|_| d.get_i32("version").map(i64::from))
            .unwrap_or_default(),
        action: d.get_str("action").unwrap_or_default().into(),
        checksum: d.get_str("checksum").unwrap_or_default().into(),
        spec: parse("spec").unwrap_or(Value::Null),
        previous: parse("previous"),
        run: d.get_str("run").unwrap_or_default().into(),
        applied_by: d.get_str("applied_by").unwrap_or_default().into(),
        applied_at: d
            .get_datetime("applied_at")
            .map(|t| t.try_to_rfc3339_string().unwrap_or_default())
            .unwrap_or_default(),
        execution_ms: d.get_i64("execution_ms").unwrap_or_default(),
    }
}

/// `user@host` of the process.
pub fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    format!("{user}@{host}")
}

/// A held lock; release it with [`release`].
#[derive(Debug)]
pub struct Lock {
    owner: String,
}

/// Takes the lock of `database`, waiting up to `wait`. A lock whose expiry
/// has passed is taken over (its owner died).
pub async fn acquire(
    database: &Database,
    wait: Duration,
    ttl: Duration,
    on_wait: &mut (dyn FnMut(&str) + Send),
) -> Result<Lock, Error> {
    let owner = format!("{} pid {} run {}", actor(), std::process::id(), run_id());
    let locks = database.collection::<Document>(LOCK);
    let deadline = std::time::Instant::now() + wait;
    let mut told = false;
    loop {
        let expires =
            DateTime::from_millis(DateTime::now().timestamp_millis() + ttl.as_millis() as i64);
        let attempt = doc! { "_id": "migrate", "owner": &owner, "acquired_at": DateTime::now(), "expires_at": expires };
        match locks.insert_one(attempt.clone()).await {
            Ok(_) => return Ok(Lock { owner }),
            Err(e) if is_duplicate(&e) => {}
            Err(e) => return Err(failed("cannot take the MongoDB migration lock")(e)),
        }
        let current = locks
            .find_one(doc! { "_id": "migrate" })
            .await
            .map_err(failed("cannot read the MongoDB migration lock"))?;
        let Some(current) = current else {
            continue; // released just now: try again at once
        };
        let state = LockState::of(&current, ttl);
        if state.expired {
            // Compare and swap: take it over only if it is still the
            // document just read (another run may have been faster).
            let taken_over = locks
                .find_one_and_replace(current.clone(), attempt.clone())
                .await
                .map_err(failed("cannot take the MongoDB migration lock"))?;
            if taken_over.is_some() {
                if state.malformed {
                    on_wait(&format!(
                        "took over a MongoDB lock document of unexpected shape ({}), older than the lock TTL",
                        state.holder
                    ));
                }
                return Ok(Lock { owner });
            }
            continue;
        }
        if !told {
            on_wait(&state.holder);
            told = true;
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::MongoLockTimeout {
                database: database.name().to_string(),
                waited: wait,
                holder: state.holder,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a lock document says about its holder.
struct LockState {
    /// Who holds it, for messages.
    holder: String,
    /// Whether it may be taken over.
    expired: bool,
    /// Whether it is not the shape schemactl writes.
    malformed: bool,
}

impl LockState {
    /// A lock expires at its `expires_at`. A document of another shape (no
    /// date there) expires `ttl` after its `acquired_at`, or at once when it
    /// has no date at all: nothing says its owner is alive.
    fn of(lock: &Document, ttl: Duration) -> Self {
        let now = DateTime::now().timestamp_millis();
        let owner = match lock.get("owner") {
            Some(mongodb::bson::Bson::String(owner)) => owner.clone(),
            Some(other) => format!("an owner of unexpected type ({other})"),
            None => "no named owner".into(),
        };
        let expires = lock
            .get_datetime("expires_at")
            .ok()
            .map(|t| t.timestamp_millis());
        let acquired = lock
            .get_datetime("acquired_at")
            .ok()
            .map(|t| t.timestamp_millis());
        let (expiry, malformed) = match (expires, acquired) {
            (Some(expires), _) => (Some(expires), false),
            (None, Some(acquired)) => (Some(acquired + ttl.as_millis() as i64), true),
            (None, None) => (None, true),
        };
        let when = expiry
            .map(|ms| {
                DateTime::from_millis(ms)
                    .try_to_rfc3339_string()
                    .unwrap_or_default()
            })
            .unwrap_or_else(|| "never (no expires_at or acquired_at date)".into());
        let shape = if malformed {
            ", a lock document of unexpected shape"
        } else {
            ""
        };
        Self {
            holder: format!("{owner} (expires {when}{shape})"),
            expired: expiry.is_none_or(|ms| ms < now),
            malformed,
        }
    }
}

/// Releases a lock taken by [`acquire`].
pub async fn release(database: &Database, lock: Lock) -> Result<(), Error> {
    database
        .collection::<Document>(LOCK)
        .delete_one(doc! { "_id": "migrate", "owner": lock.owner })
        .await
        .map(drop)
        .map_err(failed("cannot release the MongoDB migration lock"))
}

fn is_duplicate(error: &mongodb::error::Error) -> bool {
    matches!(&*error.kind, mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) if w.code == 11000)
}

/// An id for this process's run.
pub fn run_id() -> String {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let now = DateTime::now().timestamp_millis();
        format!("{now}-{}", std::process::id())
    })
    .clone()
}
