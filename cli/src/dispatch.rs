//! The command dispatch: turns parsed arguments into library calls, prints
//! the reports, and maps errors to exit codes.

use crate::config::{FleetConfig, Overrides};
use crate::opt::{
    BackupAction, BaselineArgs, Command, Format, LintArgs, LintFormat, MigrateArgs, Opt,
    RepairArgs, RollbackArgs, ValidateArgs, VerifyArgs,
};
use crate::{backfill_progress, backup, fleet, lint, metrics_file, output, render, verbs};
use anyhow::Context;
use schemactl::config::Settings;
use schemactl::mongo::report::{MongoOptions, RollbackTarget as MongoRollbackTarget};
use schemactl::postgres::Tool;
use schemactl::runner::Notice;
use schemactl::runner::{BaselineSource, Repair};
use schemactl::runner::{MigrateOptions, RollbackTarget};
use schemactl::verify::Verifier;
use schemactl::{devserver, Error, ExitCode};
use std::io::IsTerminal;

/// Runs the command and returns the exit code.
/// `url_from_env`: the database URL came from `DATABASE_URL`, not the flag.
pub async fn run(mut opt: Opt, url_from_env: bool) -> Result<ExitCode, Error> {
    let global = opt.global;
    let metrics_file = global.metrics_file.clone();
    // For a fleet, the flag (never the file's `allow_empty`, which is about
    // the migrations directory) also accepts an empty target list.
    if let Command::Fleet { args, .. } = &mut opt.command {
        args.allow_empty_list = global.overrides.written.allow_empty == Some(true);
    }
    let choice = match global.color {
        crate::opt::ColorWhen::Auto => anstream::ColorChoice::Auto,
        crate::opt::ColorWhen::Always => anstream::ColorChoice::Always,
        crate::opt::ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    if let Some(exit) = run_without_settings(&opt.command)? {
        return Ok(exit);
    }
    let overrides = overrides_from(global, &opt.command, url_from_env);
    let crate::config::Resolved {
        mut settings,
        fleet: fleet_file,
    } = crate::config::resolve(overrides)?;
    if let Command::Migrate(MigrateArgs { backfill, .. })
    | Command::Rollback(RollbackArgs { backfill, .. })
    | Command::Fleet {
        action: crate::opt::FleetAction::Migrate { backfill, .. },
        ..
    } = &opt.command
    {
        apply_backfill_args(&mut settings.run.execution.backfill, backfill)?;
    }
    // verify and diff only need the server for scratch databases: one they
    // started is stopped again, as is one a failed command started.
    let scratch_only = matches!(
        opt.command,
        Command::Verify { .. }
            | Command::Diff { .. }
            | Command::Backup {
                action: BackupAction::Verify { .. },
                ..
            }
    );
    let metered = metrics_file.zip(metrics_file::command_label(&opt.command));
    let started = std::time::Instant::now();
    let result = dispatch(opt.command, &settings, &fleet_file).await;
    clear_progress();
    if let Some((path, command)) = metered {
        let database = settings
            .connection
            .url
            .as_deref()
            .and_then(|url| schemactl::postgres::DatabaseTarget::parse(url).ok())
            .map(|target| target.display().to_string())
            .unwrap_or_default();
        let success = matches!(result, Ok(ExitCode::Ok));
        metrics_file::write(&path, &command, &database, started.elapsed(), success);
    }
    if scratch_only || !matches!(result, Ok(ExitCode::Ok)) {
        stop_dev_server_started_here(&settings.project.dir);
    }
    result
}

/// The verbs that need neither settings nor a database (completions, man
/// pages, the book's reference pages): their exit, else `None`.
fn run_without_settings(command: &Command) -> Result<Option<ExitCode>, Error> {
    match command {
        Command::Completions { shell } => {
            let mut command = <Opt as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut command, "schemactl", &mut out);
            output::stdout(&String::from_utf8_lossy(&out));
            Ok(Some(ExitCode::Ok))
        }
        Command::Man { dir } => {
            let command = <Opt as clap::CommandFactory>::command();
            let cannot = |e: std::io::Error| {
                Error::InvalidArgument(format!("cannot write the man pages: {e}"))
            };
            match dir {
                // One page per command, so that SEE ALSO's names exist.
                Some(dir) => {
                    std::fs::create_dir_all(dir).map_err(cannot)?;
                    clap_mangen::generate_to(command, dir).map_err(cannot)?;
                }
                None => {
                    let mut out = Vec::new();
                    clap_mangen::Man::new(command)
                        .render(&mut out)
                        .map_err(cannot)?;
                    output::stdout(&String::from_utf8_lossy(&out));
                }
            }
            Ok(Some(ExitCode::Ok))
        }
        Command::Reference { dir } => {
            crate::reference::write_pages(dir).map_err(|e| {
                Error::InvalidArgument(format!("cannot write the reference pages: {e}"))
            })?;
            Ok(Some(ExitCode::Ok))
        }
        _ => Ok(None),
    }
}

