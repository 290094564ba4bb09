//! What `backup verify` and `backup restore` share: every stored file
//! checked against the manifest's sha256 before anything is restored, the
//! archive decrypted and decompressed straight into `pg_restore`'s input
//! (one transaction: a restore that fails leaves nothing), and the result
//! compared with the manifest, table by table and schema by schema.

use super::checked_archive::{rows_from_archive, CheckedArchive, Hashing};
use super::encryption::{unseal, Identities, OpenFailure};
use super::manifest::{FileContent, Manifest, StoredFile};
use super::pg_tools::{server_major, PgProgram};
use super::store::Store;
use super::{fingerprint, DUMP_FILE};
use crate::catalog::Snapshot;
use crate::config::Ignored;
use crate::error::backup_problem::BackupProblem;
use crate::postgres::DatabaseTarget;
use crate::Error;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::Instant;

/// Checks every file of the backup: present, and with the sha256 written.
pub(crate) fn check_files(store: &Store, manifest: &Manifest) -> Result<(), Error> {
    check_files_but(store, manifest, None)
}

/// [`check_files`] but for the files of `skipped` content (the archive,
/// which [`pg_restore`] checks as it streams, and says when it is missing).
pub(crate) fn check_files_but(
    store: &Store,
    manifest: &Manifest,
    skipped: Option<FileContent>,
) -> Result<(), Error> {
    for file in manifest.files.iter().filter(|f| Some(f.content) != skipped) {
        let problem = match store.read(&manifest.id, &file.name).and_then(sha256_of) {
            Err(e) => return Err(unopened(store, manifest, file, e)),
            Ok(found) if found != file.sha256 => BackupProblem::Tampered {
                backup: manifest.id.to_string(),
                file: file.name.clone(),
                expected: file.sha256.clone(),
                found,
            },
            Ok(_) => continue,
        };
        return Err(Error::Backup(Box::new(problem)));
    }
    Ok(())
}

fn sha256_of(mut file: Box<dyn Read + Send>) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(super::encryption::hex(&hasher.finalize()))
}

/// Why a stored file could not be opened or read: gone, or the store's
/// error.
fn unopened(store: &Store, manifest: &Manifest, file: &StoredFile, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        return Error::Backup(Box::new(BackupProblem::MissingFile {
            backup: manifest.id.to_string(),
            file: file.name.clone(),
            store: store.label().into(),
        }));
    }
    store.failed(Some((&manifest.id, &file.name)), e)
}

/// A stored file, decrypted and decompressed.
pub(crate) fn open(
    store: &Store,
    manifest: &Manifest,
    file: &StoredFile,
    identities: Option<&Identities>,
) -> Result<Box<dyn Read + Send>, Error> {
    open_counted(store, manifest, file, identities, None)
}

/// [`open`], the stored (sealed) bytes read added to `count`.
fn open_counted(
    store: &Store,
    manifest: &Manifest,
    file: &StoredFile,
    identities: Option<&Identities>,
    count: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
) -> Result<Box<dyn Read + Send>, Error> {
    let mut handle = store
        .read(&manifest.id, &file.name)
        .map_err(|source| store.failed(Some((&manifest.id, &file.name)), source))?;
    if let Some(count) = count {
        handle = Box::new(super::progress::Counting::new(handle, count));
    }
    unsealed(handle, manifest, file, identities)
}

/// The stored bytes `handle` reads, decrypted and decompressed.
fn unsealed(
    handle: Box<dyn Read + Send>,
    manifest: &Manifest,
    file: &StoredFile,
    identities: Option<&Identities>,
) -> Result<Box<dyn Read + Send>, Error> {
    let backup = manifest.id.to_string();
    unseal(handle, manifest.encrypted, identities).map_err(|failure| {
        Error::Backup(Box::new(match failure {
            OpenFailure::NoIdentity => BackupProblem::NoIdentity { backup },
            OpenFailure::WrongKey => BackupProblem::WrongKey {
                backup,
                identity: identities
                    .map(|i| i.path().to_path_buf())
                    .unwrap_or_default(),
                recipients: manifest.recipients.clone(),
            },
            OpenFailure::Damaged(reason) => BackupProblem::Unreadable {
                backup,
                file: file.name.clone(),
                reason,
            },
        }))
    })
}

