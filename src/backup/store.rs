//! Where backups are kept: a local directory (`file:///…` or a path).
//! Each backup is a folder named by its id, made as `.partial-<id>` and
//! renamed once its manifest, written last, is in place: `backup list`
//! shows only whole backups, and a killed run leaves only a partial
//! folder, which the next `backup create` removes. Folders 0700, files 0600.

use super::manifest::{BackupId, BackupKind, Manifest, FORMAT};
use crate::error::backup_problem::BackupProblem;
use crate::Error;
use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The manifest's file name.
const MANIFEST: &str = "manifest.json";
/// The prefix of a backup still being written.
const PARTIAL: &str = ".partial-";

/// A backup store.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    label: String,
}

impl Store {
    /// The store `location` names: `file:///path`, or a path.
    pub fn parse(location: &str) -> Result<Self, Error> {
        let location = location.trim();
        let root = if let Some(path) = location.strip_prefix("file://") {
            PathBuf::from(path)
        } else if location.contains("://") {
            return Err(Error::InvalidArgument(format!(
                "backup store `{location}`: only local directories (a path or file:///path) are supported in this release; \
                 copy the store's folder to object storage with your provider's tool (it is encrypted at rest)"
            )));
        } else if location.is_empty() {
            return Err(Error::InvalidArgument(
                "no backup store: give one with --store DIR (or `[backup] store` in schemactl.toml)".into(),
            ));
        } else {
            PathBuf::from(location)
        };
        Ok(Self {
            label: root.display().to_string(),
            root,
        })
    }

    /// The store as messages name it.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The ids of the whole backups (by id: by time to the second).
    pub fn ids(&self) -> Result<Vec<BackupId>, Error> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::io(&self.root)(e)),
        };
        let mut ids: Vec<BackupId> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().join(MANIFEST).is_file())
            .filter_map(|entry| {
                BackupId::try_from(entry.file_name().to_string_lossy().into_owned()).ok()
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The backup `which` names: an id, or `latest`.
    pub fn find(&self, which: &str) -> Result<BackupId, Error> {
        let not_found = || {
            Error::Backup(Box::new(BackupProblem::NotFound {
                store: self.label.clone(),
                which: which.to_string(),
            }))
        };
        if which == "latest" {
            let mut newest: Option<(time::OffsetDateTime, BackupId)> = None;
            for id in self.ids()? {
                let manifest = self.manifest(&id)?;
                if manifest.kind != BackupKind::Full {
                    continue;
                }
                let at = manifest.created_at;
                if newest.as_ref().is_none_or(|(time, _)| at >= *time) {
                    newest = Some((at, id));
                }
            }
            return newest.map(|(_, id)| id).ok_or_else(not_found);
        }
        let id = BackupId::try_from(which.to_string()).map_err(Error::InvalidArgument)?;
        if self.root.join(id.as_str()).join(MANIFEST).is_file() {
            Ok(id)
        } else {
            Err(not_found())
        }
    }

    /// A backup's manifest.
    pub fn manifest(&self, id: &BackupId) -> Result<Manifest, Error> {
        let path = self.root.join(id.as_str()).join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(Self::io(&path))?;
        let bad = |reason: String| {
            Error::Backup(Box::new(BackupProblem::Manifest {
                backup: id.to_string(),
                reason,
            }))
        };
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| bad(format!("{} cannot be read: {e}", path.display())))?;
        if manifest.format > FORMAT {
            return Err(bad(format!(
                "its manifest has format {}, written by a newer schemactl ({}); upgrade schemactl to read it",
                manifest.format, manifest.schemactl_version
            )));
        }
        Ok(manifest)
    }

    /// Where a backup's file is.
    pub(crate) fn file(&self, id: &BackupId, name: &str) -> PathBuf {
        self.root.join(id.as_str()).join(name)
    }

    /// Starts writing backup `id`; partial folders of killed runs are removed.
    pub(crate) fn begin(&self, id: &BackupId) -> Result<Pending, Error> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(Self::io(&self.root))?;
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for entry in entries.filter_map(Result::ok) {
                if entry.file_name().to_string_lossy().starts_with(PARTIAL) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = self.root.join(format!("{PARTIAL}{id}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(Self::io(&dir))?;
        Ok(Pending {
            dir,
            done: self.root.join(id.as_str()),
            finished: false,
        })
    }

    /// Deletes a backup: its manifest first, so that it leaves `list` at once.
    pub(crate) fn delete(&self, id: &BackupId) -> Result<(), Error> {
        let dir = self.root.join(id.as_str());
        let manifest = dir.join(MANIFEST);
        std::fs::remove_file(&manifest).map_err(Self::io(&manifest))?;
        std::fs::remove_dir_all(&dir).map_err(Self::io(&dir))
    }
}

/// A backup being written.
pub(crate) struct Pending {
    dir: PathBuf,
    done: PathBuf,
    finished: bool,
}

impl Pending {
    /// A new file of the backup (mode 0600).
    pub(crate) fn create(&self, name: &str) -> Result<File, Error> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent().filter(|p| *p != self.dir) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(Store::io(parent))?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(Store::io(&path))
    }

    /// Writes the manifest last and makes the backup whole.
    pub(crate) fn finish(mut self, manifest: &Manifest) -> Result<(), Error> {
        let path = self.dir.join(MANIFEST);
        let text = serde_json::to_string_pretty(manifest).map_err(|e| Error::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        let mut file = self.create(MANIFEST)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(Store::io(&path))?;
        file.sync_all().map_err(Store::io(&path))?;
        std::fs::rename(&self.dir, &self.done).map_err(Store::io(&self.done))?;
        if let Some(parent) = self.done.parent() {
            if let Ok(parent) = File::open(parent) {
                let _ = parent.sync_all();
            }
        }
        self.finished = true;
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
