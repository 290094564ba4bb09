//! `backup create`: one repeatable-read snapshot of the database, exported
//! to `pg_dump` (`--snapshot`), so that the archive and the schema in the
//! manifest are of the same instant even while the application writes.
//! The archive streams from `pg_dump` through zstd and age into the store,
//! never whole in memory or in plain text on disk; every table's row count
//! and fingerprint are read from it on the way (`archive_rows`).

use super::archive_rows::ArchiveRows;
use super::encryption::{seal, Encryption};
use super::manifest::{
    BackupId, BackupKind, FileContent, Manifest, PostgresPart, StoredFile, TableRows, FORMAT,
};
use super::pg_tools::{server_major, PgProgram};
use super::report::{BackupCreated, BackupSummary};
use super::store::{Pending, Store};
use super::{fingerprint, BackupOptions, DUMP_FILE, SCHEMA_FILE};
use crate::error::backup_problem::BackupProblem;
use crate::model::history::HistoryTable;
use crate::postgres::history_table::database;
use crate::runner::driver::Driver;
use crate::runner::notice::Notice;
use crate::Error;
use std::process::Stdio;
use std::time::Instant;
use time::OffsetDateTime;
use tokio_postgres::Client;

/// Makes a backup of the database `options.connection` names.
pub(crate) async fn create(
    store: &Store,
    options: &BackupOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<BackupCreated, Error> {
    let started = Instant::now();
    let session = crate::runner::session::connect(&options.connection, notify).await?;
    let client = &session.client;
    let (major, server_version) = server_major(client).await?;
    let pg_dump = PgProgram::locate("pg_dump", major)?;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
        .map_err(|e| database("cannot start the backup's snapshot", &e))?;
    let snapshot: String = client
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(|e| database("cannot export the backup's snapshot", &e))?
        .get(0);
    let created_at = OffsetDateTime::now_utc();
    let id = BackupId::new(created_at);
    let pending = store.begin(&id)?;
    let history_version = history_version(client, &options.history).await?;
    let schema = crate::catalog::reading::snapshot(client, &[]).await?;
    notify(Notice::Info(&format!(
        "backing up {} with {} into {}",
        session.target,
        pg_dump.version,
        store.label()
    )));
    let mut command = pg_dump.against(&session.reach);
    command
        .args(["--format=custom", "-Z0", "--snapshot", &snapshot])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let dump_file = pending.create(DUMP_FILE)?;
    let encryption = options.encryption.clone();
    let program = pg_dump.clone();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = count.clone();
    let dumping = tokio::task::spawn_blocking(move || {
        dump(&program, command, dump_file, &encryption, counted)
    });
    let on_disk: Option<i64> = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await
        .ok()
        .map(|row| row.get(0));
    let total = on_disk.and_then(|b| u64::try_from(b).ok());
    let dumped = super::progress::reporting(dumping, "backing up", &count, total, notify).await;
    let (size_bytes, sha256, rows) = dumped.map_err(|e| {
        Error::Backup(Box::new(BackupProblem::Tool {
            program: "pg_dump".into(),
            message: format!("the copy of its output stopped: {e}"),
        }))
    })??;
    // The rows as the archive holds them; when it cannot be read (a newer
    // pg_dump's format), as the server counts them in the same snapshot.
    let tables = match rows {
        Ok(tables) => tables,
        Err(reason) => {
            notify(Notice::Info(&format!(
                "the archive's rows were not read ({reason}): counting them on the server"
            )));
            fingerprint::read(client).await?
        }
    };
    let _ = client.batch_execute("COMMIT").await;
    let schema_json =
        serde_json::to_vec(&schema).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let schema_file = stored(&pending, SCHEMA_FILE, &schema_json, &options.encryption)?;
    let mut files = vec![
        StoredFile {
            name: DUMP_FILE.into(),
            content: FileContent::PostgresDump,
            size_bytes,
            sha256,
        },
        schema_file,
    ];
    let mongodb = mongodb_part(options, &pending, &mut files).await?;
    let manifest = Manifest {
        format: FORMAT,
        id,
        created_at,
        kind: BackupKind::Full,
        schemactl_version: crate::VERSION.into(),
        encrypted: matches!(options.encryption, Encryption::To(_)),
        recipients: options.encryption.recipients(),
        duration_ms: started.elapsed().as_millis() as u64,
        postgres: PostgresPart {
            database: session.target.clone(),
            server_version,
            pg_dump_version: pg_dump.version.clone(),
            history_version,
            tables,
        },
        mongodb,
        captured: None,
        files,
    };
    pending.finish(&manifest)?;
    Ok(BackupCreated {
        store: store.label().into(),
        backup: BackupSummary::of(&manifest),
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// The MongoDB databases, when the options name them.
async fn mongodb_part(
    options: &BackupOptions,
    pending: &Pending,
    files: &mut Vec<StoredFile>,
) -> Result<Option<super::MongoPart>, Error> {
    let Some(source) = &options.mongodb else {
        return Ok(None);
    };
    #[cfg(feature = "mongodb")]
    {
        let target = crate::mongo::MongoTarget::parse(&source.uri)?;
        let client = target
            .connect_within(options.connection.connect_timeout)
            .await?;
        let part = super::mongodb::dump(
            &client,
            target.display(),
            &source.databases,
            pending,
            &options.encryption,
            files,
        )
        .await?;
        Ok(Some(part))
    }
    #[cfg(not(feature = "mongodb"))]
    {
        let _ = (pending, files);
        Err(Error::InvalidArgument(format!(
            "this schemactl is built without MongoDB support, and the backup names MongoDB databases ({})",
            source.databases.join(", ")
        )))
    }
}

/// The newest migration the history records, read in the snapshot.
async fn history_version(client: &Client, history: &HistoryTable) -> Result<Option<String>, Error> {
    // Reading a missing table would abort the snapshot's transaction.
    let qualified = format!("{}.{}", history.schema().quoted(), history.table().quoted());
    let exists: Option<String> = client
        .query_one("SELECT to_regclass($1)::text", &[&qualified])
        .await
        .map_err(|e| database("cannot look for the history table", &e))?
        .get(0);
    if exists.is_none() {
        return Ok(None);
    }
    let execution = crate::config::ExecutionSettings::default();
    let driver = crate::postgres::PostgresDriver::new(client, history, &execution);
    let applied = driver.read_history().await?;
    Ok(applied
        .iter()
        .filter(|row| row.success && !row.version.is_repeatable())
        .map(|row| &row.version)
        .max()
        .map(ToString::to_string))
}

/// What [`dump`] gives: the sealed file's size and sha256, and the rows
/// read from the archive on the way (or why they could not be).
type Dumped = (u64, String, Result<Vec<TableRows>, String>);

/// Runs `pg_dump` and seals its output into `file`, reading its tables'
/// rows as it passes.
fn dump(
    program: &PgProgram,
    mut command: std::process::Command,
    file: Box<dyn crate::backup::store::Sink>,
    encryption: &Encryption,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> Result<Dumped, Error> {
    let failed_to_start = |e: std::io::Error| {
        Error::Backup(Box::new(BackupProblem::Tool {
            program: program.name.into(),
            message: format!("cannot be started from {}: {e}", program.path.display()),
        }))
    };
    let mut child = command.spawn().map_err(failed_to_start)?;
    let stderr = child.stderr.take().map(|mut stderr| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        })
    });
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err(failed_to_start(std::io::Error::other("no output pipe")));
    };
    let (mut stdout, rows) = ArchiveRows::tee(super::progress::Counting::new(stdout, count));
    let sealed = seal(&mut stdout, file, encryption);
    stdout.close();
    let rows = rows.finish();
    if sealed.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(failed_to_start)?;
    let said = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    if !status.success() {
        return Err(program.failed(status, &said));
    }
    let (size, sha256) = sealed.map_err(|source| Error::Io {
        path: DUMP_FILE.into(),
        source,
    })?;
    Ok((size, sha256, rows))
}

/// Seals `bytes` into a new file of the backup.
fn stored(
    pending: &Pending,
    name: &str,
    bytes: &[u8],
    encryption: &Encryption,
) -> Result<StoredFile, Error> {
    let file = pending.create(name)?;
    let (size_bytes, sha256) =
        seal(&mut &bytes[..], file, encryption).map_err(|source| Error::Io {
            path: name.into(),
            source,
        })?;
    Ok(StoredFile {
        name: name.into(),
        content: FileContent::Schema,
        size_bytes,
        sha256,
    })
}