/// The global flags and the verb's own store and recipient flags, as the
/// overrides the configuration file's values give way to.
fn overrides_from(
    global: crate::opt::GlobalArgs,
    command: &Command,
    url_from_env: bool,
) -> Overrides {
    let mut overrides = Overrides {
        database_url_source: Some(
            if url_from_env {
                "DATABASE_URL"
            } else {
                "--database-url"
            }
            .into(),
        ),
        dev_server: Some(global.dev || interactive_outside_ci()),
        discover_config_file: true,
        ..global.overrides
    };
    if let Command::Migrate(MigrateArgs { store, .. })
    | Command::Rollback(RollbackArgs { store, .. }) = command
    {
        overrides.written.backup.store = store.clone();
    }
    if let Command::Backup { store, action, .. } = command {
        overrides.written.backup.store = store.clone();
        if let BackupAction::Create { recipient, .. } = action {
            overrides.written.backup.recipients =
                Some(recipient.clone()).filter(|given| !given.is_empty());
        }
    }
    if let Command::Lint(LintArgs { table, .. }) = command {
        overrides.written.lint = table.clone();
    }
    overrides
}

/// `--phase expand|contract` (clap has checked the word).
pub(crate) fn phase_of(word: Option<&str>) -> Option<schemactl::model::phase::Phase> {
    match word {
        Some("expand") => Some(schemactl::model::phase::Phase::Expand),
        Some("contract") => Some(schemactl::model::phase::Phase::Contract),
        _ => None,
    }
}

/// `--batch-size`, `--batch-sleep`, `--replica-url` (checked here, so that
/// a typo fails before any migration runs), `--max-replication-lag`.
fn apply_backfill_args(
    backfill: &mut schemactl::config::BackfillSettings,
    args: &crate::opt::BackfillArgs,
) -> Result<(), Error> {
    if let Some(size) = args.batch_size {
        backfill.batch_size = size;
    }
    if let Some(pause) = args.batch_sleep {
        backfill.batch_sleep = pause;
    }
    if let Some(url) = &args.replica_url {
        schemactl::postgres::DatabaseTarget::parse(url)?;
        backfill.replica = Some(url.clone());
    }
    if let Some(lag) = args.max_replication_lag {
        backfill.max_replication_lag = lag;
    }
    Ok(())
}

