//! `schemactl fleet migrate | status | validate | rollback | diff`: one
//! verb over every target of a fleet (see [`crate::fleet`]). Each target
//! gets exactly the single-database run (lock, history, checks); what is
//! added is the target list, the waves, the ledger and the split into
//! shards.

use crate::catalog::dump::history_tables;
use crate::catalog::{reading, Snapshot, Tolerance};
use crate::config::Settings;
use crate::fleet::ledger::{LedgerEntry, TargetState};
use crate::fleet::report::Summary;
use crate::fleet::{
    targets, FleetReport, Ledger, LedgerStore, ListRules, Outcome, Shard, Target, TargetResult,
    TargetSpec, Waves,
};
use crate::model::identifier::Identifier;
use crate::model::plan::{MigrateOptions, RollbackTarget, State};
use crate::model::Version;
use crate::postgres::scratch::ScratchDatabase;
use crate::runner::notice::Notice;
use crate::runner::session::dev_target;
use crate::source::{Directory, Preloaded};
use crate::verify::diff::{replay_of, replay_onto, report as drift_report};
use crate::{Error, Migrator};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Mutex;

/// Which targets, and how to run them.
#[derive(Debug, Clone)]
pub struct FleetRequest {
    /// Where the targets are listed.
    pub spec: TargetSpec,
    /// An empty target list is a run over nothing that succeeds
    /// (`--allow-empty`), not an error.
    pub allow_empty: bool,
    /// System schemas (`public`, `pg_*`, `information_schema`) a tenant
    /// list may name, each named explicitly (`--allow-system-schema`).
    pub system_schemas: Vec<String>,
    /// The control database (target queries, ledger), if any.
    pub control_url: Option<String>,
    /// How many targets run at once (each with its own connection).
    pub concurrency: usize,
    /// `migrate` and `rollback`: how many targets (the first of the list)
    /// run first; the rest start only if every one of them succeeded.
    pub canary: usize,
    /// `migrate` and `rollback`: after this many failed targets no new one
    /// starts (those running finish); 0: never stop.
    pub max_failures: usize,
    /// This process's share of the targets.
    pub shard: Option<Shard>,
    /// The run to resume.
    pub resume: Option<String>,
    /// Where ledgers go when there is no control database.
    pub ledger_dir: std::path::PathBuf,
    /// Set it (from a signal handler, say) to stop starting new targets:
    /// those running finish, the rest are reported `not-run`.
    pub stop: Arc<AtomicBool>,
}

impl FleetRequest {
    /// The targets listed, checked against the list rules, this
    /// process's share of them when sharded.
    async fn targets(&self, settings: &Settings) -> Result<Vec<Target>, Error> {
        let rules = ListRules {
            allow_empty: self.allow_empty,
            system_schemas: self.system_schemas.clone(),
        };
        let mut targets = targets::resolve(
            &self.spec,
            &rules,
            self.control_url.as_deref(),
            settings.connection.connect_timeout,
        )
        .await?;
        if let Some(shard) = self.shard {
            targets.retain(|t| shard.owns(t.name()));
        }
        Ok(targets)
    }

    /// How `verb` proceeds: canaries and the failure limit only for the
    /// verbs that change targets; the others read every target.
    fn waves(&self, verb: &FleetVerb) -> Waves {
        if verb.changes_targets() {
            Waves {
                concurrency: self.concurrency,
                canary: self.canary,
                max_failures: self.max_failures,
            }
        } else {
            Waves::all(self.concurrency)
        }
    }
}

/// The verb run on each target.
#[derive(Debug, Clone)]
pub enum FleetVerb {
    /// Apply what is pending.
    Migrate {
        /// As for `migrate`.
        options: MigrateOptions,
        /// Change nothing; report what would be applied.
        dry_run: bool,
    },
    /// Read each target's state.
    Status {
        /// As for `status`.
        allow_out_of_order: bool,
    },
    /// Check that files and history agree on each target.
    Validate {
        /// Pending migrations fail a target too.
        fail_on_pending: bool,
        /// As for `validate`.
        allow_out_of_order: bool,
    },
    /// Undo migrations on each target.
    Rollback {
        /// How far.
        target: RollbackTarget,
        /// As for `rollback`.
        accept_changed_down: bool,
        /// Change nothing; report what would run.
        dry_run: bool,
    },
    /// Each target's drift from the schema its applied migrations give.
    Diff,
}

