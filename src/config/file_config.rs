//! `schemactl.toml` as written: one struct per table, every key optional,
//! unknown keys refused by `file_reading`. Values stay text here; `resolve`
//! parses them into the typed options, naming the key of every wrong one.

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

impl super::Settings {
    /// The JSON Schema of `schemactl.toml`, from the file's types and their
    /// docs: for editors (taplo and the TOML extensions that read JSON
    /// Schema) and the generated configuration reference.
    pub fn file_schema() -> serde_json::Value {
        schemars::schema_for!(FileConfig).to_value()
    }
}

/// `schemactl.toml` as written.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FileConfig {
    /// The migrations directory, relative to the file.
    pub migrations_dir: Option<PathBuf>,
    /// The migrations layout (detected when absent).
    pub layout: Option<String>,
    /// A `.sql` file the layout cannot place is an error.
    pub strict: Option<bool>,
    /// An empty migrations directory is expected.
    pub allow_empty: Option<bool>,
    /// golang-migrate's `x-multi-statement` mode: each statement of a file
    /// is sent, and commits, on its own.
    pub multi_statement: Option<bool>,
    /// The MongoDB validators directory, relative to the file.
    pub schemas_dir: Option<PathBuf>,
    /// PostgreSQL settings.
    #[serde(default)]
    pub postgres: PostgresConfig,
    /// Linter settings.
    #[serde(default)]
    pub lint: LintConfig,
    /// `verify` and `diff` settings.
    #[serde(default)]
    pub verify: VerifyConfig,
    /// MongoDB settings.
    #[serde(default)]
    pub mongodb: MongoConfig,
    /// The embedded development server.
    #[serde(default)]
    pub dev: DevConfig,
    /// `schemactl fleet`: which targets, how many at once.
    #[serde(default)]
    pub fleet: FleetConfig,
    /// `schemactl backup`: where, encrypted to whom, how many kept.
    #[serde(default)]
    pub backup: BackupConfig,
}

/// The `[backup]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BackupConfig {
    /// The store: a directory (relative to the file), `file:///path`,
    /// `s3://bucket/prefix`, `az://container/prefix` or `gs://bucket/prefix`.
    pub store: Option<String>,
    /// The age recipients (`age1…`) backups are encrypted to.
    pub recipients: Option<Vec<String>>,
    /// `backup prune`: the newest N backups.
    pub keep_last: Option<u32>,
    /// `backup prune`: the newest of each of the last N days.
    pub keep_daily: Option<u32>,
    /// `backup prune`: the newest of each of the last N ISO weeks.
    pub keep_weekly: Option<u32>,
    /// `backup prune`: the newest of each of the last N months.
    pub keep_monthly: Option<u32>,
}

/// The `[fleet]` table: where `schemactl fleet` finds its targets and how it
/// runs them. Flags win over each key.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FleetConfig {
    /// A file of connection strings, one per line (`#` comments), relative
    /// to the configuration file.
    pub targets: Option<PathBuf>,
    /// A query against `control_url` whose first column is the connection
    /// strings.
    pub targets_query: Option<String>,
    /// A command whose output lists the connection strings, one per line.
    pub targets_command: Option<String>,
    /// The control database: the target queries run there, and the run
    /// ledger is kept there.
    pub control_url: Option<String>,
    /// Schema-per-tenant: a file of schema names, one per line.
    pub tenant_schemas: Option<PathBuf>,
    /// Schema-per-tenant: a query whose first column is the schema names.
    pub tenant_schemas_query: Option<String>,
    /// How many targets run at once.
    pub concurrency: Option<usize>,
    /// How many targets run first, as canaries.
    pub canary: Option<usize>,
    /// After how many failed targets no new one starts (0: never stop).
    pub max_failures: Option<usize>,
    /// Where run ledgers are written when there is no control database,
    /// relative to the configuration file.
    pub ledger_dir: Option<PathBuf>,
}

/// The `[dev]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DevConfig {
    /// Use the embedded development PostgreSQL when no database URL is given.
    pub enabled: Option<bool>,
}

/// The `[mongodb]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MongoConfig {
    /// The connection URI (prefer MONGODB_URI for anything with a password).
    pub uri: Option<String>,
    /// How long a run's lock document lives before another run may take it over.
    pub lock_ttl: Option<String>,
}

/// The `[verify]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VerifyConfig {
    /// A server where scratch databases may be created and dropped.
    pub dev_url: Option<String>,
    /// How to treat columns that come back in another order: error, warning, ignore.
    pub column_order: Option<String>,
    /// How to treat definitions that differ only in timestamp literals
    /// (`'now'` frozen at creation): error, warning, ignore.
    pub volatile_literal: Option<String>,
    /// What to leave out of the comparison: `privileges`, `ownership`.
    pub ignore: Option<Vec<String>>,
    /// Objects to leave out of `dump`, `diff` and `verify`: glob patterns
    /// over their names (`audit_*`, `partman.*`).
    pub exclude: Option<Vec<String>>,
    /// A MongoDB server where scratch databases may be created and dropped.
    pub mongodb_dev_uri: Option<String>,
}

/// The `[lint]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LintConfig {
    /// Fail on warnings too.
    pub deny_warnings: Option<bool>,
    /// Severity by rule id: `error`, `warning` or `off`.
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
}

/// The `[postgres]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PostgresConfig {
    /// The connection URL.
    pub url: Option<String>,
    /// The schema of the history tables.
    pub history_schema: Option<String>,
    /// The name of the history table.
    pub history_table: Option<String>,
    /// The default `lock_timeout` of a migration.
    pub lock_timeout: Option<String>,
    /// The default `statement_timeout` of a migration.
    pub statement_timeout: Option<String>,
    /// How long to wait for the migration lock.
    pub lock_wait: Option<String>,
    /// How many times a migration that timed out on a lock is tried again.
    pub lock_retries: Option<u32>,
    /// `advisory` or `table`.
    pub lock_mode: Option<String>,
    /// The lease of `lock_mode = "table"`.
    pub lock_ttl: Option<String>,
    /// The most those retries may take together.
    pub lock_retry_budget: Option<String>,
    /// The role the migrations run as (`SET ROLE`).
    pub role: Option<String>,
    /// How long connecting may take.
    pub connect_timeout: Option<String>,
    /// `migrate` may start on a database with tables but no schemactl history.
    pub allow_non_empty: Option<bool>,
}
