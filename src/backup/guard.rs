//! [`DataGuard`]: what `migrate --backup` and `rollback --restore-data`
//! work with — the store, the keys, and when a backup is taken.

use super::encryption::{Encryption, Identities};
use super::store::Store;
use super::BackupOptions;

/// `migrate --backup`: which backups are taken before migrations run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BackupMode {
    /// Before each migration that destroys data (drops or truncates a
    /// table, drops or retypes a column), the rows and columns it
    /// destroys, kept in its own transaction.
    #[default]
    Auto,
    /// A full backup before the run, and `auto`'s backups too.
    Always,
    /// None.
    Never,
}

impl std::str::FromStr for BackupMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(Self::Auto),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            other => Err(format!(
                "`{other}` is not a backup mode: auto, always or never"
            )),
        }
    }
}

/// The store and keys backups around migrations use.
#[derive(Debug)]
pub struct DataGuard {
    /// Where backups go and come from.
    pub(crate) store: Store,
    /// When backups are taken (`migrate`).
    pub(crate) mode: BackupMode,
    /// How they are encrypted (`migrate`).
    pub(crate) encryption: Encryption,
    /// What a full backup (`always`) includes.
    pub(crate) full: Option<BackupOptions>,
    /// The keys that read them (`rollback --restore-data`); `None` when
    /// data is not restored.
    pub(crate) restore_with: Option<RestoreKeys>,
    /// What it did so far.
    pub(crate) outcome: std::sync::Mutex<GuardOutcome>,
}

/// What a [`DataGuard`] did in a run.
#[derive(Debug, Default)]
pub(crate) struct GuardOutcome {
    /// Pre-migration backups taken.
    pub(crate) backups: Vec<super::DataBackupTaken>,
    /// Data put back by `rollback --restore-data`.
    pub(crate) restored: Vec<super::RestoredTable>,
}

/// `rollback --restore-data`: the identities that decrypt the backups
/// (`None` for backups written with `--no-encrypt`).
#[derive(Debug)]
pub(crate) struct RestoreKeys(pub(crate) Option<Identities>);

impl DataGuard {
    /// What `migrate --backup MODE` works with, from the configuration:
    /// `None` with `never`, and with `auto` when no store is configured
    /// (`--store`, `[backup] store`); `always` needs one. Backups are
    /// encrypted to `[backup] recipients`.
    pub fn configured(
        settings: &crate::config::Settings,
        mode: BackupMode,
    ) -> Result<Option<Self>, crate::Error> {
        let store = match (mode, settings.backup.store.as_deref()) {
            (BackupMode::Never, _) | (BackupMode::Auto, None) => return Ok(None),
            (BackupMode::Always, None) => {
                return Err(crate::Error::InvalidArgument(
                    "--backup always needs a backup store: --store DIR or `[backup] store` in schemactl.toml".into(),
                ))
            }
            (_, Some(store)) => Store::parse(store)?,
        };
        let encryption = Encryption::of(settings.backup.recipients.clone(), false)?;
        let guard = Self::for_migrate(store, mode, encryption.clone());
        Ok(Some(match mode {
            BackupMode::Always => guard.with_full_backup(BackupOptions::of(settings, encryption)?),
            _ => guard,
        }))
    }

    /// Backups around `migrate` into `store`, encrypted as `encryption` says.
    pub fn for_migrate(store: Store, mode: BackupMode, encryption: Encryption) -> Self {
        Self {
            store,
            mode,
            encryption,
            full: None,
            restore_with: None,
            outcome: Default::default(),
        }
    }

    /// `rollback --restore-data` from `store`, decrypting with `identities`.
    pub fn for_rollback(store: Store, identities: Option<Identities>) -> Self {
        Self {
            store,
            mode: BackupMode::Never,
            encryption: Encryption::None,
            full: None,
            restore_with: Some(RestoreKeys(identities)),
            outcome: Default::default(),
        }
    }

    /// With a full backup of `options` before the run (`always`).
    pub fn with_full_backup(mut self, options: BackupOptions) -> Self {
        self.full = Some(options);
        self
    }

    /// What it did so far (taken out).
    pub(crate) fn take_outcome(&self) -> GuardOutcome {
        self.outcome
            .lock()
            .map(|mut o| std::mem::take(&mut *o))
            .unwrap_or_default()
    }

    /// Whether migrations' destroyed data is kept.
    pub(crate) fn keeps_destroyed_data(&self) -> bool {
        self.mode != BackupMode::Never
    }
}
