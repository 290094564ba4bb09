//! A store in a local directory. Each backup is a folder made as
//! `.partial-<id>` and renamed once its manifest is in place; a killed run
//! leaves only a partial folder, which the next backup removes. Folders
//! 0700, files 0600.

use super::{Sink, MANIFEST};
use crate::backup::manifest::BackupId;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The prefix of a backup still being written.
const PARTIAL: &str = ".partial-";

/// A store's directory.
#[derive(Debug, Clone)]
pub(super) struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub(super) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The ids of the folders that hold a manifest.
    pub(super) fn ids(&self) -> io::Result<Vec<BackupId>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().join(MANIFEST).is_file())
            .filter_map(|entry| {
                BackupId::try_from(entry.file_name().to_string_lossy().into_owned()).ok()
            })
            .collect())
    }

    pub(super) fn location(&self, id: &BackupId, name: &str) -> PathBuf {
        self.root.join(id.as_str()).join(name)
    }

    pub(super) fn read(&self, id: &BackupId, name: &str) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(self.location(id, name))?))
    }

    /// Starts writing backup `id`; partial folders of killed runs are removed.
    pub(super) fn begin(&self, id: &BackupId) -> io::Result<PendingDir> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)?;
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for entry in entries.filter_map(Result::ok) {
                if entry.file_name().to_string_lossy().starts_with(PARTIAL) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = self.root.join(format!("{PARTIAL}{id}"));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        Ok(PendingDir {
            dir,
            done: self.root.join(id.as_str()),
            finished: false,
        })
    }

    /// Deletes a backup: its manifest first.
    pub(super) fn delete(&self, id: &BackupId) -> io::Result<()> {
        let dir = self.root.join(id.as_str());
        std::fs::remove_file(dir.join(MANIFEST))?;
        std::fs::remove_dir_all(&dir)
    }
}

/// A backup's folder being written.
pub(super) struct PendingDir {
    dir: PathBuf,
    done: PathBuf,
    finished: bool,
}

impl PendingDir {
    /// A new file (mode 0600; its folder 0700).
    pub(super) fn create(&self, name: &str) -> io::Result<Box<dyn Sink>> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent().filter(|p| *p != self.dir) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        Ok(Box::new(open_new(&path)?))
    }

    /// Writes the manifest (synced), then renames the folder into place.
    pub(super) fn finish(mut self, manifest: &[u8]) -> io::Result<()> {
        let mut file = open_new(&self.dir.join(MANIFEST))?;
        file.write_all(manifest)?;
        file.sync_all()?;
        std::fs::rename(&self.dir, &self.done)?;
        if let Some(parent) = self.done.parent() {
            if let Ok(parent) = File::open(parent) {
                let _ = parent.sync_all();
            }
        }
        self.finished = true;
        Ok(())
    }
}

fn open_new(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

impl Drop for PendingDir {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