/// Runs one command with resolved settings: one function per verb.
async fn dispatch(
    command: Command,
    settings: &Settings,
    fleet_file: &FleetConfig,
) -> Result<ExitCode, Error> {
    let terminal = std::io::stderr().is_terminal();
    // With --format json, a backfill's progress is a JSON line per batch.
    let json = matches!(
        &command,
        Command::Migrate(MigrateArgs {
            format: Format::Json,
            ..
        }) | Command::Rollback(RollbackArgs {
            format: Format::Json,
            ..
        })
    );
    let mut notify = move |notice: Notice| match notice {
        Notice::Backfill(status) if json => {
            backfill_progress::show(status, backfill_progress::Shown::Json)
        }
        notice => print_notice(&notice, terminal),
    };
    let notify: &mut (dyn FnMut(Notice) + Send) = &mut notify;
    match command {
        // Printed by `run` before any setting is read.
        Command::Completions { .. } | Command::Man { .. } | Command::Reference { .. } => {
            Ok(ExitCode::Ok)
        }
        Command::Migrate(args) => {
            let postgres = MigrateOptions {
                target: args.to,
                allow_out_of_order: args.allow_out_of_order,
                allow_non_empty: args.allow_non_empty,
                phase: phase_of(args.phase.as_deref()),
                release: args.release.clone(),
                previous_app: args
                    .previous_app_migrations
                    .as_deref()
                    .map(|dir| verbs::versions_in(settings, dir))
                    .transpose()?,
            };
            let mongodb = MongoOptions {
                dry_run: args.dry_run,
                allow_destructive: args.allow_destructive,
                allow_violations: args.allow_violations,
                overwrite_drift: args.overwrite_drift,
            };
            let mode = args.backup.parse().map_err(Error::InvalidArgument)?;
            let guard = schemactl::backup::DataGuard::configured(settings, mode)?;
            // `auto` without a store keeps nothing: said after the run.
            let unkept_said = mode == schemactl::backup::BackupMode::Auto && guard.is_none();
            let options = verbs::DeployOptions {
                postgres,
                mongodb,
                guard,
                unkept_said,
            };
            verbs::migrate(settings, options, args.format, notify).await
        }
        Command::Rollback(args) => rollback(settings, args, notify).await,
        Command::Status { format } => verbs::status(settings, format, notify).await,
        Command::Check {
            app_migrations,
            format,
        } => verbs::check(settings, app_migrations, format, notify).await,
        Command::Release { action, format } => {
            verbs::release(settings, action, format, notify).await
        }
        Command::Validate(args) => {
            let ValidateArgs {
                fail_on_pending,
                allow_out_of_order,
                format,
            } = args;
            verbs::validate(
                settings,
                fail_on_pending,
                allow_out_of_order,
                format,
                notify,
            )
            .await
        }
        Command::Baseline(args) => {
            let source = baseline_source(&args)?;
            verbs::baseline(settings, &source, args.dry_run, args.format, notify).await
        }
        Command::Repair(args) => {
            let repair = repair_of(&args)?;
            verbs::repair(settings, repair, args.format, notify).await
        }
        Command::Lint(args) => lint::lint(settings, &args, notify).await,
        Command::Dump { format } => verbs::dump(settings, format, notify).await,
        Command::Report(args) => crate::report::report(settings, &args, notify).await,
        Command::Verify(args) => {
            let verifier = Verifier::of_project(settings)
                .with_data(args.data)
                .with_locks(args.locks || args.format == Format::Json)
                .with_jobs(
                    args.jobs
                        .map_or_else(schemactl::verify::Verifier::default_jobs, usize::from),
                );
            let (from, verbose, format) = (args.from, args.verbose, args.format);
            verbs::verify(settings, &verifier, from, verbose, format, notify).await
        }
        Command::Diff { urls, format } => verbs::diff(settings, &urls, format, notify).await,
        Command::Fleet { args, action } => {
            fleet::fleet(settings, fleet_file, args, action, terminal, notify).await
        }
        Command::New { name, format } => verbs::new_migration(settings, &name, format),
        Command::Dev { action, format } => verbs::dev(settings, action, format),
        Command::Backup { action, format, .. } => {
            backup::backup(settings, action, format, notify).await
        }
    }
}

