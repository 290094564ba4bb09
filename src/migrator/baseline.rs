//! `baseline`: adopt a database that schemactl has never migrated, by
//! recording migrations as applied without running them: either every
//! migration up to a version, or exactly those that refinery recorded in
//! its `refinery_schema_history` table.

use super::Executed;
use super::{elapsed_ms, Migrator};
use crate::driver::Driver;
use crate::identifier::Identifier;
use crate::migration::Migration;
use crate::notice::Notice;
use crate::postgres::history_table::database;
use crate::{Error, RunReport};
use std::path::Path;
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

impl Migrator<'_> {
    /// Records migrations as applied without running them. Refused when the
    /// history already has rows: baselining is for databases schemactl has
    /// not migrated yet.
    pub async fn baseline(
        &self,
        source: &BaselineSource,
        notify: &mut dyn FnMut(Notice),
    ) -> Result<RunReport, Error> {
        let started = Instant::now();
        let (local, connection) = self.open(notify).await?;
        let client = connection.client();
        let mut report = self.report(connection.target(), false);
        let mut driver = self.driver(client);
        let history = self.settings.history.display();
        let location = self.source.location();
        let chosen = self
            .locked(&mut driver, notify, async |driver, _| {
                let applied = driver.read_history().await?;
                if !applied.is_empty() {
                    return Err(Error::Refused(format!(
                        "{history} already records {} migration(s); baseline only adopts a database that schemactl has never migrated",
                        applied.len()
                    )));
                }
                let chosen = match source {
                    BaselineSource::UpTo(version) => up_to(&local, *version, location)?,
                    BaselineSource::Refinery { table } => from_refinery(client, &local, table).await?,
                };
                driver.ensure_history().await?;
                driver.record_baseline(&chosen).await?;
                Ok(chosen)
            })
            .await?;
        report.executed = chosen
            .iter()
            .map(|(m, _)| Executed {
                version: m.version,
                label: m.label(),
                execution_ms: 0,
            })
            .collect();
        report.current_version = report.executed.last().map(|e| e.version);
        report.total_ms = elapsed_ms(started);
        Ok(report)
    }
}

fn up_to<'a>(
    local: &'a [Migration],
    version: i64,
    location: &Path,
) -> Result<Vec<(&'a Migration, String)>, Error> {
    let chosen: Vec<_> = local
        .iter()
        .filter(|m| m.version <= version)
        .map(|m| (m, "recorded as applied without running".to_string()))
        .collect();
    if chosen.is_empty() {
        return Err(Error::Refused(format!(
            "there is no migration at or below version {version} in {}; nothing to baseline",
            location.display()
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
