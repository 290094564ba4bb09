//! The MongoDB side of `migrate`, `status`, `rollback` and `verify`: the
//! executor. It takes the lock of every database a run touches, reads what
//! the pure planner (`crate::mongo::plan`) needs, and runs what it
//! returns; nothing runs unless the whole plan is accepted.

use crate::config::Settings;
use crate::mongo::live::{self, Step};
use crate::mongo::plan::{self, Observed, Recorded};
use crate::mongo::spec::{self, canonical, checksum, CollectionSpec};
use crate::mongo::{history, MongoTarget};
use crate::runner::notice::Notice;
use crate::Error;
use mongodb::{Client, Database};
use serde_json::Value;
use similar::TextDiff;
use std::collections::BTreeMap;
use std::time::Instant;

use crate::mongo::report::Violations;
pub use crate::mongo::report::{
    CollectionChange, CollectionState, CollectionStatus, CollectionVerification, MongoOptions,
    MongoReport, RollbackTarget,
};

/// Connects to the configured server; `None` when MongoDB is not configured.
pub async fn connect(settings: &Settings) -> Result<Option<(MongoTarget, Client)>, Error> {
    let Some(uri) = &settings.mongodb.uri else {
        return Ok(None);
    };
    let target = MongoTarget::parse(uri)?;
    let client = target
        .connect_within(settings.connection.connect_timeout)
        .await?;
    Ok(Some((target, client)))
}

fn by_database(specs: &[CollectionSpec]) -> BTreeMap<&str, Vec<&CollectionSpec>> {
    let mut map: BTreeMap<&str, Vec<&CollectionSpec>> = BTreeMap::new();
    for spec in specs {
        map.entry(spec.database.as_str()).or_default().push(spec);
    }
    map
}

/// A command of a spec the server rejected: the file, the part of it
/// (JSON pointer) and the server's message.
fn rejected(path: &std::path::Path, step: &live::Step, error: &mongodb::error::Error) -> Error {
    Error::Database {
        context: match step.spec_path {
            "" => format!(
                "{}: the server rejected `{}`",
                path.display(),
                step.description
            ),
            at => format!(
                "{} (at {at}): the server rejected `{}`",
                path.display(),
                step.description
            ),
        },
        message: format!(
            "{}; fix that part of the file (`schemactl lint` checks what it can without a server)",
            live::server_message(error)
        ),
        sqlstate: None,
    }
}

fn mongo_error(context: String) -> impl Fn(mongodb::error::Error) -> Error {
    move |e| Error::Database {
        context: context.clone(),
        message: live::server_message(&e),
        sqlstate: None,
    }
}