/// `rollback` of PostgreSQL migrations, or of MongoDB collections when one
/// (or the last run) is named.
async fn rollback(
    settings: &Settings,
    args: RollbackArgs,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let (dry_run, format) = (args.dry_run, args.format);
    if args.collection.is_some() || args.mongodb_last_run {
        let which = match args.collection {
            Some(label) => MongoRollbackTarget::Collection(label),
            None => MongoRollbackTarget::LastRun,
        };
        let options = MongoOptions {
            dry_run,
            allow_destructive: args.allow_destructive,
            ..Default::default()
        };
        return verbs::rollback_mongodb(settings, &which, options, format, notify).await;
    }
    let target = match args.to {
        Some(version) => RollbackTarget::To(version),
        None => RollbackTarget::Steps(args.steps.unwrap_or(1)),
    };
    let accept = args.accept_changed_down;
    let guard = match args.restore_data {
        false => None,
        true => {
            let Some(store) = settings.backup.store.as_deref() else {
                return Err(Error::InvalidArgument(
                    "--restore-data reads the backups `migrate --backup auto` kept: name their store with --store DIR or `[backup] store`".into(),
                ));
            };
            let identities = args
                .key
                .identity
                .as_deref()
                .map(schemactl::backup::Identities::read)
                .transpose()?;
            Some(schemactl::backup::DataGuard::for_rollback(
                schemactl::backup::Store::parse(store)?,
                identities,
            ))
        }
    };
    verbs::rollback(settings, target, accept, dry_run, guard, format, notify).await
}

/// What `baseline` records: up to a version, or another tool's history.
fn baseline_source(args: &BaselineArgs) -> Result<BaselineSource, Error> {
    let table = match &args.table {
        Some(name) => Some(
            schemactl::model::identifier::Identifier::parse(name)
                .map_err(Error::InvalidArgument)?,
        ),
        None => None,
    };
    let tool = match (args.from.as_deref(), args.from_refinery) {
        (_, true) => Some(Tool::Refinery),
        (Some("auto"), _) | (None, false) => None,
        (Some(name), _) => Some(name.parse::<Tool>().map_err(Error::InvalidArgument)?),
    };
    Ok(match &args.version {
        Some(version) => BaselineSource::UpTo {
            version: version.clone(),
            force: args.force,
        },
        None => BaselineSource::Foreign { tool, table },
    })
}

/// The one repair asked for (`remove_failed`, `mark_applied`,
/// `accept_checksum`, `forget`, in that order, else `forget_all`).
fn repair_of(args: &RepairArgs) -> Result<Repair, Error> {
    let versions = (
        &args.remove_failed,
        &args.mark_applied,
        &args.accept_checksum,
        &args.forget,
    );
    Ok(match versions {
        (Some(v), ..) => Repair::RemoveFailed(v.clone()),
        (_, Some(v), ..) => Repair::MarkApplied(v.clone()),
        (_, _, Some(v), _) => Repair::AcceptChecksum(v.clone()),
        (.., Some(v)) => Repair::Forget(v.clone()),
        _ if args.forget_all => Repair::ForgetAll,
        _ => {
            return Err(Error::InvalidArgument(
                "say what to repair; see `schemactl repair --help`".into(),
            ))
        }
    })
}

