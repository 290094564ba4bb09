//! `schemactl report --html FILE`: one self-contained page (no network)
//! about a migrations directory and, when one is given, its database: the
//! ER diagram, the migration timeline, lint findings per migration, and
//! with `--verify` the verify verdicts and each migration's lock timeline.

mod escape;
mod page;

use crate::opt::ReportArgs;
use schemactl::catalog::er_diagram::ErDiagram;
use schemactl::config::Settings;
use schemactl::lint::Finding;
use schemactl::model::Migration;
use schemactl::runner::{Notice, StatusReport};
use schemactl::verify::{Verifier, VerifyReport};
use schemactl::{Error, ExitCode, Migrator};

/// What the page shows, gathered from the library.
pub struct ReportData {
    /// The migrations directory, as given.
    pub project: String,
    /// The migration files, by version.
    pub migrations: Vec<Migration>,
    /// Every lint finding of the project.
    pub findings: Vec<Finding>,
    /// The database's status, when a database was given.
    pub status: Option<StatusReport>,
    /// The database's ER diagram, when a database was given.
    pub diagram: Option<ErDiagram>,
    /// `--verify`: the round trips and their locks.
    pub verify: Option<VerifyReport>,
    /// Where a rule's page is: `{rule}` is replaced by its id.
    pub rule_url: String,
}

/// `report --html FILE`.
pub async fn report(
    settings: &Settings,
    args: &ReportArgs,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let migrations = Migrator::of_project(settings).migrations()?;
    let findings = schemactl::lint::Linter::lint_project(settings, None)?.findings;
    let connection = &settings.connection;
    let database_given = connection.url.is_some() || connection.dev_server.is_some();
    let (status, diagram) = if database_given {
        let status = schemactl::deploy::Deployment::of(settings)
            .status(notify)
            .await?;
        let diagram = ErDiagram::of_database(settings, notify).await?;
        (Some(status.postgres), Some(diagram))
    } else {
        (None, None)
    };
    let verify = if args.verify {
        let verifier = Verifier::of_project(settings).with_locks(true);
        Some(verifier.verify(None, notify).await?)
    } else {
        None
    };
    let data = ReportData {
        project: settings.project.migrations_dir.display().to_string(),
        migrations,
        findings,
        status,
        diagram,
        verify,
        rule_url: args.rule_url.clone(),
    };
    let html = page::render(&data);
    write_atomically(&args.html, &html)?;
    crate::output::stderr_line(&format!(
        "wrote {}: {} migrations, {} findings{}{}",
        args.html.display(),
        data.migrations.len(),
        data.findings.len(),
        data.diagram
            .as_ref()
            .map_or(String::new(), |d| format!(", {} tables", d.table_count())),
        data.verify
            .as_ref()
            .map_or(String::new(), |v| format!(", {} verified", v.results.len())),
    ));
    Ok(ExitCode::Ok)
}

/// The page replaces FILE whole, or not at all.
fn write_atomically(path: &std::path::Path, html: &str) -> Result<(), Error> {
    let cannot = |e: std::io::Error| {
        Error::InvalidArgument(format!("--html {}: cannot write it: {e}", path.display()))
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, html).map_err(cannot)?;
    std::fs::rename(&partial, path).map_err(cannot)
}