impl FleetVerb {
    /// The verb's name, as the ledger records it.
    pub fn name(&self) -> &'static str {
        match self {
            FleetVerb::Migrate { .. } => "migrate",
            FleetVerb::Status { .. } => "status",
            FleetVerb::Validate { .. } => "validate",
            FleetVerb::Rollback { .. } => "rollback",
            FleetVerb::Diff => "diff",
        }
    }

    fn changes_targets(&self) -> bool {
        matches!(
            self,
            FleetVerb::Migrate { dry_run: false, .. } | FleetVerb::Rollback { dry_run: false, .. }
        )
    }

    fn dry_run(&self) -> bool {
        matches!(
            self,
            FleetVerb::Migrate { dry_run: true, .. } | FleetVerb::Rollback { dry_run: true, .. }
        )
    }
}

impl FleetRequest {
    /// Runs `verb` over the fleet. `started` is told how many targets this
    /// process covers once they are known; `finished` about each target as
    /// it ends. An error is returned only for what stops the whole run (the
    /// target list, the migrations, the ledger); a target's failure is in
    /// its line of the report.
    pub async fn run(
        &self,
        settings: &Settings,
        verb: &FleetVerb,
        notify: &mut (dyn FnMut(Notice) + Send),
        started: &mut dyn FnMut(usize, &str),
        finished: &mut (dyn FnMut(&TargetResult) + Send),
    ) -> Result<FleetReport, Error> {
        fleet(settings, self, verb, notify, started, finished).await
    }
}

/// [`FleetRequest::run`].
async fn fleet(
    settings: &Settings,
    request: &FleetRequest,
    verb: &FleetVerb,
    notify: &mut (dyn FnMut(Notice) + Send),
    started: &mut dyn FnMut(usize, &str),
    finished: &mut (dyn FnMut(&TargetResult) + Send),
) -> Result<FleetReport, Error> {
    let begun = Instant::now();
    let (source, warnings) = Preloaded::read(&Directory::from_settings(settings))?;
    for warning in &warnings {
        notify(Notice::Warning(warning));
    }
    let targets = request.targets(settings).await?;
    let store = match &request.control_url {
        Some(url) => LedgerStore::Control(url.clone()),
        None => LedgerStore::Directory(request.ledger_dir.clone()),
    };
    let shard = request.shard.map(|s| s.to_string());
    let names: Vec<String> = targets.iter().map(|t| t.name().to_string()).collect();
    let (ledger, previous) = match &request.resume {
        Some(run) => {
            Ledger::resume(
                &store,
                run,
                verb.name(),
                shard.clone(),
                &names,
                settings.connection.connect_timeout,
            )
            .await?
        }
        None => (
            Ledger::start(
                &store,
                verb.name(),
                shard.clone(),
                &names,
                settings.connection.connect_timeout,
            )
            .await?,
            HashMap::new(),
        ),
    };
    started(targets.len(), ledger.run());
    let waves = request.waves(verb);
    let expected = ExpectedSchemas::default();
    let ledger = &ledger;
    let work = |target: Target, before: Option<LedgerEntry>| {
        let source = source.clone();
        let expected = &expected;
        async move {
            let settings = match target.settings(settings) {
                Ok(settings) => settings,
                Err(e) => return failure(&e),
            };
            let migrator = Migrator::configured(source.clone(), &settings);
            let note = match &before {
                Some(entry) if entry.state == TargetState::Done && verb.changes_targets() => {
                    ledger_disagreement(&migrator, entry).await
                }
                _ => None,
            };
            let outcome = run_verb(
                verb, &migrator, &settings, &source, &target, before, ledger, expected,
            )
            .await;
            let outcome = match outcome {
                Ok(outcome) => outcome,
                // The history is read again only where the target was
                // reached: an unreachable one would time out twice.
                Err(error @ (Error::Connect { .. } | Error::Tls(_))) => failure(&error),
                Err(error) => Outcome {
                    version: recorded_version(&migrator).await,
                    ..failure(&error)
                },
            };
            Outcome { note, ..outcome }
        }
    };
    let results = crate::fleet::waves::run(
        &targets,
        &previous,
        waves,
        ledger,
        work,
        finished,
        &request.stop,
    )
    .await;
    expected.drop_all().await;
    let results = results?;
    Ok(FleetReport {
        run: ledger.run().to_string(),
        verb: verb.name().to_string(),
        ledger: ledger.location(),
        shard,
        resumed: request.resume.clone(),
        dry_run: verb.dry_run(),
        interrupted: request.stop.load(Ordering::SeqCst),
        summary: Summary::of(&results),
        versions: FleetReport::count_versions(&results),
        targets: results,
        total_ms: crate::model::duration::elapsed_ms(begun),
    })
}