/// The schema as it was at backup time.
pub(crate) fn schema(
    store: &Store,
    manifest: &Manifest,
    identities: Option<&Identities>,
) -> Result<Snapshot, Error> {
    let file = stored(manifest, FileContent::Schema)?;
    let mut text = Vec::new();
    open(store, manifest, file, identities)?
        .read_to_end(&mut text)
        .map_err(|e| unreadable(manifest, file, e.to_string()))?;
    serde_json::from_slice(&text).map_err(|e| unreadable(manifest, file, e.to_string()))
}

fn stored(manifest: &Manifest, content: FileContent) -> Result<&StoredFile, Error> {
    manifest.file(content).ok_or_else(|| {
        Error::Backup(Box::new(BackupProblem::Manifest {
            backup: manifest.id.to_string(),
            reason: format!("its manifest lists no {content:?} file"),
        }))
    })
}

pub(crate) fn unreadable(manifest: &Manifest, file: &StoredFile, reason: String) -> Error {
    Error::Backup(Box::new(BackupProblem::Unreadable {
        backup: manifest.id.to_string(),
        file: file.name.clone(),
        reason,
    }))
}

/// Restores the archive into `target` with `pg_restore` (in one
/// transaction, stopping at the first error) and `extra` options;
/// returns how long it took in milliseconds.
pub(crate) async fn pg_restore(
    store: &Store,
    manifest: &Manifest,
    identities: Option<&Identities>,
    target: &DatabaseTarget,
    extra: &[&str],
    notify: &mut (dyn FnMut(crate::runner::notice::Notice) + Send),
) -> Result<u64, Error> {
    let started = Instant::now();
    let client = target.connect().await?;
    let (server, _) = server_major(&client).await?;
    drop(client);
    let archive_major = major_of(&manifest.postgres.pg_dump_version).unwrap_or(server);
    let program = PgProgram::locate("pg_restore", server.max(archive_major))?;
    let file = stored(manifest, FileContent::PostgresDump)?;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let raw = store
        .read(&manifest.id, &file.name)
        .map_err(|e| unopened(store, manifest, file, e))?;
    let (hashing, stored) = Hashing::new(raw);
    let counted = super::progress::Counting::new(hashing, count.clone());
    let plain = unsealed(Box::new(counted), manifest, file, identities)?;
    let (mut input, problem) = CheckedArchive::new(plain, stored, manifest, file);
    let database = target
        .database()
        .unwrap_or("postgres")
        .replace('\\', "\\\\")
        .replace('\'', "\\'");
    let mut command = program.against(target);
    command
        .args(["--exit-on-error", "--single-transaction"])
        .args(extra)
        .arg(format!("--dbname=dbname='{database}'"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let backup = manifest.id.to_string();
    let stored_name = file.name.clone();
    let restoring = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().map_err(|e| {
            Error::Backup(Box::new(BackupProblem::Tool {
                program: "pg_restore".into(),
                message: format!("cannot be started from {}: {e}", program.path.display()),
            }))
        })?;
        let copied = child
            .stdin
            .take()
            .map(|mut stdin| copy_in_large_writes(&mut input, &mut stdin));
        // An archive that does not match its manifest, or that cannot be
        // read to its end, never reaches its end in pg_restore: stopped
        // before it could commit.
        if let Some(problem) = problem.lock().ok().and_then(|mut slot| slot.take()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Backup(Box::new(problem)));
        }
        if let Some(Err(CopyFailure::Read(e))) = &copied {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Backup(Box::new(BackupProblem::Unreadable {
                backup,
                file: stored_name,
                reason: e.to_string(),
            })));
        }
        let output = child.wait_with_output().map_err(|source| Error::Io {
            path: program.path.clone(),
            source,
        })?;
        if !output.status.success() {
            return Err(program.failed(output.status, &String::from_utf8_lossy(&output.stderr)));
        }
        match copied {
            Some(Err(CopyFailure::Read(e) | CopyFailure::Write(e))) => {
                Err(Error::Backup(Box::new(BackupProblem::Unreadable {
                    backup,
                    file: DUMP_FILE.into(),
                    reason: e.to_string(),
                })))
            }
            _ => Ok(()),
        }
    });
    let total = Some(file.size_bytes);
    let restoring = super::progress::reporting(restoring, "restoring", &count, total, notify);
    let restored = restoring.await.map_err(|e| {
        Error::Backup(Box::new(BackupProblem::Tool {
            program: "pg_restore".into(),
            message: format!("the copy of its input stopped: {e}"),
        }))
    })?;
    if let Err(Error::Backup(problem)) = &restored {
        if matches!(**problem, BackupProblem::Unreadable { .. }) {
            // Undecryptable because changed since? Then say that.
            check_files(store, manifest)?;
        }
    }
    restored?;
    Ok(started.elapsed().as_millis() as u64)
}

