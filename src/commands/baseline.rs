//! `schemactl baseline --version N`: adopt a database whose schema already
//! matches migrations 1..N by recording them as applied without running them.

use super::{connect, locked, Executed, Notice, RunReport};
use crate::config::Settings;
use crate::history::EventKind;
use crate::migration::source;
use crate::postgres::history_table::{database, NewEvent, NewRow};
use crate::Error;
use std::time::Instant;

/// Records every migration up to `version` as applied. Refused when the
/// history already has rows: baselining is for databases schemactl has not
/// migrated yet.
pub async fn baseline(
    settings: &Settings,
    version: i64,
    notify: &mut dyn FnMut(Notice),
) -> Result<RunReport, Error> {
    let started = Instant::now();
    let local = source::load(&settings.migrations_dir)?;
    let chosen: Vec<_> = local.iter().filter(|m| m.version <= version).collect();
    if chosen.is_empty() {
        return Err(Error::Refused(format!(
            "there is no migration at or below version {version} in {}; nothing to baseline",
            settings.migrations_dir.display()
        )));
    }
    let session = connect(settings, notify).await?;
    let client = &session.client;
    let mut executed = Vec::new();
    locked(&session, settings, notify, async |_: &mut dyn FnMut(Notice)| {
        let applied = settings.history.read(client).await?;
        if !applied.is_empty() {
            return Err(Error::Refused(format!(
                "{} already records {} migration(s); baseline only adopts a database that schemactl has never migrated",
                settings.history.display(),
                applied.len()
            )));
        }
        let writer = settings.history.writer(client).await?;
        let record = async {
            client.batch_execute("BEGIN").await?;
            for m in &chosen {
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
                    detail: Some("recorded as applied without running"),
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