/// What one verb does on one target, as the target's outcome.
#[allow(clippy::too_many_arguments)]
async fn run_verb(
    verb: &FleetVerb,
    migrator: &Migrator<'_>,
    settings: &Settings,
    source: &Preloaded,
    target: &Target,
    before: Option<LedgerEntry>,
    ledger: &Ledger,
    expected: &ExpectedSchemas,
) -> Result<Outcome, Error> {
    match verb {
        FleetVerb::Migrate { options, dry_run } => migrator
            .run(options.clone(), *dry_run, &mut |_| {})
            .await
            .map(|report| Outcome {
                applied: if *dry_run {
                    report.planned.len()
                } else {
                    report.executed.len()
                },
                version: report.current_version.as_ref().map(ToString::to_string),
                details: pending_labels(&report),
                ..Outcome::default()
            }),
        // A target with a problem `status` would report fails, so
        // that the run's exit code says so.
        FleetVerb::Status { allow_out_of_order } => migrator
            .status(*allow_out_of_order, &mut |_| {})
            .await
            .map(|report| {
                let mut outcome = status_outcome(&report);
                if !report.problems.is_empty() {
                    outcome.failed = true;
                    outcome.error = Some(disagreement(&report, false));
                    outcome.exit_code = Some(crate::ExitCode::ProblemsFound);
                }
                outcome
            }),
        FleetVerb::Validate {
            fail_on_pending,
            allow_out_of_order,
        } => migrator
            .validate(*fail_on_pending, *allow_out_of_order, &mut |_| {})
            .await
            .map(|validation| {
                let mut outcome = status_outcome(&validation.report);
                if !validation.ok {
                    outcome.failed = true;
                    outcome.error = Some(disagreement(&validation.report, *fail_on_pending));
                    outcome.exit_code = Some(crate::ExitCode::ProblemsFound);
                }
                outcome
            }),
        FleetVerb::Rollback {
            target: how_far,
            accept_changed_down,
            dry_run,
        } => {
            let how = Undo {
                how_far,
                accept_changed_down: *accept_changed_down,
                dry_run: *dry_run,
            };
            rollback(migrator, &how, before, ledger, target.name()).await
        }
        FleetVerb::Diff => match crate::source::MigrationSource::load(source) {
            Ok(local) => drift(settings, &local, target, expected).await,
            Err(e) => Err(e),
        },
    }
}

/// A target's failure; a migration that failed after others of the same
/// run succeeded counts those (they are applied, and stay so).
fn failure(error: &Error) -> Outcome {
    Outcome {
        failed: true,
        applied: match error {
            Error::MigrationFailed(failure) => {
                failure.applied_before.len() + failure.rolled_back_before.len()
            }
            _ => 0,
        },
        error: Some(error.to_string()),
        exit_code: Some(error.exit_code()),
        details: match error {
            Error::MigrationFailed(failure) => serde_json::json!({
                "applied_before": failure.applied_before,
                "rolled_back_before": failure.rolled_back_before,
                "failed": failure.label,
            }),
            _ => serde_json::Value::Null,
        },
        ..Outcome::default()
    }
}

