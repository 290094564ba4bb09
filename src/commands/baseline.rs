//! `schemactl baseline`: adopt a database that schemactl has never migrated,
//! by recording migrations as applied without running them — either every
//! migration up to a version (`--version N`), or exactly those that refinery
//! recorded in its `refinery_schema_history` table (`--from-refinery`).

use super::{load_and_connect, locked, Executed, Notice, RunReport};
use crate::config::Settings;
use crate::history::EventKind;
use crate::identifier::Identifier;
use crate::migration::Migration;
use crate::postgres::history_table::{database, NewEvent, NewRow};
use crate::Error;
use std::time::Instant;
use tokio_postgres::Client;

/// What to record as applied.
#[derive(Debug, Clone)]
pub enum BaselineSource {
    /// Every migration with a version up to and including this one.
    UpTo(i64),
    /// The versions refinery applied, read from its history table.
    Refinery {
        /// Its table (refinery's default is `refinery_schema_history`).
        table: Identifier,
    },
}

/// Records migrations as applied without running them. Refused when the
/// history already has rows: baselining is for databases schemactl has not
/// migrated yet.
pub async fn baseline(
    settings: &Settings,
    source: &BaselineSource,
    notify: &mut dyn FnMut(Notice),
) -> Result<RunReport, Error> {
    let started = Instant::now();
    let (local, session) = load_and_connect(settings, notify).await?;
    let client = &session.client;
    let mut executed = Vec::new();
    locked(&session.client, settings, notify, async |_: &mut dyn FnMut(Notice)| {
        let applied = settings.history.read(client).await?;
        if !applied.is_empty() {
            return Err(Error::Refused(format!(
                "{} already records {} migration(s); baseline only adopts a database that schemactl has never migrated",
                settings.history.display(),
                applied.len()
            )));
        }
        let chosen = match source {
            BaselineSource::UpTo(version) => up_to(&local, *version, settings)?,
            BaselineSource::Refinery { table } => from_refinery(client, &local, table).await?,
        };
        settings.history.ensure(client).await?;
            let writer = settings.history.writer(client).await?;
        let record = async {
            client.batch_execute("BEGIN").await?;
            for (m, detail) in &chosen {
                let row = NewRow {
                    version: m.version,
                    name: &m.name,
                    checksum: &m.up.checksum,
                    down_checksum: m.down.as_ref().map(|d| &d.checksum),
                    execution_ms: Some(0),
                    success: true,
                    baselined: true,
                    error: None,
                };
                let event = NewEvent {
                    kind: EventKind::Baselined,
                    version: m.version,
                    name: &m.name,
                    checksum: Some(&m.up.checksum),
                    execution_ms: Some(0),
                    detail: Some(detail),
                };
                tokio::try_join!(writer.insert(client, &row), writer.event(client, &event))?;
                executed.push(Executed { version: m.version, label: m.label(), execution_ms: 0 });
            }
            client.batch_execute("COMMIT").await
        };
        if let Err(e) = record.await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(database("cannot record the baseline", &e));
        }
        Ok(())
    })
    .await?;
    Ok(RunReport {
        database: session.target.clone(),
        history: settings.history.display(),
        dry_run: false,
        planned: Vec::new(),
        current_version: executed.last().map(|e| e.version),
        executed,
        total_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    })
}

fn up_to<'a>(
    local: &'a [Migration],
    version: i64,
    settings: &Settings,
) -> Result<Vec<(&'a Migration, String)>, Error> {
    let chosen: Vec<_> = local
        .iter()
        .filter(|m| m.version <= version)
        .map(|m| (m, "recorded as applied without running".to_string()))
        .collect();
    if chosen.is_empty() {
        return Err(Error::Refused(format!(
            "there is no migration at or below version {version} in {}; nothing to baseline",
            settings.migrations_dir.display()
        )));
    }
    Ok(chosen)
}

/// The migrations refinery recorded. Every recorded version must have a file
/// of the same name; refinery's own checksum (SipHash) is kept in the event
/// details, and schemactl's sha256 of the file is recorded.
async fn from_refinery<'a>(
    client: &Client,
    local: &'a [Migration],
    table: &Identifier,
) -> Result<Vec<(&'a Migration, String)>, Error> {
    let sql = format!(
        "SELECT version::bigint, name::text, applied_on::text, checksum::text FROM {} ORDER BY version",
        table.quoted()
    );
    let rows = client.query(&sql, &[]).await.map_err(|e| {
        if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) {
            Error::Refused(format!(
                "there is no table {table} to import; name refinery's table with --refinery-table"
            ))
        } else {
            database(&format!("cannot read refinery's history table {table}"), &e)
        }
    })?;
    let mut chosen = Vec::new();
    let mut problems = Vec::new();
    for row in &rows {
        let (version, name): (i64, Option<String>) = (row.get(0), row.get(1));
        let name = name.unwrap_or_default();
        match local.iter().find(|m| m.version == version) {
            Some(m) if m.name == name => chosen.push((
                m,
                format!(
                    "imported from {table}: applied by refinery on {}, refinery checksum {}",
                    row.get::<_, Option<String>>(2).unwrap_or_default(),
                    row.get::<_, Option<String>>(3).unwrap_or_default()
                ),
            )),
            Some(m) => problems.push(format!(
                "refinery applied version {version} as `{name}`, but {} names it `{}`",
                m.up.path.display(),
                m.name
            )),
            None => problems.push(format!(
                "refinery applied version {version} (`{name}`) but the migrations directory has no file for it"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "cannot import {table}; nothing was changed:\n  - {}",
            problems.join("\n  - ")
        )));
    }
    if chosen.is_empty() {
        return Err(Error::Refused(format!(
            "{table} records no migration; nothing to import"
        )));
    }
    Ok(chosen)
}
