//! The archive on its way into `pg_restore`, checked as it streams: the
//! stored file's sha256 and, for archives whose rows the manifest records
//! from the archive itself, every table's rows. The archive's last byte is
//! held back until both are checked, so `pg_restore` (one transaction)
//! cannot commit what does not match the manifest, and the file is read
//! from the store once.

use super::archive_rows::{ArchiveRows, Teed, FINGERPRINT_PREFIX};
use super::manifest::{Manifest, StoredFile, TableRows};
use crate::error::backup_problem::BackupProblem;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::{Arc, Mutex};

/// What went wrong, when the check stopped the stream.
pub(crate) type Problem = Arc<Mutex<Option<BackupProblem>>>;

/// Whether the manifest's rows were read from the archive (and so can be
/// checked against it as it streams), not counted by the server.
pub(crate) fn rows_from_archive(manifest: &Manifest) -> bool {
    manifest
        .postgres
        .tables
        .iter()
        .all(|t| t.fingerprint.starts_with(FINGERPRINT_PREFIX))
}

/// A stored file's bytes, hashed as they are read.
pub(crate) struct Hashing<R> {
    inner: R,
    state: Arc<Mutex<(Sha256, bool)>>,
}

impl<R: Read> Hashing<R> {
    /// `inner`, hashed into a state [`CheckedArchive`] reads at the end.
    pub(crate) fn new(inner: R) -> (Self, Arc<Mutex<(Sha256, bool)>>) {
        let state = Arc::new(Mutex::new((Sha256::new(), false)));
        let hashing = Self {
            inner,
            state: state.clone(),
        };
        (hashing, state)
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut state) = self.state.lock() {
            state.0.update(&buf[..n]);
            state.1 |= n == 0 && !buf.is_empty();
        }
        Ok(n)
    }
}

/// The decrypted archive, its last byte released only once checked.
pub(crate) struct CheckedArchive {
    inner: Teed<Box<dyn Read + Send>>,
    rows: Option<ArchiveRows>,
    stored: Arc<Mutex<(Sha256, bool)>>,
    backup: String,
    file: StoredFile,
    expected_rows: Option<Vec<TableRows>>,
    held: Option<u8>,
    buffer: Vec<u8>,
    at: usize,
    end: usize,
    checked: bool,
    problem: Problem,
}

impl CheckedArchive {
    /// `plain` (the decrypted archive of `file`), checked against
    /// `manifest` with the sha256 state of the stored bytes.
    pub(crate) fn new(
        plain: Box<dyn Read + Send>,
        stored: Arc<Mutex<(Sha256, bool)>>,
        manifest: &Manifest,
        file: &StoredFile,
    ) -> (Self, Problem) {
        let (inner, rows) = ArchiveRows::tee(plain);
        let expected_rows = rows_from_archive(manifest).then(|| manifest.postgres.tables.clone());
        let problem = Problem::default();
        let checked = Self {
            inner,
            rows: Some(rows),
            stored,
            backup: manifest.id.to_string(),
            file: file.clone(),
            expected_rows,
            held: None,
            buffer: vec![0; 1 + (1 << 20)],
            at: 0,
            end: 0,
            checked: false,
            problem: problem.clone(),
        };
        (checked, problem)
    }

    /// At the archive's end: the stored file's sha256 and the rows.
    fn check(&mut self) -> Option<BackupProblem> {
        self.inner.close();
        let rows = self.rows.take().map(ArchiveRows::finish);
        let (digest, at_end) = match self.stored.lock() {
            Ok(state) => (state.0.clone().finalize(), state.1),
            Err(_) => return Some(self.unreadable("its checksum state was lost".into())),
        };
        let found = super::encryption::hex(&digest);
        if found != self.file.sha256 || !at_end {
            return Some(BackupProblem::Tampered {
                backup: self.backup.clone(),
                file: self.file.name.clone(),
                expected: self.file.sha256.clone(),
                found,
            });
        }
        let expected = self.expected_rows.as_ref()?;
        match rows {
            Some(Ok(read)) => {
                let differences = super::fingerprint::differences(expected, &read, true);
                (!differences.is_empty()).then(|| {
                    self.unreadable(format!(
                        "its rows are not those its manifest records: {}",
                        differences.join("; ")
                    ))
                })
            }
            Some(Err(reason)) => {
                Some(self.unreadable(format!("its rows cannot be read: {reason}")))
            }
            None => None,
        }
    }

