//! `schemactl.toml` as written: one struct per table, every key optional,
//! unknown keys refused by `file_reading`. Values stay text here; `resolve`
//! parses them into the typed options, naming the key of every wrong one.

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The JSON Schema of `schemactl.toml`, from the file's types and their
/// docs: for editors (taplo and the TOML extensions that read JSON Schema)
/// and the generated configuration reference.
pub(crate) fn file_schema() -> serde_json::Value {
    schemars::schema_for!(FileConfig).to_value()
}

/// `schemactl.toml` as written.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct FileConfig {
    /// The migrations directory, relative to the file.
    pub(crate) migrations_dir: Option<PathBuf>,
    /// The migrations layout (detected when absent).
    pub(crate) layout: Option<String>,
    /// A `.sql` file the layout cannot place is an error.
    pub(crate) strict: Option<bool>,
    /// An empty migrations directory is expected.
    pub(crate) allow_empty: Option<bool>,
    /// golang-migrate's `x-multi-statement` mode: each statement of a file
    /// is sent, and commits, on its own.
    pub(crate) multi_statement: Option<bool>,
    /// The MongoDB validators directory, relative to the file.
    pub(crate) schemas_dir: Option<PathBuf>,
    /// PostgreSQL settings.
    #[serde(default)]
    pub(crate) postgres: PostgresConfig,
    /// Linter settings.
    #[serde(default)]
    pub(crate) lint: LintConfig,
    /// `verify` and `diff` settings.
    #[serde(default)]
    pub(crate) verify: VerifyConfig,
    /// MongoDB settings.
    #[serde(default)]
    pub(crate) mongodb: MongoConfig,
    /// The embedded development server.
    #[serde(default)]
    pub(crate) dev: DevConfig,
    /// `schemactl fleet`: which targets, how many at once.
    #[serde(default)]
    pub(crate) fleet: FleetConfig,
    /// `schemactl backup`: where, encrypted to whom, how many kept.
    #[serde(default)]
    pub(crate) backup: BackupConfig,
}

/// The `[backup]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct BackupConfig {
    /// The store: a directory (relative to the file), `file:///path`,
    /// `s3://bucket/prefix`, `az://container/prefix` or `gs://bucket/prefix`.
    pub(crate) store: Option<String>,
    /// The age recipients (`age1…`) backups are encrypted to.
    pub(crate) recipients: Option<Vec<String>>,
    /// `backup prune`: the newest N backups.
    pub(crate) keep_last: Option<u32>,
    /// `backup prune`: the newest of each of the last N days.
    pub(crate) keep_daily: Option<u32>,
    /// `backup prune`: the newest of each of the last N ISO weeks.
    pub(crate) keep_weekly: Option<u32>,
    /// `backup prune`: the newest of each of the last N months.
    pub(crate) keep_monthly: Option<u32>,
}

/// The `[fleet]` table: where `schemactl fleet` finds its targets and how it
/// runs them. Flags win over each key.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct FleetConfig {
    /// A file of connection strings, one per line (`#` comments), relative
    /// to the configuration file.
    pub(crate) targets: Option<PathBuf>,
    /// A query against `control_url` whose first column is the connection
    /// strings.
    pub(crate) targets_query: Option<String>,
    /// A command whose output lists the connection strings, one per line.
    pub(crate) targets_command: Option<String>,
    /// The control database: the target queries run there, and the run
    /// ledger is kept there.
    pub(crate) control_url: Option<String>,
    /// Schema-per-tenant: a file of schema names, one per line.
    pub(crate) tenant_schemas: Option<PathBuf>,
    /// Schema-per-tenant: a query whose first column is the schema names.
    pub(crate) tenant_schemas_query: Option<String>,
    /// How many targets run at once.
    pub(crate) concurrency: Option<usize>,
    /// How many targets run first, as canaries.
    pub(crate) canary: Option<usize>,
    /// After how many failed targets no new one starts (0: never stop).
    pub(crate) max_failures: Option<usize>,
    /// Where run ledgers are written when there is no control database,
    /// relative to the configuration file.
    pub(crate) ledger_dir: Option<PathBuf>,
}

/// The `[dev]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct DevConfig {
    /// Use the embedded development PostgreSQL when no database URL is given.
    pub(crate) enabled: Option<bool>,
}

/// The `[mongodb]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct MongoConfig {
    /// The connection URI (prefer MONGODB_URI for anything with a password).
    pub(crate) uri: Option<String>,
    /// How long a run's lock document lives before another run may take it over.
    pub(crate) lock_ttl: Option<String>,
}

/// The `[verify]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct VerifyConfig {
    /// A server where scratch databases may be created and dropped.
    pub(crate) dev_url: Option<String>,
    /// How to treat columns that come back in another order: error, warning, ignore.
    pub(crate) column_order: Option<String>,
    /// How to treat definitions that differ only in timestamp literals
    /// (`'now'` frozen at creation): error, warning, ignore.
    pub(crate) volatile_literal: Option<String>,
    /// What to leave out of the comparison: `privileges`, `ownership`.
    pub(crate) ignore: Option<Vec<String>>,
    /// Objects to leave out of `dump`, `diff` and `verify`: glob patterns
    /// over their names (`audit_*`, `partman.*`).
    pub(crate) exclude: Option<Vec<String>>,
    /// A MongoDB server where scratch databases may be created and dropped.
    pub(crate) mongodb_dev_uri: Option<String>,
}

/// The `[lint]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct LintConfig {
    /// Fail on warnings too.
    pub(crate) deny_warnings: Option<bool>,
    /// Severity by rule id: `error`, `warning` or `off`.
    #[serde(default)]
    pub(crate) rules: BTreeMap<String, String>,
}

/// The `[postgres]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PostgresConfig {
    /// The connection URL.
    pub(crate) url: Option<String>,
    /// The schema of the history tables.
    pub(crate) history_schema: Option<String>,
    /// The name of the history table.
    pub(crate) history_table: Option<String>,
    /// The default `lock_timeout` of a migration.
    pub(crate) lock_timeout: Option<String>,
    /// The default `statement_timeout` of a migration.
    pub(crate) statement_timeout: Option<String>,
    /// How long to wait for the migration lock.
    pub(crate) lock_wait: Option<String>,
    /// How many times a migration that timed out on a lock is tried again.
    pub(crate) lock_retries: Option<u32>,
    /// `advisory` or `table`.
    pub(crate) lock_mode: Option<String>,
    /// The lease of `lock_mode = "table"`.
    pub(crate) lock_ttl: Option<String>,
    /// The most those retries may take together.
    pub(crate) lock_retry_budget: Option<String>,
    /// The role the migrations run as (`SET ROLE`).
    pub(crate) role: Option<String>,
    /// How long connecting may take.
    pub(crate) connect_timeout: Option<String>,
    /// `migrate` may start on a database with tables but no schemactl history.
    pub(crate) allow_non_empty: Option<bool>,
}
