//! What the backup verbs report (`--format json` prints these).

use super::manifest::{BackupId, BackupKind, Manifest};
use super::retention::Decision;
use serde::Serialize;
use time::OffsetDateTime;

/// One backup, as `backup list` shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BackupSummary {
    /// Its id.
    pub id: BackupId,
    /// When its snapshot was taken.
    #[schemars(with = "String")]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// What it holds.
    pub(crate) kind: BackupKind,
    /// Its stored size.
    pub size_bytes: u64,
    /// Whether it is encrypted.
    pub encrypted: bool,
    /// The database it is of (no password).
    pub database: String,
    /// The PostgreSQL server's version.
    pub server_version: String,
    /// The newest migration applied when it was made.
    pub history_version: Option<String>,
    /// How many tables it holds.
    pub tables: usize,
    /// How many rows, all tables together.
    pub rows: i64,
    /// How many MongoDB collections it holds.
    pub mongodb_collections: usize,
    /// How many MongoDB documents, all collections together.
    pub mongodb_documents: u64,
}

impl BackupSummary {
    /// The summary of a manifest.
    pub fn of(manifest: &Manifest) -> Self {
        Self {
            id: manifest.id.clone(),
            created_at: manifest.created_at,
            kind: manifest.kind,
            size_bytes: manifest.size_bytes(),
            encrypted: manifest.encrypted,
            database: manifest.postgres.database.clone(),
            server_version: manifest.postgres.server_version.clone(),
            history_version: manifest.postgres.history_version.clone(),
            tables: manifest.postgres.tables.len(),
            rows: manifest.postgres.tables.iter().map(|t| t.rows).sum(),
            mongodb_collections: mongodb_collections(manifest).count(),
            mongodb_documents: mongodb_collections(manifest).map(|c| c.documents).sum(),
        }
    }
}

fn mongodb_collections(manifest: &Manifest) -> impl Iterator<Item = &super::MongoCollection> {
    manifest
        .mongodb
        .iter()
        .flat_map(|part| &part.databases)
        .flat_map(|database| &database.collections)
}

/// `backup list`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BackupList {
    /// The store.
    pub store: String,
    /// Its whole backups, oldest first.
    pub backups: Vec<BackupSummary>,
}

/// `backup create`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BackupCreated {
    /// The store.
    pub store: String,
    /// The new backup.
    pub backup: BackupSummary,
    /// How long it took.
    pub duration_ms: u64,
}

/// `backup verify` and `backup restore`: what was restored, how long it
/// took (the measured recovery time), and what differs from the manifest.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BackupRestored {
    /// The store.
    pub store: String,
    /// The backup.
    pub id: BackupId,
    /// The database restored into (a scratch one for `verify`).
    pub database: String,
    /// Whether nothing differs.
    pub ok: bool,
    /// How long `pg_restore` took, reading included.
    pub restore_ms: u64,
    /// How many tables were compared.
    pub tables: usize,
    /// How many rows they hold.
    pub rows: i64,
    /// What differs from the manifest (row counts, values, missing tables).
    pub differences: Vec<String>,
    /// The schema's differences, as a unified diff (empty when none).
    pub schema_diff: String,
    /// What was not restored, and why.
    pub notes: Vec<String>,
}

/// `backup prune`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PruneReport {
    /// The store.
    pub store: String,
    /// Whether nothing was deleted (`--dry-run`).
    pub dry_run: bool,
    /// The backups kept, newest first, with the rules that keep them.
    pub kept: Vec<Decision>,
    /// The backups deleted (or, with `--dry-run`, that would be).
    pub deleted: Vec<Decision>,
}

/// A pre-migration backup `migrate --backup` took: the data one migration
/// destroys, kept in its transaction just before its script.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct DataBackupTaken {
    /// The backup.
    pub backup: BackupId,
    /// The migration's version.
    pub version: String,
    /// Each table: `table (N rows: columns a, b)` or `table (N rows)`.
    pub tables: Vec<String>,
}
