//! [`ProjectOptions`]: where a project's files are — the configuration file,
//! the migrations and how they are read, the MongoDB validators.

use crate::model::ReadOptions;
use std::path::PathBuf;

/// Where the project's files are.
#[derive(Debug, Clone)]
pub struct ProjectOptions {
    /// The project's directory: the configuration file's, else the working
    /// directory (`.schemactl/` lives there).
    pub dir: PathBuf,
    /// The configuration file read (or the one that would be), for messages.
    pub config_file: PathBuf,
    /// The migrations directory.
    pub migrations_dir: PathBuf,
    /// How it is read: its layout (detected when `None`), whether a `.sql`
    /// file the layout cannot place is an error, whether it may be empty.
    pub read: ReadOptions,
    /// The MongoDB validators directory.
    pub schemas_dir: PathBuf,
}

impl Default for ProjectOptions {
    /// The working directory's `migrations/` and `schemas/`, the layout
    /// detected.
    fn default() -> Self {
        Self {
            dir: PathBuf::from("."),
            config_file: PathBuf::from(super::FILE_NAME),
            migrations_dir: PathBuf::from("migrations"),
            read: ReadOptions::default(),
            schemas_dir: PathBuf::from("schemas"),
        }
    }
}
