//! Where backups are kept: a local directory (`file:///…` or a path), or
//! object storage: S3 and S3-compatible (`s3://bucket/prefix`, the `s3`
//! feature), Azure Blob Storage (`az://container/prefix`, `azure`) and
//! Google Cloud Storage (`gs://bucket/prefix`, `gcs`). Each backup is a folder (a key prefix) named by its id,
//! holding its files and `manifest.json`, which is written last: `backup
//! list` shows only backups whose manifest is there, so a killed run never
//! leaves a backup that looks whole.

mod local;
#[cfg(feature = "s3")]
mod object;
mod sink;

use super::manifest::{BackupId, BackupKind, Manifest, FORMAT};
use crate::error::backup_problem::BackupProblem;
use crate::Error;
pub(crate) use sink::Sink;
use std::io::Read;
use std::path::PathBuf;

/// The manifest's file name.
const MANIFEST: &str = "manifest.json";

/// A backup store.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    label: String,
}

#[derive(Debug, Clone)]
enum Backend {
    Local(local::LocalDir),
    #[cfg(feature = "s3")]
    Object(object::Bucket),
}

impl Store {
    /// The store `location` names: `s3://bucket/prefix` (credentials,
    /// region and endpoint from the standard `AWS_*` environment), or
    /// `file:///path`, or a path.
    pub fn parse(location: &str) -> Result<Self, Error> {
        let location = location.trim();
        if location.is_empty() {
            return Err(Error::InvalidArgument(
                "no backup store: give one with --store DIR or s3://bucket/prefix (or `[backup] store` in schemactl.toml)".into(),
            ));
        }
        const OBJECT_STORES: [&str; 7] = [
            "s3://", "s3a://", "az://", "azure://", "abfs://", "abfss://", "gs://",
        ];
        if OBJECT_STORES
            .iter()
            .any(|scheme| location.starts_with(scheme))
        {
            return Self::object(location);
        }
        let root = match location.strip_prefix("file://") {
            Some(path) => PathBuf::from(path),
            None if location.contains("://") => {
                return Err(Error::InvalidArgument(format!(
                    "backup store `{location}`: a directory (a path or file:///path), s3://bucket/prefix \
                     (S3 and S3-compatible storage such as MinIO), az://container/prefix (Azure Blob \
                     Storage) or gs://bucket/prefix (Google Cloud Storage)"
                )))
            }
            None => PathBuf::from(location),
        };
        Ok(Self {
            label: root.display().to_string(),
            backend: Backend::Local(local::LocalDir::new(root)),
        })
    }

    #[cfg(feature = "s3")]
    fn object(location: &str) -> Result<Self, Error> {
        Ok(Self {
            label: location.to_string(),
            backend: Backend::Object(object::Bucket::parse(location)?),
        })
    }

    #[cfg(not(feature = "s3"))]
    fn object(location: &str) -> Result<Self, Error> {
        Err(Error::InvalidArgument(format!(
            "backup store `{location}`: this schemactl is built without the `s3` feature"
        )))
    }

    /// The store as messages name it.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The ids of the whole backups (by id: by time to the second).
    pub fn ids(&self) -> Result<Vec<BackupId>, Error> {
        let mut ids = match &self.backend {
            Backend::Local(dir) => dir.ids(),
            #[cfg(feature = "s3")]
            Backend::Object(bucket) => bucket.ids(),
        }
        .map_err(|source| self.failed(None, source))?;
        ids.sort();
        Ok(ids)
    }

