//! What the command line (or an application) says, before the file and the
//! defaults are consulted: text as given, parsed by `resolve`.

use std::path::PathBuf;

/// What the command line says; `None` leaves the decision to the file or the default.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config`.
    pub config_file: Option<PathBuf>,
    /// `--database-url` or `DATABASE_URL`.
    pub database_url: Option<String>,
    /// Where `database_url` came from, for errors: `--database-url` or
    /// `DATABASE_URL` (`None`: the caller does not say).
    pub database_url_source: Option<String>,
    /// `--migrations-dir`.
    pub migrations_dir: Option<PathBuf>,
    /// `--layout`.
    pub layout: Option<String>,
    /// `--strict`.
    pub strict: bool,
    /// `--allow-empty`.
    pub allow_empty: bool,
    /// `--history-schema`.
    pub history_schema: Option<String>,
    /// `--history-table`.
    pub history_table: Option<String>,
    /// `--lock-timeout`.
    pub lock_timeout: Option<String>,
    /// `--statement-timeout`.
    pub statement_timeout: Option<String>,
    /// `--lock-wait`.
    pub lock_wait: Option<String>,
    /// `--lock-retries`.
    pub lock_retries: Option<u32>,
    /// `--lock-mode`.
    pub lock_mode: Option<String>,
    /// `--lock-ttl`.
    pub lock_ttl: Option<String>,
    /// `--lock-retry-budget`.
    pub lock_retry_budget: Option<String>,
    /// `--dev-url` or `SCHEMACTL_DEV_URL`.
    pub dev_url: Option<String>,
    /// `--column-order`.
    pub column_order: Option<String>,
    /// `--volatile-literal`.
    pub volatile_literal: Option<String>,
    /// `--ignore` (repeatable).
    pub ignore: Vec<String>,
    /// `--exclude` (repeatable).
    pub exclude: Vec<String>,
    /// `--mongodb-uri` or `MONGODB_URI`.
    pub mongodb_uri: Option<String>,
    /// `--mongodb-dev-uri` or `SCHEMACTL_MONGODB_DEV_URI`.
    pub mongodb_dev_uri: Option<String>,
    /// `--role`.
    pub role: Option<String>,
    /// `--connect-timeout`.
    pub connect_timeout: Option<String>,
    /// `backup … --store`.
    pub backup_store: Option<String>,
    /// `backup create --recipient` (repeatable).
    pub backup_recipients: Vec<String>,
    /// Look for `./schemactl.toml` in the working directory when no
    /// `config_file` is given (what the CLI does). Off by default: the
    /// library reads no file it was not asked to.
    pub discover_config_file: bool,
    /// Whether the embedded development server may be used when no database
    /// URL is given (`--dev`; the CLI also allows it on a terminal outside
    /// CI). `None` or `false`: never, unless `[dev] enabled = true`.
    pub dev_server: Option<bool>,
}