/// Takes the MongoDB migration lock of each of `databases` (in name order,
/// so that two runs cannot deadlock); when one cannot be taken, those
/// already taken are released. A dry run takes none. (A helper taking the
/// body as an async closure would be shorter, but its future is not `Send`.)
async fn take_locks(
    client: &Client,
    databases: &[&str],
    settings: &Settings,
    dry_run: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<Vec<(Database, history::Lock)>, Error> {
    let mut held = Vec::new();
    if dry_run {
        return Ok(held);
    }
    for name in databases {
        let database = client.database(name);
        let mut told = |holder: &str| {
            notify(Notice::Info(&format!(
                "waiting for the MongoDB migration lock of {name}, held by {holder}"
            )))
        };
        match history::acquire(
            &database,
            settings.run.lock_wait,
            settings.mongodb.lock_ttl,
            &mut told,
        )
        .await
        {
            Ok(lock) => held.push((database, lock)),
            Err(e) => {
                let _ = release_locks(held, Ok(())).await;
                return Err(e);
            }
        }
    }
    Ok(held)
}

/// Releases every lock [`take_locks`] took, whatever the body returned.
async fn release_locks<T>(
    held: Vec<(Database, history::Lock)>,
    result: Result<T, Error>,
) -> Result<T, Error> {
    let mut released = Ok(());
    for (database, lock) in held.into_iter().rev() {
        if let Err(e) = history::release(&database, lock).await {
            released = Err(e);
        }
    }
    let value = result?;
    released.map(|()| value)
}

/// Applies the specs that differ from what is recorded: every database's
/// lock first, then the plan of all of them, then the commands.
pub async fn migrate(
    settings: &Settings,
    client: &Client,
    server: &str,
    options: MongoOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<MongoReport, Error> {
    let specs = spec::load_dir(&settings.project.schemas_dir)?;
    let databases = by_database(&specs);
    let names: Vec<&str> = databases.keys().copied().collect();
    let held = take_locks(client, &names, settings, options.dry_run, notify).await?;
    let result = async {
        let mut records = Vec::new();
        let mut lives = Vec::new();
        for spec in &specs {
            let database = client.database(&spec.database);
            records.push(history::latest(&database, &spec.collection).await?);
            lives.push(live::read(&database, &spec.collection).await?);
        }
        let mut observed = Vec::new();
        for ((spec, record), live) in specs.iter().zip(&records).zip(lives) {
            let recorded = record.as_ref().map(|r| Recorded {
                checksum: &r.checksum,
                spec: &r.spec,
            });
            let violations = if plan::needs_violation_count(spec, recorded, live.as_ref()) {
                count_violations(&client.database(&spec.database), spec).await?
            } else {
                None
            };
            observed.push(Observed {
                spec,
                recorded,
                live,
                violations,
            });
        }
        let planned = plan::plan_apply(observed, options)?;
        let mut changes = Vec::new();
        for change in planned {
            changes.push(apply_change(client, change, options.dry_run, notify).await?);
        }
        Ok(changes)
    }
    .await;
    let changes = release_locks(held, result).await?;
    Ok(MongoReport {
        server: server.to_string(),
        changes,
    })
}

/// Runs one planned change and records it (a dry run only reports it).
async fn apply_change(
    client: &Client,
    plan: plan::PlannedChange<'_>,
    dry_run: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<CollectionChange, Error> {
    let started = Instant::now();
    let database = client.database(&plan.spec.database);
    let mut change = CollectionChange {
        collection: plan.spec.label(),
        steps: plan.steps.clone(),
        violations: plan.violations.clone(),
        version: None,
        execution_ms: 0,
    };
    if dry_run {
        return Ok(change);
    }
    for step in &plan.steps {
        database
            .run_command(live::to_document(&step.command)?)
            .await
            .map_err(|e| rejected(&plan.spec.path, step, &e))?;
    }
    change.execution_ms = crate::model::duration::elapsed_ms(started);
    change.version = Some(
        history::append(
            &database,
            &plan.spec.collection,
            "apply",
            &plan.spec.checksum,
            &plan.spec.canonical,
            plan.live.as_ref(),
            &history::run_id(),
            change.execution_ms,
        )
        .await?,
    );
    notify(Notice::Done {
        action: "applied",
        label: &plan.spec.label(),
        execution_ms: change.execution_ms,
    });
    Ok(change)
}

/// Counts the documents the spec's validator would reject.
async fn count_violations(
    database: &Database,
    spec: &CollectionSpec,
) -> Result<Option<Violations>, Error> {
    let Some(validator) = spec.canonical.get("validator") else {
        return Ok(None);
    };
    let filter = live::to_document(&serde_json::json!({ "$nor": [validator] }))?;
    let collection = database.collection::<mongodb::bson::Document>(&spec.collection);
    let context = format!(
        "cannot count the documents of {} that break the new validator",
        spec.label()
    );
    let count = collection
        .count_documents(filter.clone())
        .await
        .map_err(mongo_error(context.clone()))?;
    let sample_id = if count > 0 {
        collection
            .find_one(filter)
            .await
            .map_err(mongo_error(context))?
            .and_then(|d| d.get("_id").cloned())
            .map(|id| id.into_relaxed_extjson().to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(Some(Violations { count, sample_id }))
}

/// The state of every collection with a spec.
pub async fn status(settings: &Settings, client: &Client) -> Result<Vec<CollectionStatus>, Error> {
    let specs = spec::load_dir(&settings.project.schemas_dir)?;
    let mut out = Vec::new();
    for spec in &specs {
        let database = client.database(&spec.database);
        let recorded = history::latest(&database, &spec.collection).await?;
        let live = live::read(&database, &spec.collection).await?;
        let state = plan::state(
            spec,
            recorded.as_ref().map(|r| Recorded {
                checksum: &r.checksum,
                spec: &r.spec,
            }),
            live.as_ref(),
        );
        let diff = match (&recorded, state) {
            (Some(r), CollectionState::Drifted) => Some(json_diff(
                &live::with_defaults(&r.spec),
                live.as_ref().unwrap_or(&Value::Null),
            )),
            _ => None,
        };
        out.push(CollectionStatus {
            collection: spec.label(),
            state,
            version: recorded.as_ref().map(|r| r.version),
            applied_at: recorded.map(|r| r.applied_at),
            diff,
        });
    }
    Ok(out)
}

fn json_diff(expected: &Value, actual: &Value) -> String {
    let pretty = |v: &Value| {
        serde_json::to_string_pretty(
            &serde_json::from_str::<Value>(&canonical(v)).unwrap_or(Value::Null),
        )
        .unwrap_or_default()
            + "\n"
    };
    let (old, new) = (pretty(expected), pretty(actual));
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("recorded", "live")
        .to_string()
}

/// Restores the previously recorded spec of the chosen collections: the
/// lock of every database involved first, then the records are chosen and
/// every restore planned (a refusal changes nothing), then the commands run.
pub async fn rollback(
    settings: &Settings,
    client: &Client,
    server: &str,
    target: &RollbackTarget,
    options: MongoOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<MongoReport, Error> {
    let specs = spec::load_dir(&settings.project.schemas_dir)?;
    let mut databases: Vec<String> = match target {
        RollbackTarget::Collection(label) => vec![label
            .split_once('.')
            .map(|(d, _)| d.to_string())
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "--collection {label}: write it as database.collection"
                ))
            })?],
        RollbackTarget::LastRun => specs.iter().map(|s| s.database.clone()).collect(),
    };
    databases.sort_unstable();
    databases.dedup();
    let names: Vec<&str> = databases.iter().map(String::as_str).collect();
    let held = take_locks(client, &names, settings, options.dry_run, notify).await?;
    let result = async {
        let chosen = choose_records(client, target, &databases).await?;
        let mut planned = Vec::new();
        let mut refusals = Vec::new();
        for (db, record) in chosen {
            let label = format!("{db}.{}", record.collection);
            let live = live::read(&client.database(&db), &record.collection).await?;
            match plan::plan_restore(
                &label,
                &record.collection,
                live.as_ref(),
                record.previous.as_ref(),
                options.allow_destructive,
            ) {
                Ok(steps) => planned.push((db, label, record, steps)),
                Err(refusal) => refusals.push(refusal),
            }
        }
        if !refusals.is_empty() {
            return Err(Error::refused(
                crate::error::refusal::RefusalKind::MongoPlan,
                refusals.join("\n"),
            ));
        }
        let mut changes = Vec::new();
        for (db, label, record, steps) in planned {
            let started = Instant::now();
            let database = client.database(&db);
            let mut change = CollectionChange {
                collection: label.clone(),
                steps: steps.clone(),
                violations: None,
                version: None,
                execution_ms: 0,
            };
            if !options.dry_run {
                for step in &steps {
                    database
                        .run_command(live::to_document(&step.command)?)
                        .await
                        .map_err(mongo_error(format!("{label}: {} failed", step.description)))?;
                }
                change.execution_ms = crate::model::duration::elapsed_ms(started);
                let restored = record.previous.clone().unwrap_or(Value::Null);
                change.version = Some(
                    history::append(
                        &database,
                        &record.collection,
                        "rollback",
                        &checksum(&restored),
                        &restored,
                        Some(&record.spec),
                        &history::run_id(),
                        change.execution_ms,
                    )
                    .await?,
                );
                notify(Notice::Done {
                    action: "rolled back",
                    label: &label,
                    execution_ms: change.execution_ms,
                });
            }
            changes.push(change);
        }
        Ok(changes)
    }
    .await;
    let changes = release_locks(held, result).await?;
    Ok(MongoReport {
        server: server.to_string(),
        changes,
    })
}

/// The records `rollback` undoes, read under the locks: the collection's
/// latest, or every record of the latest run that is still its
/// collection's latest.
async fn choose_records(
    client: &Client,
    target: &RollbackTarget,
    databases: &[String],
) -> Result<Vec<(String, history::Record)>, Error> {
    let mut chosen = Vec::new();
    match target {
        RollbackTarget::Collection(label) => {
            let (db, collection) = label.split_once('.').unwrap_or_default();
            let record = history::latest(&client.database(db), collection)
                .await?
                .ok_or_else(|| {
                    Error::refused(
                        crate::error::refusal::RefusalKind::MongoPlan,
                        format!("{label} has no recorded spec; nothing to roll back"),
                    )
                })?;
            chosen.push((db.to_string(), record));
        }
        RollbackTarget::LastRun => {
            let mut latest: Option<(String, mongodb::bson::DateTime)> = None;
            for db in databases {
                if let Some((run, at)) = history::latest_run(&client.database(db)).await? {
                    if latest.as_ref().is_none_or(|(_, t)| at > *t) {
                        latest = Some((run, at));
                    }
                }
            }
            let Some((run, _)) = latest else {
                return Err(Error::refused(
                    crate::error::refusal::RefusalKind::MongoPlan,
                    "no MongoDB run is recorded; nothing to roll back".into(),
                ));
            };
            for db in databases {
                for record in history::of_run(&client.database(db), &run).await? {
                    let newest = history::latest(&client.database(db), &record.collection).await?;
                    if newest.is_some_and(|n| n.version == record.version) {
                        chosen.push((db.clone(), record));
                    }
                }
            }
        }
    }
    Ok(chosen)
}

/// Verifies each spec's change on a scratch database: establish the recorded
/// spec (or nothing), apply the file, check the server has exactly the file's
/// spec, roll back, check the server is back to where it was.
///
/// Scratch databases are created and dropped on `dev` only, the server of
/// `--mongodb-dev-uri`; the deploy target, when given, is only read (the
/// recorded spec each collection is rolled back to). A scratch database
/// that cannot be dropped is reported, with the command that drops it.
pub async fn verify(
    settings: &Settings,
    dev: &Client,
    deployed: Option<&Client>,
) -> Result<Vec<CollectionVerification>, Error> {
    let specs = spec::load_dir(&settings.project.schemas_dir)?;
    let mut out = Vec::new();
    for spec in &specs {
        let recorded = match deployed {
            Some(client) => history::latest(&client.database(&spec.database), &spec.collection)
                .await?
                .map(|r| r.spec),
            None => None,
        };
        let scratch_name: String =
            format!("schemactl_verify_{}_{}", std::process::id(), spec.database)
                .chars()
                .take(60)
                .collect();
        let scratch = dev.database(&scratch_name);
        let result = round_trip(&scratch, spec, recorded.as_ref()).await;
        let dropped = scratch.drop().await;
        let mut problem = result?;
        if let Err(e) = dropped {
            let note = format!(
                "the scratch database {scratch_name} could not be dropped ({}); drop it by hand: \
                 mongosh --eval 'db.getSiblingDB(\"{scratch_name}\").dropDatabase()'",
                scrub_error(&e, settings)
            );
            problem = Some(match problem {
                Some(found) => format!("{found}; {note}"),
                None => note,
            });
        }
        out.push(CollectionVerification {
            collection: spec.label(),
            ok: problem.is_none(),
            problem,
        });
    }
    Ok(out)
}

/// The development server MongoDB `verify` creates scratch databases on:
/// `--mongodb-dev-uri` (or `[verify] mongodb_dev_uri`), never the deploy
/// target. `None` when neither MongoDB URI is configured.
pub(crate) async fn connect_dev(settings: &Settings) -> Result<Option<Client>, Error> {
    let Some(uri) = &settings.verify.mongodb_dev_uri else {
        if settings.mongodb.uri.is_some() {
            return Err(Error::refused(crate::error::refusal::RefusalKind::ScratchServer,
                "MongoDB verify creates and drops scratch databases, so it runs on a development server only, never on MONGODB_URI: \
                 give one with --mongodb-dev-uri (or `[verify] mongodb_dev_uri` in schemactl.toml)"
                    .into(),
            ));
        }
        return Ok(None);
    };
    let dev = MongoTarget::parse(uri)?;
    if let Some(deploy) = &settings.mongodb.uri {
        let deploy = MongoTarget::parse(deploy)?;
        if dev.same_servers(&deploy) {
            return Err(Error::refused(crate::error::refusal::RefusalKind::ScratchServer, format!(
                "--mongodb-dev-uri names the deploy target ({}); verify never creates scratch databases there: give a development server",
                deploy.display()
            )));
        }
    }
    Ok(Some(
        dev.connect_within(settings.connection.connect_timeout)
            .await?,
    ))
}

fn scrub_error(error: &mongodb::error::Error, settings: &Settings) -> String {
    let mut message = error.to_string();
    for uri in [&settings.mongodb.uri, &settings.verify.mongodb_dev_uri]
        .into_iter()
        .flatten()
    {
        message = crate::mongo::connection::scrub(&message, uri);
    }
    message
}

async fn round_trip(
    scratch: &Database,
    spec: &CollectionSpec,
    before: Option<&Value>,
) -> Result<Option<String>, Error> {
    let run = |steps: Vec<Step>| async move {
        for step in steps {
            scratch
                .run_command(live::to_document(&step.command)?)
                .await
                .map_err(|e| rejected(&spec.path, &step, &e))?;
        }
        Ok::<(), Error>(())
    };
    if let Some(before) = before {
        run(live::plan(&spec.collection, None, before)).await?;
    }
    let initial = live::read(scratch, &spec.collection).await?;
    if let Err(e) = run(live::plan(
        &spec.collection,
        initial.as_ref(),
        &spec.canonical,
    ))
    .await
    {
        return Ok(Some(format!("applying the spec fails: {e}")));
    }
    let applied = live::read(scratch, &spec.collection)
        .await?
        .unwrap_or(Value::Null);
    if !live::matches(&applied, &spec.canonical) {
        return Ok(Some(format!(
            "the server does not hold the spec after applying it:\n{}",
            json_diff(&live::with_defaults(&spec.canonical), &applied)
        )));
    }
    let back = match before {
        Some(before) => live::plan(&spec.collection, Some(&applied), before),
        None => vec![Step {
            description: "drop".into(),
            spec_path: "",
            command: serde_json::json!({ "drop": spec.collection }),
            destructive: true,
        }],
    };
    if let Err(e) = run(back).await {
        return Ok(Some(format!("rolling back fails: {e}")));
    }
    let restored = live::read(scratch, &spec.collection).await?;
    if restored.as_ref().map(canonical) != initial.as_ref().map(canonical) {
        return Ok(Some(format!(
            "rolling back does not restore the collection:\n{}",
            json_diff(
                initial.as_ref().unwrap_or(&Value::Null),
                restored.as_ref().unwrap_or(&Value::Null)
            )
        )));
    }
    Ok(None)
}