    /// The manifest of the backup `which` names: an id, or `latest` (the
    /// newest full backup). Each manifest is read once.
    pub fn find(&self, which: &str) -> Result<Manifest, Error> {
        let not_found = || {
            Error::Backup(Box::new(BackupProblem::NotFound {
                store: self.label.clone(),
                which: which.to_string(),
            }))
        };
        if which == "latest" {
            let mut newest: Option<Manifest> = None;
            for id in self.ids()? {
                let manifest = self.manifest(&id)?;
                if manifest.kind != BackupKind::Full {
                    continue;
                }
                if newest
                    .as_ref()
                    .is_none_or(|found| manifest.created_at >= found.created_at)
                {
                    newest = Some(manifest);
                }
            }
            return newest.ok_or_else(not_found);
        }
        let id = BackupId::try_from(which.to_string()).map_err(Error::InvalidArgument)?;
        match self.read(&id, MANIFEST) {
            Ok(reader) => self.parse_manifest(&id, reader),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found()),
            Err(source) => Err(self.failed(Some((&id, MANIFEST)), source)),
        }
    }

    /// A backup's manifest.
    pub fn manifest(&self, id: &BackupId) -> Result<Manifest, Error> {
        let reader = self
            .read(id, MANIFEST)
            .map_err(|source| self.failed(Some((id, MANIFEST)), source))?;
        self.parse_manifest(id, reader)
    }

    /// Reads and checks the manifest `reader` gives.
    fn parse_manifest(
        &self,
        id: &BackupId,
        mut reader: Box<dyn Read + Send>,
    ) -> Result<Manifest, Error> {
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|source| self.failed(Some((id, MANIFEST)), source))?;
        let bad = |reason: String| {
            Error::Backup(Box::new(BackupProblem::Manifest {
                backup: id.to_string(),
                reason,
            }))
        };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
            bad(format!(
                "{} cannot be read: {e}",
                self.location(id, MANIFEST).display()
            ))
        })?;
        if manifest.format > FORMAT {
            return Err(bad(format!(
                "its manifest has format {}, written by a newer schemactl ({}); upgrade schemactl to read it",
                manifest.format, manifest.schemactl_version
            )));
        }
        Ok(manifest)
    }

    /// A backup's file, to read.
    pub(crate) fn read(&self, id: &BackupId, name: &str) -> std::io::Result<Box<dyn Read + Send>> {
        match &self.backend {
            Backend::Local(dir) => dir.read(id, name),
            #[cfg(feature = "s3")]
            Backend::Object(bucket) => bucket.read(id, name),
        }
    }

    /// Where a backup's file is, for messages.
    pub(crate) fn location(&self, id: &BackupId, name: &str) -> PathBuf {
        match &self.backend {
            Backend::Local(dir) => dir.location(id, name),
            #[cfg(feature = "s3")]
            Backend::Object(_) => {
                PathBuf::from(format!("{}/{id}/{name}", self.label.trim_end_matches('/')))
            }
        }
    }

    /// Starts writing backup `id`.
    pub(crate) fn begin(&self, id: &BackupId) -> Result<Pending, Error> {
        let pending = match &self.backend {
            Backend::Local(dir) => dir.begin(id).map(PendingIn::Local),
            #[cfg(feature = "s3")]
            Backend::Object(bucket) => Ok(PendingIn::Object(bucket.begin(id))),
        };
        Ok(Pending {
            store: self.clone(),
            id: id.clone(),
            inner: pending.map_err(|source| self.failed(Some((id, "")), source))?,
        })
    }

    /// Deletes a backup: its manifest first, so that it leaves `list` at once.
    pub(crate) fn delete(&self, id: &BackupId) -> Result<(), Error> {
        match &self.backend {
            Backend::Local(dir) => dir.delete(id),
            #[cfg(feature = "s3")]
            Backend::Object(bucket) => bucket.delete(id),
        }
        .map_err(|source| self.failed(Some((id, "")), source))
    }

    /// An I/O failure on the store (or one of its files) as an error.
    pub(crate) fn failed(&self, file: Option<(&BackupId, &str)>, source: std::io::Error) -> Error {
        let path = match file {
            Some((id, name)) => self.location(id, name),
            None => PathBuf::from(&self.label),
        };
        let source = match credentials_hint(&self.label, &source.to_string()) {
            Some(hint) => std::io::Error::new(source.kind(), format!("{source}; {hint}")),
            None => source,
        };
        Error::Io { path, source }
    }
}

/// What to set when an object store found no credentials (its error names
/// the token or metadata request that failed, not the variables).
fn credentials_hint(store: &str, message: &str) -> Option<&'static str> {
    let no_credentials = ["token request", "credential", "169.254.169.254"]
        .iter()
        .any(|sign| message.contains(sign));
    if !no_credentials {
        return None;
    }
    let scheme = store.split("://").next().unwrap_or_default();
    Some(match scheme {
        "gs" => "no usable Google Cloud credentials: set GOOGLE_SERVICE_ACCOUNT (a service-account key file) or GOOGLE_APPLICATION_CREDENTIALS, or run where the metadata server gives them",
        "az" | "azure" | "abfs" | "abfss" => "no usable Azure credentials: set AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_KEY, or run with a managed or workload identity",
        "s3" | "s3a" => "no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run with an instance or task role",
        _ => return None,
    })
}

/// A backup being written: its files, then its manifest.
pub(crate) struct Pending {
    store: Store,
    id: BackupId,
    inner: PendingIn,
}

enum PendingIn {
    Local(local::PendingDir),
    #[cfg(feature = "s3")]
    Object(object::PendingUpload),
}

impl Pending {
    /// A new file of the backup (mode 0600 in a directory; streamed to
    /// object storage): [`Sink::commit`] ends it.
    pub(crate) fn create(&self, name: &str) -> Result<Box<dyn Sink>, Error> {
        match &self.inner {
            PendingIn::Local(dir) => dir.create(name),
            #[cfg(feature = "s3")]
            PendingIn::Object(upload) => upload.create(name),
        }
        .map_err(|source| self.store.failed(Some((&self.id, name)), source))
    }

    /// Writes the manifest last and makes the backup whole.
    pub(crate) fn finish(self, manifest: &Manifest) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(manifest).map_err(|e| {
            self.store
                .failed(Some((&self.id, MANIFEST)), std::io::Error::other(e))
        })?;
        let (store, id) = (self.store, self.id);
        match self.inner {
            PendingIn::Local(dir) => dir.finish(text.as_bytes()),
            #[cfg(feature = "s3")]
            PendingIn::Object(upload) => upload.finish(text.into_bytes()),
        }
        .map_err(|source| store.failed(Some((&id, MANIFEST)), source))
    }
}

#[cfg(test)]
mod tests {
    use super::credentials_hint;

    #[test]
    fn a_store_without_credentials_is_told_which_variables_to_set() {
        let gcs = "Generic GCS error: Error performing token request: Error performing GET http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token";
        let hint = credentials_hint("gs://bucket/nightly", gcs).unwrap();
        assert!(hint.contains("GOOGLE_SERVICE_ACCOUNT"), "{hint}");
        let hint = credentials_hint("az://c/p", "Azure error: credential missing").unwrap();
        assert!(hint.contains("AZURE_STORAGE_ACCOUNT_NAME"), "{hint}");
        assert!(credentials_hint("s3://b/p", "failed to load credentials").is_some());
        // Other failures, and local directories, get no hint.
        assert_eq!(credentials_hint("gs://bucket/p", "404 Not Found"), None);
        assert_eq!(credentials_hint("/var/backups", "credential"), None);
    }
}
