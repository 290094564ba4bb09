//! Where migrations come from. A [`MigrationSource`] yields the ordered,
//! checked migrations of a project (up, optional down, directives,
//! checksums); the [`crate::Migrator`] runs them without knowing whether
//! they were read from a directory, built in memory or compiled into the
//! binary ([`crate::source::embedded::EmbeddedMigrations`]).
//!
//! Every source checks and checksums its files exactly as the directory
//! reader does, so that any two sources of the same files agree on what is
//! applied.

pub mod build;
pub mod embedded;
mod new_migration;
pub(crate) mod reader;

pub use crate::model::ReadOptions;
pub use embedded::EmbeddedMigrations;
pub use new_migration::NewFiles;
pub use reader::Loaded;

use crate::config::Settings;
use crate::model::{Layout, Migration};
use crate::Error;
use std::path::{Path, PathBuf};

/// A set of migrations.
pub trait MigrationSource: Send + Sync {
    /// Where the migrations are, as shown in messages (a directory, or the
    /// directory an embedded set was compiled from).
    fn location(&self) -> &Path;

    /// Every migration, ordered by version, checked and checksummed; every
    /// problem found is reported at once ([`Error::InvalidMigrations`]).
    fn load(&self) -> Result<Vec<Migration>, Error>;

    /// The migrations with the layout they were read in and the files the
    /// layout could not place (warnings).
    fn read(&self) -> Result<Loaded, Error> {
        Ok(Loaded {
            layout: Layout::Schemactl,
            migrations: self.load()?,
            warnings: Vec::new(),
        })
    }
}

/// A migrations directory on disk (`migrations/`), in any layout
/// schemactl reads (detected, or given in [`ReadOptions`]).
#[derive(Debug, Clone)]
pub struct Directory {
    path: PathBuf,
    options: ReadOptions,
}

impl Directory {
    /// The directory at `path`, layout detected; it is read when a run loads it.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            options: ReadOptions::default(),
        }
    }

    /// The directory at `path`, read as `options` say.
    pub fn with_options(path: impl Into<PathBuf>, options: ReadOptions) -> Self {
        Self {
            path: path.into(),
            options,
        }
    }

    /// The configured migrations directory. A project that manages MongoDB
    /// (a MongoDB URI, or specs under `schemas/`) may have no SQL migration
    /// yet: its directory may be empty.
    pub fn from_settings(settings: &Settings) -> Self {
        let mut options = settings.project.read.clone();
        let has_specs = std::fs::read_dir(&settings.project.schemas_dir)
            .is_ok_and(|mut entries| entries.next().is_some());
        options.allow_empty |= settings.mongodb.uri.is_some() || has_specs;
        Self::with_options(&settings.project.migrations_dir, options)
    }
}

impl Directory {
    /// The migrations with their down scripts named but not read (each
    /// migration's `down` is `None`): what a deploy needs to tell whether
    /// anything is pending.
    pub(crate) fn read_without_downs(&self) -> Result<Loaded, Error> {
        reader::read_directory_with(&self.path, &self.options, reader::Downs::NamedOnly)
    }
}

impl MigrationSource for Directory {
    fn location(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<Vec<Migration>, Error> {
        self.read().map(|loaded| loaded.migrations)
    }

    fn read(&self) -> Result<Loaded, Error> {
        reader::read_directory(&self.path, &self.options)
    }
}

/// Migration files held in memory, checked as if they were a directory's
/// files: for generated migrations, and for tests that need no disk.
///
/// ```
/// use schemactl::source::{InMemory, MigrationSource};
/// let migrations = InMemory::new("migrations")
///     .with_file("0001_create_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);")
///     .with_file("0001_create_users.down.sql", "DROP TABLE users;")
///     .load()
///     .unwrap();
/// assert_eq!(migrations[0].label(), "0001_create_users");
/// ```
#[derive(Debug, Clone, Default)]
pub struct InMemory {
    location: PathBuf,
    files: Vec<(String, Vec<u8>)>,
}

impl InMemory {
    /// No files yet; `location` is the directory named in messages.
    pub fn new(location: impl Into<PathBuf>) -> Self {
        Self {
            location: location.into(),
            files: Vec::new(),
        }
    }

    /// Adds a file by its name (`0001_create_users.up.sql`) and contents.
    pub fn with_file(mut self, name: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.into(), contents.into()));
        self
    }
}

impl MigrationSource for InMemory {
    fn location(&self) -> &Path {
        &self.location
    }

    fn load(&self) -> Result<Vec<Migration>, Error> {
        let files: Vec<(&str, &[u8])> = self
            .files
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
            .collect();
        reader::from_memory(&self.location, &files)
    }
}

/// Migrations read once and handed out again: a fleet run reads the
/// directory once, not once per target.
#[derive(Debug, Clone)]
pub(crate) struct Preloaded {
    location: PathBuf,
    loaded: std::sync::Arc<Loaded>,
}

impl Preloaded {
    /// Reads `source` now (warnings about unplaced files are kept with the
    /// first read and not repeated).
    pub(crate) fn read(source: &dyn MigrationSource) -> Result<(Self, Vec<String>), Error> {
        let mut loaded = source.read()?;
        let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
        loaded.warnings.clear();
        Ok((
            Self {
                location: source.location().to_path_buf(),
                loaded: std::sync::Arc::new(loaded),
            },
            warnings,
        ))
    }
}

impl MigrationSource for Preloaded {
    fn location(&self) -> &Path {
        &self.location
    }

    fn load(&self) -> Result<Vec<Migration>, Error> {
        Ok(self.loaded.migrations.clone())
    }

    fn read(&self) -> Result<Loaded, Error> {
        Ok((*self.loaded).clone())
    }
}
