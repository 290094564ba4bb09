//! `schemactl fleet …`: the fleet options (flags over `[fleet]` in
//! schemactl.toml) turned into a request, a progress bar while it runs,
//! and the per-target table or JSON at the end.

use crate::config::FleetConfig;
use crate::dispatch::emit;
use crate::opt::{FleetAction, FleetArgs, Format};
use crate::{output, render};
use schemactl::config::Settings;
use schemactl::fleet::{DatabaseList, SchemaList, Shard, TargetSpec, TargetState};
use schemactl::fleet::{FleetRequest, FleetVerb};
use schemactl::runner::Notice;
use schemactl::runner::{MigrateOptions, RollbackTarget};
use schemactl::{Error, ExitCode};

/// Runs the fleet verb; exit 1 when any target failed or was not run.
pub async fn fleet(
    settings: &Settings,
    file: &FleetConfig,
    args: FleetArgs,
    action: FleetAction,
    terminal: bool,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let format = args.format;
    let request = request(settings, file, args)?;
    let verb = verb(action);
    let signals = stop_on_signals(std::sync::Arc::clone(&request.stop));
    let bar = progress_bar(terminal && format == Format::Text);
    let shard = request.shard;
    let name = verb.name();
    let mut started = |count: usize, run: &str| {
        // Printed before anything runs, so that a killed run can be resumed.
        let share = shard.map(|s| format!(" (shard {s})")).unwrap_or_default();
        output::stderr_line(&format!(
            "schemactl: fleet {name} run {run}: {count} target(s){share}; if it is interrupted, go on with --resume {run}"
        ));
        if let Some(bar) = &bar {
            bar.set_length(count as u64);
        }
    };
    let mut finished = |result: &schemactl::fleet::TargetResult| {
        if let Some(bar) = &bar {
            bar.inc(1);
            if result.state == TargetState::Failed {
                bar.println(format!("  failed: {}", result.target));
            }
        }
    };
    let report = request
        .run(settings, &verb, notify, &mut started, &mut finished)
        .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    signals.abort();
    let report = report?;
    crate::metrics_file::note(crate::metrics::of_fleet(&format!("fleet {name}"), &report));
    emit(format, &report, || render::fleet(&report));
    Ok(if report.ok() {
        ExitCode::Ok
    } else {
        ExitCode::ProblemsFound
    })
}

/// The first SIGINT or SIGTERM (Ctrl-C, a Kubernetes pod being stopped)
/// lets the running targets finish and starts no new one; the second ends
/// the process at once (exit 130), which the ledger and each target's
/// history make safe too.
fn stop_on_signals(
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        for round in 0.. {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if round > 0 {
                output::stderr_line("schemactl: stopped at once; resume the run with --resume");
                std::process::exit(130);
            }
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            output::stderr_line(
                "schemactl: stopping: the targets running now finish, no new one starts (signal again to stop at once)",
            );
        }
    })
}

fn verb(action: FleetAction) -> FleetVerb {
    match action {
        FleetAction::Migrate {
            to,
            dry_run,
            allow_out_of_order,
            allow_non_empty,
            phase,
            release,
            backfill: _,
        } => FleetVerb::Migrate {
            options: MigrateOptions {
                target: to,
                allow_out_of_order,
                allow_non_empty,
                phase: crate::dispatch::phase_of(phase.as_deref()),
                release,
                previous_app: None,
            },
            dry_run,
        },
        FleetAction::Status { allow_out_of_order } => FleetVerb::Status { allow_out_of_order },
        FleetAction::Validate {
            fail_on_pending,
            allow_out_of_order,
        } => FleetVerb::Validate {
            fail_on_pending,
            allow_out_of_order,
        },
        FleetAction::Rollback {
            steps,
            to,
            dry_run,
            accept_changed_down,
        } => FleetVerb::Rollback {
            target: match to {
                Some(version) => RollbackTarget::To(version),
                None => RollbackTarget::Steps(steps.unwrap_or(1)),
            },
            accept_changed_down,
            dry_run,
        },
        FleetAction::Diff => FleetVerb::Diff,
    }
}