/// Copies `input` into `output` a mebibyte at a time (`std::io::copy`
/// writes 8 KiB at a time: a pipe wakes `pg_restore` for each).
fn copy_in_large_writes(
    input: &mut impl Read,
    output: &mut impl Write,
) -> Result<u64, CopyFailure> {
    let mut buffer = vec![0u8; 1 << 20];
    let mut copied = 0;
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyFailure::Read(e)),
        };
        output.write_all(&buffer[..n]).map_err(CopyFailure::Write)?;
        copied += n as u64;
    }
}

/// Which side of a copy failed: the archive, or `pg_restore`'s input.
enum CopyFailure {
    Read(std::io::Error),
    Write(std::io::Error),
}

/// The major version in a program's `--version` line.
fn major_of(version: &str) -> Option<u32> {
    let number = version
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    number.split('.').next()?.parse().ok()
}

/// Compares what `target` holds with the manifest: the differences of
/// rows, and the schema's as a unified diff (owners and privileges left
/// out when `without_owners`, as `pg_restore --no-owner --no-acl` drops them).
pub(crate) async fn compare(
    manifest: &Manifest,
    expected_schema: Option<Snapshot>,
    target: &DatabaseTarget,
    without_owners: bool,
) -> Result<(Vec<String>, String, i64), Error> {
    let client = target.connect().await?;
    // Rows read from the archive were checked on their way in; the server
    // now counts what it holds. Older backups' rows are fingerprinted again.
    let from_archive = rows_from_archive(manifest);
    let tables = match from_archive {
        true => fingerprint::count(&client, &manifest.postgres.tables).await?,
        false => fingerprint::read(&client).await?,
    };
    let rows = tables.iter().map(|t| t.rows).sum();
    let differences = fingerprint::differences(&manifest.postgres.tables, &tables, !from_archive);
    let Some(expected) = expected_schema else {
        return Ok((differences, String::new(), rows));
    };
    let actual = crate::catalog::reading::snapshot(&client, &[]).await?;
    let ignored = if without_owners {
        [Ignored::Ownership, Ignored::Privileges]
            .into_iter()
            .collect()
    } else {
        Default::default()
    };
    let expected = expected.without(&ignored, &[]).to_text();
    let actual = actual.without(&ignored, &[]).to_text();
    let diff = if expected == actual {
        String::new()
    } else {
        similar::TextDiff::from_lines(&expected, &actual)
            .unified_diff()
            .header("backup", "restored")
            .to_string()
    };
    Ok((differences, diff, rows))
}