/// A person at a terminal, not a CI job: the only case in which the
/// development server is used without `--dev`.
fn interactive_outside_ci() -> bool {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    !ci && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Stops the development server when this process started it and the
/// command failed: a failed command leaves no server running behind it.
pub fn stop_dev_server_started_here(opt_project_dir: &std::path::Path) {
    if devserver::DevServer::started_here() {
        let _ = devserver::DevServer::of(opt_project_dir).stop();
    }
}

/// Whether the command asked for JSON (errors are then JSON too).
pub fn wants_json(opt: &Opt) -> bool {
    let format = match &opt.command {
        Command::Migrate(MigrateArgs { format, .. })
        | Command::Rollback(RollbackArgs { format, .. })
        | Command::Status { format, .. }
        | Command::Check { format, .. }
        | Command::Release { format, .. }
        | Command::Validate(ValidateArgs { format, .. })
        | Command::Baseline(BaselineArgs { format, .. })
        | Command::Repair(RepairArgs { format, .. })
        | Command::Verify(VerifyArgs { format, .. })
        | Command::Diff { format, .. }
        | Command::New { format, .. }
        | Command::Dev { format, .. }
        | Command::Backup { format, .. } => *format,
        Command::Fleet { args, .. } => args.format,
        Command::Dump { format } => return *format == crate::opt::DumpFormat::Json,
        Command::Lint(LintArgs { format, .. }) => {
            return matches!(
                format,
                LintFormat::Json | LintFormat::Sarif | LintFormat::Gitlab
            )
        }
        Command::Completions { .. }
        | Command::Man { .. }
        | Command::Reference { .. }
        | Command::Report(_) => return false,
    };
    format == Format::Json
}

/// Prints an error once: as text on stderr, or, when JSON was asked for,
/// as one JSON document on stdout (`{"error": {message, exit_code, details}}`).
pub fn report_error(error: &Error, json: bool) {
    if !json {
        output::stderr_line(&format!("error: {error}"));
        return;
    }
    print_json(&error_json(
        &error.to_string(),
        error.exit_code(),
        error_details(error),
    ));
}

/// The JSON document of an error: `{"error": {message, exit_code, details}}`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorDocument {
    /// What went wrong.
    pub error: ErrorBody,
}

/// The error itself.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The message, as the text output prints it.
    pub message: String,
    /// The exit code (see the exit codes page).
    pub exit_code: ExitCode,
    /// What a program needs, by kind of error: `context` and `sqlstate` for
    /// a failed query, `refusal` and `versions` for a refusal, `status`,
    /// `direction`, `outcome`, `blocked_by_locks` and `server_version` for a
    /// failed migration, `backup_problem` for a backup; null when there is
    /// nothing more.
    pub details: serde_json::Value,
}

/// The JSON document of an error.
pub fn error_json(message: &str, exit_code: ExitCode, details: serde_json::Value) -> ErrorDocument {
    ErrorDocument {
        error: ErrorBody {
            message: message.to_string(),
            exit_code,
            details,
        },
    }
}

fn error_details(error: &Error) -> serde_json::Value {
    use serde_json::json;
    let value = match error {
        Error::HistoryMismatch(problems) => serde_json::to_value(problems),
        Error::DatabaseAhead(ahead) => serde_json::to_value(ahead),
        // `outcome` says what became of the script's transaction; `status`
        // says, without reading it, that the command failed.
        Error::MigrationFailed(failure) | Error::ReplayFailed(failure) => {
            serde_json::to_value(failure).map(|mut value| {
                value["status"] = json!("failed");
                value["blocked_by_locks"] = json!(failure.is_blocked_by_locks());
                value
            })
        }
        Error::InvalidMigrations(problems) => Ok(problems
            .iter()
            .map(|p| {
                json!({
                    "path": p.path,
                    "line": p.position.map(|p| p.line),
                    "column": p.position.map(|p| p.column),
                    "message": p.message,
                })
            })
            .collect()),
        Error::CorruptHistory { table, problems } => {
            Ok(json!({ "table": table, "problems": problems }))
        }
        Error::LockTimeout { waited, holders } => {
            Ok(json!({ "waited_ms": waited.as_millis() as u64, "holders": holders }))
        }
        Error::Config { path, .. } => Ok(json!({ "source": path })),
        Error::Backup(problem) => Ok(json!({ "backup_problem": problem.kind() })),
        Error::ConfigProblems(problems) => Ok(json!({
            "problems": problems
                .iter()
                .map(|problem| match problem {
                    Error::Config { path, message } => json!({ "source": path, "message": message }),
                    other => json!({ "message": other.to_string() }),
                })
                .collect::<Vec<_>>()
        })),
        Error::Connect { target, .. } => Ok(json!({ "target": target })),
        Error::Refused(refusal) => {
            Ok(json!({ "refusal": refusal.kind, "versions": refusal.versions }))
        }
        Error::Database {
            context, sqlstate, ..
        } => Ok(json!({ "context": context, "sqlstate": sqlstate })),
        _ => Ok(serde_json::Value::Null),
    };
    value.unwrap_or_default()
}

