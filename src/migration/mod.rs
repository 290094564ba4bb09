//! The migration model: what a migrations directory contains, independent of
//! any database.
//!
//! A [`Migration`] is one version with its up script and, optionally, its down
//! script. [`source::load`] reads a directory into migrations and rejects a
//! directory that would make a deploy ambiguous (duplicate versions, a down
//! without its up, unparseable names, non-UTF-8 or empty files).

pub mod checksum;
pub mod directives;
pub mod file_name;
pub mod source;
pub mod statements;
pub mod text_position;

use std::path::PathBuf;

pub use checksum::Checksum;
pub use directives::Directives;
pub use statements::Statement;

/// One migration version: an up script and, when it can be undone, a down script.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The version number; migrations are ordered by it.
    pub version: i64,
    /// The version as written in the file name (keeps zero padding for display).
    pub version_text: String,
    /// The descriptive part of the file name.
    pub name: String,
    /// The script that applies the migration.
    pub up: Script,
    /// The script that undoes it, when there is one.
    pub down: Option<Script>,
}

impl Migration {
    /// `0003_add_orders`: how the migration is named in messages.
    pub fn label(&self) -> String {
        format!("{}_{}", self.version_text, self.name)
    }
}

/// One SQL file of a migration, read and checked.
#[derive(Debug, Clone)]
pub struct Script {
    /// Where the file is, as given (relative to the working directory when
    /// the migrations directory was given relatively).
    pub path: PathBuf,
    /// The SQL text, with a leading byte-order mark removed.
    pub sql: String,
    /// The checksum of the normalised content.
    pub checksum: Checksum,
    /// The `-- schemactl:` directives of the file's leading comments.
    pub directives: Directives,
    /// The statements of the file, in order, with their positions.
    pub statements: Vec<Statement>,
}

impl Script {
    /// The file name for messages (`migrations/0003_add_orders.up.sql`).
    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }
}

/// Which way a script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Applies the migration.
    Up,
    /// Undoes the migration.
    Down,
}

/// A file that belongs to a migrations directory, before it is paired up.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    /// Where the file is.
    pub path: PathBuf,
    /// What its name says.
    pub name: file_name::ParsedName,
}
