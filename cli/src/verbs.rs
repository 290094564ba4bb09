//! One function per CLI verb: call the library, print its report as text
//! or JSON, and return the exit code. Argument parsing is in `opt`,
//! rendering in `render`.

use crate::dispatch::{emit, with_mongodb};
use crate::opt::{DevAction, Format};
use crate::{output, render};
use schemactl::config::Settings;
use schemactl::mongo::report::{MongoOptions, RollbackTarget as MongoRollbackTarget};
use schemactl::runner::Notice;
use schemactl::runner::{BaselineSource, Repair};
use schemactl::runner::{MigrateOptions, RollbackTarget};
use schemactl::verify::Verifier;
use schemactl::{deploy, devserver, Error, ExitCode, Migrator};

pub(super) fn colour() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// `migrate`: PostgreSQL, then MongoDB.
pub async fn migrate(
    settings: &Settings,
    options: DeployOptions,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let DeployOptions {
        postgres,
        mongodb,
        guard,
        unkept_said,
    } = options;
    let dry_run = mongodb.dry_run;
    let report = deploy::Deployment::of(settings)
        .migrate(postgres, mongodb, guard, notify)
        .await?;
    if unkept_said && !report.postgres.dry_run {
        note_unkept_data(settings, &report.postgres, notify);
    }
    crate::metrics_file::note(crate::metrics::of_run("migrate", &report.postgres));
    let text = || {
        render::run_report(&report.postgres, "Applied", "Nothing to migrate")
            + &render::mongo_changes(report.mongodb.as_ref(), dry_run)
    };
    emit(
        format,
        &with_mongodb(&report.postgres, &report.mongodb),
        text,
    );
    Ok(ExitCode::Ok)
}

/// What `migrate` deploys, and how.
pub struct DeployOptions {
    /// PostgreSQL's options.
    pub postgres: MigrateOptions,
    /// MongoDB's options.
    pub mongodb: MongoOptions,
    /// The backups around the run, when a store is configured.
    pub guard: Option<schemactl::backup::DataGuard>,
    /// `--backup auto` without a store: say afterwards what was not kept.
    pub unkept_said: bool,
}

/// After a `migrate --backup auto` without a backup store: the data the
/// applied migrations destroyed was not kept, said once, with how to keep it.
fn note_unkept_data(
    settings: &Settings,
    report: &schemactl::RunReport,
    notify: &mut (dyn FnMut(Notice) + Send),
) {
    if report.executed.is_empty() {
        return;
    }
    let Ok(migrations) = Migrator::of_project(settings).migrations() else {
        return;
    };
    let destroying: Vec<String> = report
        .executed
        .iter()
        .filter_map(|done| migrations.iter().find(|m| m.version == done.version))
        .filter(|m| !schemactl::lint::DestroyedData::in_script(&m.up).is_empty())
        .map(|m| m.label())
        .collect();
    if destroying.is_empty() {
        return;
    }
    notify(Notice::Info(&format!(
        "{} destroyed data (dropped or emptied tables or columns) and no backup store is configured, so it was not kept; \
         with `[backup] store` in schemactl.toml (or --store), `migrate` keeps it for `rollback --restore-data`",
        destroying.join(", ")
    )));
}

/// `rollback --collection` / `--mongodb-last-run`.
pub async fn rollback_mongodb(
    settings: &Settings,
    which: &MongoRollbackTarget,
    options: MongoOptions,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let report = deploy::Deployment::of(settings)
        .rollback_mongodb(which, options, notify)
        .await?;
    emit(format, &report, || {
        render::mongo_changes(Some(&report), options.dry_run)
    });
    Ok(ExitCode::Ok)
}

/// `rollback`.
pub async fn rollback(
    settings: &Settings,
    target: RollbackTarget,
    accept_changed_down: bool,
    dry_run: bool,
    guard: Option<schemactl::backup::DataGuard>,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let mut migrator = Migrator::of_project(settings);
    if let Some(guard) = guard {
        migrator = migrator.with_data_guard(guard);
    }
    let report = migrator
        .undo(target, accept_changed_down, dry_run, notify)
        .await?;
    crate::metrics_file::note(crate::metrics::of_run("rollback", &report));
    emit(format, &report, || {
        let mut text = render::run_report(&report, "Rolled back", "Nothing to roll back");
        // A hotfix rollback leaves the files in place: the next deploy
        // would apply them again.
        if !report.dry_run {
            let labels: Vec<&str> = report.executed.iter().map(|e| e.label.as_str()).collect();
            text.push_str(&reapplied_note(&labels));
        }
        text
    });
    Ok(ExitCode::Ok)
}

