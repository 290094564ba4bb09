//! Why a backup cannot be made, read or trusted, for programs as well as
//! people: each variant names the backup and file it is about.

use std::path::PathBuf;

/// A backup problem ([`crate::Error::Backup`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupProblem {
    /// No backup with that id (or none at all, for `latest`).
    #[error("{store}: no backup {which}; `schemactl backup list` shows the ones there are")]
    NotFound {
        /// The store, as given.
        store: String,
        /// The id asked for, or `latest`.
        which: String,
    },
    /// A file the manifest lists is gone.
    #[error("backup {backup}: {file} is missing from {store}; the backup cannot be restored as it is (use another one)")]
    MissingFile {
        /// The backup.
        backup: String,
        /// The file.
        file: String,
        /// The store.
        store: String,
    },
    /// A file's bytes are not the ones written.
    #[error("backup {backup}: {file} was changed after the backup was written (sha256 {found}, the manifest says {expected}); \
             it cannot be trusted: use another backup")]
    Tampered {
        /// The backup.
        backup: String,
        /// The file.
        file: String,
        /// The manifest's sha256.
        expected: String,
        /// The file's sha256 now.
        found: String,
    },
    /// An encrypted backup and no identity to read it.
    #[error("backup {backup} is encrypted: give its key with --identity FILE (or SCHEMACTL_BACKUP_IDENTITY)")]
    NoIdentity {
        /// The backup.
        backup: String,
    },
    /// The identity given is not one the backup was encrypted to.
    #[error("backup {backup}: the key in {} is not one it was encrypted to (its recipients: {})", identity.display(), recipients.join(", "))]
    WrongKey {
        /// The backup.
        backup: String,
        /// The identity file.
        identity: PathBuf,
        /// The backup's recipients.
        recipients: Vec<String>,
    },
    /// A file does not decrypt or decompress.
    #[error(
        "backup {backup}: {file} cannot be read ({reason}); the backup cannot be restored as it is"
    )]
    Unreadable {
        /// The backup.
        backup: String,
        /// The file.
        file: String,
        /// What failed.
        reason: String,
    },
    /// The manifest was written by a newer schemactl, or is not one.
    #[error("backup {backup}: {reason}")]
    Manifest {
        /// The backup.
        backup: String,
        /// What is wrong.
        reason: String,
    },
    /// `pg_dump` or `pg_restore` is missing, too old, or failed.
    #[error("{program}: {message}")]
    Tool {
        /// The program.
        program: String,
        /// What happened, and the fix.
        message: String,
    },
}

impl BackupProblem {
    /// Its kind, for programs (`details.backup_problem` in a JSON error):
    /// `not-found`, `missing-file`, `tampered`, `no-identity`, `wrong-key`,
    /// `unreadable`, `manifest` or `tool`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not-found",
            Self::MissingFile { .. } => "missing-file",
            Self::Tampered { .. } => "tampered",
            Self::NoIdentity { .. } => "no-identity",
            Self::WrongKey { .. } => "wrong-key",
            Self::Unreadable { .. } => "unreadable",
            Self::Manifest { .. } => "manifest",
            Self::Tool { .. } => "tool",
        }
    }

    /// Whether it says the backup cannot be trusted (a check's finding,
    /// exit 1) rather than that the command could not run (exit 2).
    pub fn is_finding(&self) -> bool {
        matches!(
            self,
            Self::MissingFile { .. } | Self::Tampered { .. } | Self::Unreadable { .. }
        )
    }
}
