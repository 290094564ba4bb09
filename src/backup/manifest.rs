//! A backup's manifest (`manifest.json`, written last, in plain text so
//! that `backup list` needs no key): what was backed up, from which
//! server, at which history version, every table's row count and
//! fingerprint, and every stored file's size and sha256.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The manifest's format; a reader refuses a newer one.
pub const FORMAT: u32 = 1;

/// A backup's id: its UTC creation time and a random suffix
/// (`20261205T004512Z-3f9a`), so that ids sort by time.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct BackupId(String);

impl BackupId {
    /// A new id for a backup made at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let format =
            time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        let stamp = at.format(&format).unwrap_or_else(|_| "backup".into());
        Self(format!("{stamp}-{:04x}", rand::random::<u16>()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BackupId {
    type Error = String;

    /// Only letters, digits and `-` (an id names a folder: `../x` is not one).
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let valid = !text.is_empty()
            && text.len() <= 64
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if valid {
            Ok(Self(text))
        } else {
            Err(format!(
                "`{text}` is not a backup id (as `backup list` shows them, e.g. 20261205T004512Z-3f9a, or `latest`)"
            ))
        }
    }
}

impl From<BackupId> for String {
    fn from(id: BackupId) -> Self {
        id.0
    }
}

impl std::fmt::Display for BackupId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum BackupKind {
    /// The whole PostgreSQL database (`pg_dump`).
    Full,
    /// The rows and columns one migration destroys, kept just before it
    /// ran (`migrate --backup auto`), for `rollback --restore-data`.
    PreMigration,
}

/// What a stored file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FileContent {
    /// `pg_dump`'s custom-format archive.
    PostgresDump,
    /// The schema snapshot (the catalog as `verify` reads it), JSON.
    Schema,
    /// A MongoDB collection's documents, BSON one after another
    /// (mongodump's `<collection>.bson`).
    MongoDocuments,
    /// A MongoDB collection's options and indexes (mongodump's
    /// `<collection>.metadata.json`).
    MongoMetadata,
    /// One table's rows as `COPY … TO STDOUT` writes them (text format).
    TableData,
}

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredFile {
    /// Its name in the backup's folder.
    pub name: String,
    /// What it holds.
    pub content: FileContent,
    /// Its size as stored (compressed, encrypted).
    pub size_bytes: u64,
    /// The sha256 of the stored bytes.
    pub sha256: String,
}

/// One table's rows at backup time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TableRows {
    /// The table, schema-qualified.
    pub table: String,
    /// How many rows.
    pub rows: i64,
    /// An order-independent hash of the rows (the sum of each row's hash).
    pub fingerprint: String,
}

/// The PostgreSQL part of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PostgresPart {
    /// The database, as messages show it (no password).
    pub database: String,
    /// The server's version (`server_version`).
    pub server_version: String,
    /// The `pg_dump` that made the archive.
    pub pg_dump_version: String,
    /// The newest migration applied at backup time, when there is a history.
    pub history_version: Option<String>,
    /// Every table's rows, in the dump's snapshot.
    pub tables: Vec<TableRows>,
}

/// One MongoDB collection at backup time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MongoCollection {
    /// Its name.
    pub name: String,
    /// How many documents.
    pub documents: u64,
    /// An order-independent hash of the documents' BSON.
    pub fingerprint: String,
    /// The file of its documents.
    pub documents_file: String,
    /// The file of its options and indexes.
    pub metadata_file: String,
}

/// One MongoDB database at backup time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MongoDatabase {
    /// Its name.
    pub name: String,
    /// Its collections (views and `system.*` left out).
    pub collections: Vec<MongoCollection>,
}

/// The MongoDB part of a backup: the databases the project's `schemas/`
/// manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MongoPart {
    /// The server, as messages show it (no password).
    pub server: String,
    /// The databases.
    pub databases: Vec<MongoDatabase>,
}

/// A backup's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Manifest {
    /// The manifest's format (1; a reader refuses a newer one).
    pub(crate) format: u32,
    /// The backup's id.
    pub(crate) id: BackupId,
    /// When the backup's snapshot was taken.
    #[schemars(with = "String")]
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    /// What it holds.
    pub(crate) kind: BackupKind,
    /// The schemactl that made it.
    pub(crate) schemactl_version: String,
    /// Whether its files are encrypted, and to whom.
    pub(crate) encrypted: bool,
    /// The age recipients it is encrypted to.
    pub(crate) recipients: Vec<String>,
    /// How long making it took.
    pub(crate) duration_ms: u64,
    /// The PostgreSQL database.
    pub(crate) postgres: PostgresPart,
    /// The MongoDB databases, when MongoDB is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mongodb: Option<MongoPart>,
    /// A pre-migration backup's migration and tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) captured: Option<CapturedData>,
    /// Every stored file but the manifest.
    pub(crate) files: Vec<StoredFile>,
}

/// What a pre-migration backup holds: the data one migration destroys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CapturedData {
    /// The migration's version, as its history records it.
    pub version: String,
    /// Its name.
    pub migration: String,
    /// Each table it destroys data of.
    pub tables: Vec<CapturedTable>,
}

/// One table's destroyed data, as it was just before the migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CapturedTable {
    /// The table, quoted and qualified as the server resolved it.
    pub table: String,
    /// How the migration destroys it.
    pub loss: crate::lint::DataLoss,
    /// The primary key's columns (a lost column's values are put back by
    /// key); empty when the table has none.
    pub key: Vec<String>,
    /// The columns lost; empty when the whole table is.
    pub lost_columns: Vec<String>,
    /// The columns kept, in the file's order (key, then lost columns; or
    /// every stored column of a table lost whole).
    pub columns: Vec<CapturedColumn>,
    /// Rows kept.
    pub rows: i64,
    /// Their fingerprint (as a full backup computes it).
    pub fingerprint: String,
    /// The file holding them.
    pub file: String,
}

/// One column of a [`CapturedTable`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CapturedColumn {
    /// Its name.
    pub name: String,
    /// Its type as `format_type` prints it.
    pub data_type: String,
    /// It takes values from a sequence (serial or identity): set past the
    /// largest value restored.
    pub sequence: bool,
}

impl Manifest {
    /// The backup's id.
    pub fn id(&self) -> &BackupId {
        &self.id
    }

    /// Whether the backup holds MongoDB collections besides PostgreSQL's
    /// dump (restoring it needs a MongoDB target).
    pub fn includes_mongodb(&self) -> bool {
        self.mongodb.is_some()
    }

    /// The stored size of all its files.
    pub fn size_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size_bytes).sum()
    }

    /// The file holding `content`.
    pub(crate) fn file(&self, content: FileContent) -> Option<&StoredFile> {
        self.files.iter().find(|f| f.content == content)
    }
}