/// What the next `migrate` does with the migrations a rollback undid
/// (newest first), named in full for a few and by range for many, since
/// the lines above list each.
fn reapplied_note(undone: &[&str]) -> String {
    let which = match undone {
        [] => return String::new(),
        [one] => return format!(
            "\nNote: the next `schemactl migrate` applies {one} again unless the file is fixed or removed first.\n"
        ),
        [_, _] | [_, _, _] => undone.join(", "),
        [newest, .., oldest] => format!(
            "the {} migrations rolled back above ({oldest} to {newest})",
            undone.len()
        ),
    };
    format!(
        "\nNote: the next `schemactl migrate` applies {which} again unless their files are fixed or removed first.\n"
    )
}

/// `status`: PostgreSQL, then MongoDB.
pub async fn status(
    settings: &Settings,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let status = deploy::Deployment::of(settings).status(notify).await?;
    emit(
        format,
        &with_mongodb(&status.postgres, &status.mongodb),
        || render::status(&status.postgres) + &render::mongo_status(status.mongodb.as_deref()),
    );
    Ok(ExitCode::Ok)
}

/// The versions of the migrations in `dir`, read as the project's own.
pub fn versions_in(
    settings: &Settings,
    dir: &std::path::Path,
) -> Result<Vec<schemactl::model::Version>, Error> {
    let mut settings = settings.clone();
    settings.project.migrations_dir = dir.to_path_buf();
    let migrations = Migrator::of_project(&settings).migrations()?;
    Ok(migrations.into_iter().map(|m| m.version).collect())
}

/// `check`: the database against the application's migrations.
pub async fn check(
    settings: &Settings,
    app_migrations: Option<std::path::PathBuf>,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let mut settings = settings.clone();
    if let Some(dir) = app_migrations {
        settings.project.migrations_dir = dir;
    }
    let answer = Migrator::of_project(&settings).check(notify).await?;
    emit(format, &answer, || format!("{answer}\n"));
    Ok(answer.exit_code())
}

/// `release mark-live|mark-retired|list`.
pub async fn release(
    settings: &Settings,
    action: crate::opt::ReleaseAction,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    use crate::opt::ReleaseAction;
    let migrator = Migrator::of_project(settings);
    let releases = match &action {
        ReleaseAction::MarkLive { label } => migrator.mark_release(label, true, notify).await?,
        ReleaseAction::MarkRetired { label } => migrator.mark_release(label, false, notify).await?,
        ReleaseAction::List => migrator.releases(notify).await?,
    };
    let document = serde_json::json!({ "releases": releases });
    emit(format, &document, || {
        if releases.is_empty() {
            return "No release is declared.\n".to_string();
        }
        releases
            .iter()
            .map(|r| {
                let state = if r.live { "live" } else { "retired" };
                format!(
                    "{:<24} {state:<8} since {} by {}\n",
                    r.label, r.marked_at, r.marked_by
                )
            })
            .collect()
    });
    Ok(ExitCode::Ok)
}

/// `validate`.
pub async fn validate(
    settings: &Settings,
    fail_on_pending: bool,
    allow_out_of_order: bool,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let validation = Migrator::of_project(settings)
        .validate(fail_on_pending, allow_out_of_order, notify)
        .await?;
    emit(format, &validation, || {
        render::validate(&validation, fail_on_pending)
    });
    Ok(ExitCode::of_check(!validation.ok))
}

/// `baseline`.
pub async fn baseline(
    settings: &Settings,
    source: &BaselineSource,
    dry_run: bool,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let report = Migrator::of_project(settings)
        .baseline(source, dry_run, notify)
        .await?;
    emit(format, &report, || {
        if dry_run {
            let mut text = format!(
                "Would record {} migration(s) as applied without running them (baseline) on {}; nothing was changed:\n",
                report.planned.len(),
                report.database
            );
            for planned in &report.planned {
                text.push_str(&format!("  {}\n", planned.label));
            }
            return text;
        }
        format!(
            "Recorded {} migration(s) as applied without running them (baseline) on {}; now at version {}.\n",
            report.executed.len(),
            report.database,
            report.current_version.clone().unwrap_or_default()
        )
    });
    Ok(ExitCode::Ok)
}

/// `repair`.
pub async fn repair(
    settings: &Settings,
    repair: Repair,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let done = Migrator::of_project(settings)
        .repair(repair, notify)
        .await?;
    emit(
        format,
        &serde_json::json!({ "repaired": done.to_string() }),
        || format!("Repaired {done}.\n"),
    );
    Ok(ExitCode::Ok)
}

/// `dump`.
pub async fn dump(
    settings: &Settings,
    format: crate::opt::DumpFormat,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    use crate::opt::DumpFormat;
    let diagram = match format {
        DumpFormat::Text | DumpFormat::Json => {
            let (_, snapshot) = schemactl::catalog::Snapshot::of_database(settings, notify).await?;
            let format = if format == DumpFormat::Json {
                Format::Json
            } else {
                Format::Text
            };
            emit(format, &snapshot, || snapshot.to_text());
            return Ok(ExitCode::Ok);
        }
        DumpFormat::Mermaid | DumpFormat::Dot => {
            schemactl::catalog::er_diagram::ErDiagram::of_database(settings, notify).await?
        }
    };
    crate::output::stdout(&match format {
        DumpFormat::Mermaid => diagram.to_mermaid(),
        _ => diagram.to_dot(),
    });
    Ok(ExitCode::Ok)
}