    fn unreadable(&self, reason: String) -> BackupProblem {
        BackupProblem::Unreadable {
            backup: self.backup.clone(),
            file: self.file.name.clone(),
            reason,
        }
    }
}

impl Read for CheckedArchive {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.at < self.end {
                let n = buf.len().min(self.end - self.at);
                buf[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.checked {
                return Ok(self.held.take().map_or(0, |byte| {
                    buf[0] = byte;
                    1
                }));
            }
            // Slot 0 takes the byte held so far; the new last byte is held.
            let n = self.inner.read(&mut self.buffer[1..])?;
            if n == 0 {
                self.checked = true;
                if let Some(problem) = self.check() {
                    let message = problem.to_string();
                    if let Ok(mut slot) = self.problem.lock() {
                        *slot = Some(problem);
                    }
                    return Err(std::io::Error::other(message));
                }
                continue;
            }
            self.at = match self.held.take() {
                Some(byte) => {
                    self.buffer[0] = byte;
                    0
                }
                None => 1,
            };
            self.end = n;
            self.held = Some(self.buffer[n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives one byte per read, as a pipe may.
    struct Trickle(Vec<u8>, usize);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 == self.0.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[self.1];
            self.1 += 1;
            Ok(1)
        }
    }

    fn checked(bytes: &[u8], sha256: String) -> (CheckedArchive, Problem) {
        let (stored, state) = Hashing::new(Trickle(bytes.to_vec(), 0));
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "format": 1, "id": "20260101T000000Z-abcd", "created_at": "2026-01-01T00:00:00Z",
            "kind": "full", "schemactl_version": "0", "encrypted": false, "recipients": [],
            "duration_ms": 0,
            "postgres": {"database": "d", "server_version": "15", "pg_dump_version": "15",
                         "history_version": null, "tables": [
                             {"table": "public.t", "rows": 1, "fingerprint": "server"}]},
            "files": []
        }))
        .expect("a manifest");
        let file = StoredFile {
            name: "postgres.dump".into(),
            content: super::super::manifest::FileContent::PostgresDump,
            size_bytes: bytes.len() as u64,
            sha256,
        };
        CheckedArchive::new(Box::new(stored), state, &manifest, &file)
    }

    fn sha256(bytes: &[u8]) -> String {
        crate::backup::encryption::hex(&Sha256::digest(bytes))
    }

    #[test]
    fn every_byte_comes_through_in_order_once_the_checksum_matches() {
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (mut reader, problem) = checked(&bytes, sha256(&bytes));
        let mut out = Vec::new();
        let mut small = [0u8; 3];
        loop {
            let n = reader.read(&mut small).expect("the archive matches");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&small[..n]);
        }
        assert_eq!(out, bytes);
        assert!(problem.lock().expect("the slot").is_none());
    }

    #[test]
    fn the_last_byte_is_withheld_when_the_checksum_differs() {
        let bytes = b"PGDMP archive bytes".to_vec();
        let (mut reader, problem) = checked(&bytes, sha256(b"other bytes"));
        let mut out = Vec::new();
        let failed = reader.read_to_end(&mut out);
        assert!(failed.is_err(), "{out:?}");
        assert_eq!(out, bytes[..bytes.len() - 1], "all but the last byte");
        assert!(matches!(
            *problem.lock().expect("the slot"),
            Some(BackupProblem::Tampered { .. })
        ));
    }
}