fn pending_labels(report: &crate::runner::RunReport) -> serde_json::Value {
    let labels: Vec<&str> = if report.dry_run {
        report.planned.iter().map(|p| p.label.as_str()).collect()
    } else {
        report.executed.iter().map(|e| e.label.as_str()).collect()
    };
    serde_json::json!({ "migrations": labels })
}

/// The versioned migrations a target's history records as done (whatever
/// their files say now).
fn recorded_versions(report: &crate::runner::StatusReport) -> Vec<&Version> {
    report
        .migrations
        .iter()
        .filter(|row| {
            matches!(
                row.state,
                State::Applied | State::Baselined | State::Modified | State::Missing
            ) && !row.version.is_repeatable()
        })
        .map(|row| &row.version)
        .collect()
}

/// What a resumed run found when the ledger had `entry`'s target finished
/// at a version its own history does not record (a ledger edited by hand,
/// or a target changed by someone else since): the target is re-checked
/// against the files either way, and the report says so.
async fn ledger_disagreement(migrator: &Migrator<'_>, entry: &LedgerEntry) -> Option<String> {
    let recorded = recorded_version(migrator).await;
    (recorded != entry.version).then(|| {
        format!(
            "the ledger had it finished at version {}, its history says {}: re-checked against the files",
            entry.version.as_deref().unwrap_or("(none)"),
            recorded.as_deref().unwrap_or("(none)")
        )
    })
}

/// The newest version a target's history records, read after a failure
/// (the failed migration aside); `None` when it cannot be read.
async fn recorded_version(migrator: &Migrator<'_>) -> Option<String> {
    let report = migrator.status(true, &mut |_| {}).await.ok()?;
    // As the history writes it (`3`, not the file's `0003`), like the
    // versions of the targets that succeeded.
    recorded_versions(&report).into_iter().max().map(|version| {
        version
            .as_integer()
            .map_or_else(|| version.to_string(), |integer| integer.to_string())
    })
}

fn status_outcome(report: &crate::runner::StatusReport) -> Outcome {
    let version = recorded_versions(report).into_iter().max();
    Outcome {
        version: version.map(ToString::to_string),
        details: serde_json::json!({
            "pending": report.pending(),
            "problems": report.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "invalid_indexes": report.invalid_indexes.len(),
        }),
        ..Outcome::default()
    }
}

fn disagreement(report: &crate::runner::StatusReport, fail_on_pending: bool) -> String {
    let mut parts: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    if !report.invalid_indexes.is_empty() {
        parts.push(format!(
            "{} INVALID index(es)",
            report.invalid_indexes.len()
        ));
    }
    let pending = report.pending();
    if fail_on_pending && !pending.is_empty() {
        parts.push(format!("{} pending: {}", pending.len(), pending.join(", ")));
    }
    parts.join("; ")
}

/// How a rollback goes, as asked.
struct Undo<'a> {
    how_far: &'a RollbackTarget,
    accept_changed_down: bool,
    dry_run: bool,
}

