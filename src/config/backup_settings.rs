//! [`BackupSettings`]: where `schemactl backup` keeps backups, whom they
//! are encrypted to, and how many `backup prune` keeps.

use crate::model::recipient::Recipient;
use crate::model::retention_policy::RetentionPolicy;

/// The `[backup]` table and its flags, resolved.
#[derive(Debug, Clone, Default)]
pub struct BackupSettings {
    /// The store (`--store`, else `[backup] store`, a relative path taken
    /// from the configuration file's folder).
    pub store: Option<String>,
    /// The recipients backups are encrypted to.
    pub recipients: Vec<Recipient>,
    /// What `backup prune` keeps (its `--keep-*` flags replace each value).
    pub retention: RetentionPolicy,
}