/// `verify`: PostgreSQL round trips, then MongoDB's on its dev server.
pub async fn verify(
    settings: &Settings,
    verifier: &Verifier,
    from: Option<schemactl::model::Version>,
    verbose: bool,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let report = verifier.verify(from, notify).await?;
    crate::dispatch::clear_progress();
    let mongo = deploy::Deployment::of(settings).verify_mongodb().await?;
    let colour = colour();
    let text =
        || render::verify(&report, verbose, colour) + &render::mongo_verify(mongo.as_deref());
    emit(format, &with_mongodb(&report, &mongo), text);
    let mongo_failed = mongo.iter().flatten().any(|c| !c.ok);
    Ok(ExitCode::of_check(report.failed() || mongo_failed))
}

/// `diff`: the migrations against the live database, or two databases.
pub async fn diff(
    settings: &Settings,
    urls: &[String],
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let report = match urls {
        [] => Verifier::of_project(settings).drift(notify).await?,
        [a, b] => schemactl::verify::DiffReport::between(settings, a, b).await?,
        _ => {
            return Err(Error::InvalidArgument(
                "diff takes two database URLs, or none".into(),
            ))
        }
    };
    let colour = colour();
    emit(format, &report, || render::diff(&report, colour));
    Ok(ExitCode::of_check(!report.differences.is_empty()))
}

/// `new`.
pub fn new_migration(settings: &Settings, name: &str, format: Format) -> Result<ExitCode, Error> {
    let files = schemactl::source::NewFiles::create(
        &settings.project.migrations_dir,
        name,
        &settings.project.read,
    )?;
    emit(format, &files, || {
        let mut text = format!("Created {} ({} layout)\n", files.up.display(), files.layout);
        if let Some(down) = files.down.as_ref().filter(|d| !d.starts_with(&files.up)) {
            text.push_str(&format!("Created {}\n", down.display()));
        }
        text
    });
    Ok(ExitCode::Ok)
}

/// `dev status | stop | reset`.
pub fn dev(settings: &Settings, action: DevAction, format: Format) -> Result<ExitCode, Error> {
    let dir = &settings.project.dir;
    let (state, text) = match action {
        DevAction::Status => {
            let (root, url) = devserver::DevServer::of(dir).status()?;
            let shown = match url.as_deref() {
                Some(url) => Some(
                    schemactl::postgres::DatabaseTarget::parse(url)?
                        .display()
                        .to_string(),
                ),
                None => None,
            };
            let text = match &shown {
                Some(url) => format!("running: {url} (data in {})", root.display()),
                None => format!("not running (data in {})", root.display()),
            };
            let state = serde_json::json!({
                "running": shown.is_some(), "url": shown, "data_dir": root,
            });
            (state, text)
        }
        DevAction::Start | DevAction::Url { .. } => {
            let url = devserver::DevServer::of(dir).ensure_running(&mut |message| {
                output::stderr_line(&format!("schemactl: {message}"))
            })?;
            let target = schemactl::postgres::DatabaseTarget::parse(&url)?;
            let shown = match action {
                DevAction::Url {
                    show_password: true,
                } => url,
                _ => target.display().to_string(),
            };
            let text = match action {
                DevAction::Start => format!("running: {shown}; stop it with `schemactl dev stop`"),
                _ => shown.clone(),
            };
            (serde_json::json!({ "running": true, "url": shown }), text)
        }
        DevAction::Stop => {
            let stopped = devserver::DevServer::of(dir).stop()?;
            let text = if stopped {
                "stopped"
            } else {
                "was not running"
            };
            (serde_json::json!({ "stopped": stopped }), text.to_string())
        }
        DevAction::Reset => {
            devserver::DevServer::of(dir).reset()?;
            (
                serde_json::json!({ "reset": true }),
                "stopped and deleted the embedded development PostgreSQL".to_string(),
            )
        }
    };
    emit(format, &state, || format!("{text}\n"));
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::reapplied_note;

    #[test]
    fn the_reapply_note_names_a_few_migrations_and_ranges_many() {
        assert_eq!(reapplied_note(&[]), "");
        assert!(reapplied_note(&["3_c"])
            .contains("applies 3_c again unless the file is fixed or removed first."));
        assert!(
            reapplied_note(&["3_c", "2_b"]).contains("applies 3_c, 2_b again unless their files")
        );
        let many = reapplied_note(&["50_x", "49_w", "48_v", "1_a"]);
        assert!(
            many.contains("applies the 4 migrations rolled back above (1_a to 50_x) again"),
            "{many}"
        );
        assert!(!many.contains("49_w"), "{many}");
    }
}
