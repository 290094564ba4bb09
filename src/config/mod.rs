//! The typed settings a command runs with: one group per subsystem
//! ([`ProjectOptions`], [`ConnectOptions`], [`RunOptions`], [`LintSettings`],
//! [`VerifySettings`], [`MongoConnectOptions`], [`BackupSettings`]), with
//! durations, identifiers and policies already parsed, so that an invalid
//! value cannot be constructed. Library entry points take the group they
//! need.
//!
//! The `schemactl` command fills them from its flags, variables and
//! `schemactl.toml` (the configuration reference, docs/reference/config.md);
//! an application builds them in code from [`Settings::default`].

mod backup_settings;
mod connect_options;
mod lint_settings;
mod mongo_connect_options;
mod object_pattern;
mod project_options;
mod run_options;
mod verify_settings;

pub use backup_settings::BackupSettings;
pub use connect_options::ConnectOptions;
pub use lint_settings::LintSettings;
pub use mongo_connect_options::MongoConnectOptions;
pub use object_pattern::ObjectPattern;
pub use project_options::ProjectOptions;
pub use run_options::{BackfillSettings, ExecutionSettings, LockMode, RunOptions};
pub use verify_settings::Ignored;
pub use verify_settings::{DifferencePolicy, VerifySettings};

pub use crate::model::duration::ServerTimeout;
use crate::Error;

/// The name of the configuration file, as defaults name it.
pub(crate) const FILE_NAME: &str = "schemactl.toml";

/// The settings a command runs with: one typed group per subsystem.
/// `Settings::default()` is schemactl's defaults, read from no file or
/// variable.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Where the project's files are.
    pub project: ProjectOptions,
    /// How to reach the PostgreSQL database.
    pub connection: ConnectOptions,
    /// The history table, session settings and lock wait of each run.
    pub run: RunOptions,
    /// How `lint` judges.
    pub lint: LintSettings,
    /// Where `verify` and `diff` make scratch databases, and how they judge.
    pub verify: VerifySettings,
    /// The MongoDB side.
    pub mongodb: MongoConnectOptions,
    /// Where backups go and what `backup prune` keeps.
    pub backup: BackupSettings,
}

impl Settings {
    /// schemactl's defaults, without reading any configuration file or
    /// variable: history in `public.schema_versions`, `lock_timeout` 5 s, a
    /// 60 s wait for the migration lock, no database URL. Fields are public:
    /// change what an application needs.
    pub fn defaults() -> Result<Self, Error> {
        Ok(Self::default())
    }
}