/// The request: each flag, else its `[fleet]` key, else the default. The
/// target list comes from the flags when any names one, else from the file.
fn request(
    settings: &Settings,
    file: &FleetConfig,
    args: FleetArgs,
) -> Result<FleetRequest, Error> {
    let project = |path: &std::path::Path| settings.project.dir.join(path);
    let from_flags = lists(
        args.table.targets.clone(),
        args.table.targets_query.clone(),
        args.table.targets_command.clone(),
        args.table.tenant_schemas.clone(),
        args.table.tenant_schemas_query.clone(),
        "flags",
    )?;
    let from_file = || {
        lists(
            file.targets.as_deref().map(project),
            file.targets_query.clone(),
            file.targets_command.clone(),
            file.tenant_schemas.as_deref().map(project),
            file.tenant_schemas_query.clone(),
            "[fleet] in schemactl.toml",
        )
    };
    let list = match from_flags {
        Some(list) => list,
        None => from_file()?.ok_or_else(|| {
            Error::InvalidArgument(
                "name the fleet's targets: --targets FILE, --targets-query SQL, --targets-command CMD, --tenant-schemas FILE or --tenant-schemas-query SQL (or the same keys under [fleet] in schemactl.toml)".into(),
            )
        })?,
    };
    let spec = match list {
        List::Databases(list) => TargetSpec::Databases(list),
        List::Schemas(list) => TargetSpec::Schemas {
            url: settings.connection.url.clone().ok_or_else(|| {
                Error::InvalidArgument(
                    "schema-per-tenant mode needs the tenants' database: give --database-url (or DATABASE_URL)".into(),
                )
            })?,
            list,
        },
    };
    let shard = match args.shard {
        Some(text) => Some(Shard::parse(&text).map_err(Error::InvalidArgument)?),
        None => Shard::from_job_environment(|key| std::env::var(key).ok())
            .map_err(Error::InvalidArgument)?,
    };
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let flags = &args.table;
    let count = |flagged: Option<u32>, filed: Option<u32>| flagged.or(filed).map(|n| n as usize);
    let concurrency = count(flags.concurrency, file.concurrency)
        .unwrap_or(cpus * 4)
        .max(1);
    Ok(FleetRequest {
        spec,
        allow_empty: args.allow_empty_list,
        system_schemas: args.allow_system_schema,
        control_url: (flags.control_url.clone())
            .or_else(|| file.control_url.clone())
            .filter(|url| !url.trim().is_empty()),
        concurrency,
        canary: count(flags.canary, file.canary).unwrap_or(0),
        max_failures: count(flags.max_failures, file.max_failures).unwrap_or(1),
        shard,
        resume: args.resume,
        stop: std::sync::Arc::default(),
        ledger_dir: (flags.ledger_dir.clone()).unwrap_or_else(|| match &file.ledger_dir {
            Some(dir) => project(dir),
            None => settings.project.dir.join(".schemactl").join("fleet"),
        }),
    })
}

enum List {
    Databases(DatabaseList),
    Schemas(SchemaList),
}

/// The one target list named, `None` when none is, an error when several are.
fn lists(
    targets: Option<std::path::PathBuf>,
    targets_query: Option<String>,
    targets_command: Option<String>,
    tenant_schemas: Option<std::path::PathBuf>,
    tenant_schemas_query: Option<String>,
    origin: &str,
) -> Result<Option<List>, Error> {
    let mut named = Vec::new();
    if let Some(path) = targets {
        named.push(("--targets", List::Databases(DatabaseList::File(path))));
    }
    if let Some(sql) = targets_query {
        named.push(("--targets-query", List::Databases(DatabaseList::Query(sql))));
    }
    if let Some(command) = targets_command {
        named.push((
            "--targets-command",
            List::Databases(DatabaseList::Command(command)),
        ));
    }
    if let Some(path) = tenant_schemas {
        named.push(("--tenant-schemas", List::Schemas(SchemaList::File(path))));
    }
    if let Some(sql) = tenant_schemas_query {
        named.push((
            "--tenant-schemas-query",
            List::Schemas(SchemaList::Query(sql)),
        ));
    }
    if named.len() > 1 {
        let names: Vec<&str> = named.iter().map(|(name, _)| *name).collect();
        return Err(Error::InvalidArgument(format!(
            "one target list at a time: {origin} name {}",
            names.join(" and ")
        )));
    }
    Ok(named.pop().map(|(_, list)| list))
}

fn progress_bar(show: bool) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template(
        "fleet {bar:30} {pos}/{len} targets, {elapsed}, eta {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    Some(bar)
}