/// A rollback fixes, when the target starts, the version it goes back to,
/// and the ledger keeps it: a resumed `--steps 2` run undoes the same two
/// migrations, not two more.
async fn rollback(
    migrator: &Migrator<'_>,
    how: &Undo<'_>,
    before: Option<LedgerEntry>,
    ledger: &Ledger,
    name: &str,
) -> Result<Outcome, Error> {
    let Undo {
        how_far,
        accept_changed_down,
        dry_run,
    } = *how;
    let fixed = before
        .and_then(|entry| entry.rollback_to)
        .map(|text| Version::parse(&text));
    let to = match (fixed, how_far) {
        (Some(version), _) => version,
        (None, RollbackTarget::To(version)) => version.clone(),
        (None, RollbackTarget::Steps(steps)) => {
            // A failed row makes the rollback refuse anyway (as `rollback`).
            let status = migrator.status(true, &mut |_| {}).await?;
            let mut applied = recorded_versions(&status);
            applied.sort_by(|a, b| b.cmp(a));
            applied
                .get(*steps as usize)
                .map_or_else(|| Version::parse("0"), |v| (*v).clone())
        }
    };
    // Written before anything is undone: a run killed in the middle of
    // this target's rollback resumes towards the same version.
    ledger
        .record(&LedgerEntry::now(
            name,
            crate::fleet::TargetState::Running,
            Some(to.to_string()),
        ))
        .await?;
    let undone = migrator
        .undo(
            RollbackTarget::To(to.clone()),
            accept_changed_down,
            dry_run,
            &mut |_| {},
        )
        .await;
    let report = match undone {
        Ok(report) => report,
        // The version decided on is kept even when the rollback fails
        // half-way, so that a resumed run goes to the same place.
        Err(e) => {
            return Ok(Outcome {
                rollback_to: Some(to.to_string()),
                ..failure(&e)
            })
        }
    };
    Ok(Outcome {
        applied: if dry_run {
            report.planned.len()
        } else {
            report.executed.len()
        },
        version: report.current_version.as_ref().map(ToString::to_string),
        details: pending_labels(&report),
        rollback_to: Some(to.to_string()),
        ..Outcome::default()
    })
}

/// The schemas the applied migrations should give, replayed once per
/// distinct applied history on a scratch database of the dev server.
#[derive(Default)]
struct ExpectedSchemas {
    replays: Mutex<HashMap<String, Arc<Mutex<Replay>>>>,
}

/// One replay: its scratch database, and (schema-per-tenant) the name its
/// tenant schema has now, or why it could not be made.
#[derive(Default)]
struct Replay {
    scratch: Option<ScratchDatabase>,
    client: Option<tokio_postgres::Client>,
    snapshot: Option<Snapshot>,
    schema: Option<Identifier>,
    failure: Option<ReplayFailure>,
}

/// Why a replay could not be made, kept for every tenant that shares it.
enum ReplayFailure {
    Migration(Box<crate::MigrationFailure>),
    Other(String),
}

impl Replay {
    /// Creates the scratch database and replays `replay` onto it (in
    /// schema-per-tenant mode, into `target`'s schema).
    async fn prepare(
        &mut self,
        settings: &Settings,
        target: &Target,
        replay: &[&crate::model::Migration],
        excluded: &[String],
    ) -> Result<(), Error> {
        let dev = dev_target(&settings.verify, &settings.connection, &mut |_| {}).await?;
        let scratch = ScratchDatabase::create(&dev).await?;
        let mut connect_to = scratch.target().clone();
        if let Some(schema) = target.tenant_schema() {
            connect_to = connect_to.with_search_path(schema);
        }
        self.scratch = Some(scratch);
        let client = connect_to.connect().await?;
        replay_onto(&client, settings, replay).await?;
        self.schema = target.tenant_schema().cloned();
        if target.tenant_schema().is_none() {
            self.snapshot = Some(
                reading::snapshot(&client, excluded)
                    .await?
                    .without(&settings.verify.ignore, &settings.verify.exclude),
            );
        }
        self.client = Some(client);
        Ok(())
    }
}

impl ExpectedSchemas {
    async fn drop_all(&self) {
        let replays: Vec<Arc<Mutex<Replay>>> =
            self.replays.lock().await.drain().map(|(_, r)| r).collect();
        for replay in replays {
            let mut replay = replay.lock().await;
            replay.client = None;
            if let Some(scratch) = replay.scratch.take() {
                let _ = scratch.drop_database().await;
            }
        }
    }
}