/// A report with the MongoDB part added as a `mongodb` key (null when not configured).
pub(crate) fn with_mongodb<T: serde::Serialize, M: serde::Serialize>(
    report: &T,
    mongo: &Option<M>,
) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut value {
        map.insert(
            "mongodb".into(),
            serde_json::to_value(mongo).unwrap_or_default(),
        );
    }
    value
}

pub(crate) fn emit<T: serde::Serialize>(format: Format, report: &T, text: impl FnOnce() -> String) {
    match format {
        Format::Text => output::stdout(&text()),
        Format::Json => print_json(report),
    }
}

pub(crate) fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value).context("cannot serialise the report") {
        Ok(text) => output::stdout_line(&text),
        Err(e) => output::stderr_line(&format!("error: {e:#}")),
    }
}

/// The bar of the long task going on (a backup written, restored: bytes;
/// verify: migrations), shown on a terminal only; cleared once it is done.
static BAR: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Draws [`BAR`] for a [`Notice::Progress`].
fn progress(task: &str, done: u64, total: Option<u64>, bytes: bool) {
    let Ok(mut bar) = BAR.lock() else { return };
    let shown = bar.get_or_insert_with(|| {
        let bar = indicatif::ProgressBar::new(total.unwrap_or(0));
        let template = if bytes {
            "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}, eta {eta}"
        } else {
            "{msg} {bar:30} {pos}/{len} migrations, {elapsed}"
        };
        let style = indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    });
    shown.set_message(task.to_string());
    if let Some(total) = total {
        shown.set_length(total.max(done));
    }
    shown.set_position(done);
    if total == Some(done) {
        shown.finish_and_clear();
        *bar = None;
    }
}

/// Clears a bar whose task stopped before its end (a verify run that
/// stopped at a failure, a transfer that failed), so that what is printed
/// next does not follow a stale bar.
pub(crate) fn clear_progress() {
    if let Some(bar) = BAR.lock().ok().and_then(|mut bar| bar.take()) {
        bar.finish_and_clear();
    }
}

fn print_notice(notice: &Notice, terminal: bool) {
    match notice {
        Notice::Info(message) => output::stderr_line(&format!("schemactl: {message}")),
        Notice::Warning(message) => output::stderr_line(&format!("warning: {message}")),
        Notice::WaitingForLock(holders) => {
            let who: Vec<String> = holders
                .iter()
                .map(|h| {
                    format!(
                        "pid {} ({})",
                        h.pid,
                        h.application.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            output::stderr_line(&format!(
                "schemactl: waiting for the migration lock held by {}",
                who.join(", ")
            ));
        }
        Notice::Running { label } if terminal => output::stderr(&format!("  applying {label} …\r")),
        Notice::Running { .. } => {}
        Notice::Progress {
            task,
            done,
            total,
            bytes,
        } if terminal => progress(task, *done, *total, *bytes),
        Notice::Progress { .. } => {}
        Notice::Backfill(status) => {
            let shown = if terminal {
                backfill_progress::Shown::Terminal
            } else {
                backfill_progress::Shown::Log
            };
            backfill_progress::show(status, shown)
        }
        Notice::Done {
            action,
            label,
            execution_ms,
        } => {
            let clear = if terminal { "\x1b[K" } else { "" };
            output::stderr_line(&format!(
                "  {action} {label} ({}){clear}",
                render::duration(*execution_ms)
            ));
        }
    }
}