/// One target's drift: its live schema against a replay of its applied
/// migrations (in schema-per-tenant mode, only its schema).
async fn drift(
    settings: &Settings,
    local: &[crate::model::Migration],
    target: &Target,
    expected: &ExpectedSchemas,
) -> Result<Outcome, Error> {
    let live = crate::runner::session::connect(&settings.connection, &mut |_| {}).await?;
    let applied = settings.run.history.read(&live.client).await?;
    let replay = replay_of(local, &applied)?;
    let excluded = history_tables(settings);
    let actual = match target.tenant_schema() {
        Some(schema) => reading::schema_snapshot(&live.client, &excluded, schema).await?,
        None => reading::snapshot(&live.client, &excluded).await?,
    }
    .without(&settings.verify.ignore, &settings.verify.exclude);
    let key: String = replay
        .iter()
        .map(|m| format!("{}:{};", m.version, m.up.checksum))
        .collect();
    let entry = {
        let mut replays = expected.replays.lock().await;
        Arc::clone(replays.entry(key).or_default())
    };
    let mut guard = entry.lock().await;
    let entry = &mut *guard;
    if entry.scratch.is_none() && entry.failure.is_none() {
        if let Err(error) = entry.prepare(settings, target, &replay, &excluded).await {
            entry.failure = Some(match &error {
                Error::ReplayFailed(failure) => ReplayFailure::Migration(failure.clone()),
                other => ReplayFailure::Other(other.to_string()),
            });
        }
    }
    // Every tenant at the same history shares the replay, and its failure.
    match &entry.failure {
        Some(ReplayFailure::Migration(failure)) => {
            return Err(Error::ReplayFailed(failure.clone()))
        }
        Some(ReplayFailure::Other(message)) => {
            return Err(Error::Database {
                context: "cannot replay the applied migrations on a scratch database".into(),
                message: message.clone(),
                sqlstate: None,
            })
        }
        None => {}
    }
    let expected_snapshot = match (target.tenant_schema(), &entry.snapshot) {
        (None, Some(snapshot)) => snapshot.clone(),
        (Some(schema), _) => {
            let client = entry
                .client
                .as_ref()
                .ok_or_else(|| Error::InvalidArgument("the replay's connection was lost".into()))?;
            // One replay serves every tenant at the same history: its
            // schema is renamed to each tenant's name in turn, so that the
            // catalog prints the same names on both sides.
            let current = &mut entry.schema;
            if current.as_ref() != Some(schema) {
                let from = current.clone().ok_or_else(|| {
                    Error::InvalidArgument("the replay has no tenant schema".into())
                })?;
                client
                    .batch_execute(&format!(
                        "ALTER SCHEMA {} RENAME TO {}",
                        from.quoted(),
                        schema.quoted()
                    ))
                    .await
                    .map_err(|e| Error::Database {
                        context: "cannot rename the replay's tenant schema".into(),
                        message: crate::postgres::describe(&e),
                        sqlstate: e.code().map(|c| c.code().to_string()),
                    })?;
                *current = Some(schema.clone());
            }
            reading::schema_snapshot(client, &excluded, schema)
                .await?
                .without(&settings.verify.ignore, &settings.verify.exclude)
        }
        (None, None) => return Err(Error::InvalidArgument("the replay has no snapshot".into())),
    };
    drop(guard);
    let report = drift_report(
        Tolerance::of(&settings.verify),
        format!("{} migrations replayed", replay.len()),
        live.target,
        &expected_snapshot,
        &actual,
    );
    let names: Vec<String> = report
        .differences
        .iter()
        .map(|d| format!("{} {}", d.object_kind, d.name))
        .collect();
    Ok(Outcome {
        failed: !names.is_empty(),
        version: applied
            .iter()
            .filter(|r| r.success && !r.version.is_repeatable())
            .map(|r| &r.version)
            .max()
            .map(ToString::to_string),
        error: (!names.is_empty()).then(|| {
            format!(
                "drift: {} difference(s): {}",
                names.len(),
                names.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            )
        }),
        exit_code: (!names.is_empty()).then_some(crate::ExitCode::ProblemsFound),
        details: serde_json::to_value(&report).unwrap_or_default(),
        ..Outcome::default()
    })
}
