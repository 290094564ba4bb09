//! schemactl's options as written, declared once: each field is a key of
//! `schemactl.toml` (serde, with its JSON Schema for editors and the
//! configuration reference) and, where it has one, its flag (clap), with
//! one doc comment for both. The file and the command line are read into
//! the same types, and `resolve` parses the flag's value, else the file's,
//! naming the one it came from when it is wrong. Keys without a flag are
//! `arg(skip)`; flags without a key (`--config`, a verb's own options) are
//! declared where they are used.

use clap::ArgAction;
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

/// `schemactl.toml` as written, and the global flags that stand for its keys.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema, clap::Args)]
#[schemars(deny_unknown_fields)]
pub(crate) struct FileConfig {
    /// Directory of migration files (in the file: relative to it)
    /// [default: migrations, next to schemactl.toml].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) migrations_dir: Option<PathBuf>,
    /// Layout of the migrations directory [default: detected]: schemactl, sqlx,
    /// golang-migrate, diesel, dbmate, goose, flyway (refinery) or pop; or the
    /// project's own naming pattern, e.g. `V{version}.{name}.{direction}.sql`.
    #[arg(long, global = true, value_name = "LAYOUT")]
    pub(crate) layout: Option<String>,
    /// Make a .sql file that the layout cannot place an error, not a warning.
    #[arg(long, global = true, action = ArgAction::SetTrue)]
    pub(crate) strict: Option<bool>,
    /// Accept an empty (or missing) migrations directory; the flag also
    /// accepts an empty `fleet` target list.
    #[arg(long, global = true, action = ArgAction::SetTrue)]
    pub(crate) allow_empty: Option<bool>,
    /// golang-migrate's `x-multi-statement` mode: each statement of a file
    /// is sent, and commits, on its own.
    #[arg(skip)]
    pub(crate) multi_statement: Option<bool>,
    /// The MongoDB validators directory, relative to the file [default: schemas].
    #[arg(skip)]
    pub(crate) schemas_dir: Option<PathBuf>,
    /// PostgreSQL settings.
    #[serde(default)]
    #[command(flatten)]
    pub(crate) postgres: PostgresConfig,
    /// Linter settings (`lint --deny-warnings` is the lint verb's flag).
    #[serde(default)]
    #[arg(skip)]
    pub(crate) lint: LintConfig,
    /// `verify` and `diff` settings.
    #[serde(default)]
    #[command(flatten)]
    pub(crate) verify: VerifyConfig,
    /// MongoDB settings.
    #[serde(default)]
    #[command(flatten)]
    pub(crate) mongodb: MongoConfig,
    /// The embedded development server.
    #[serde(default)]
    #[arg(skip)]
    pub(crate) dev: DevConfig,
    /// `schemactl fleet`: which targets, how many at once (its flags are
    /// the fleet verbs').
    #[serde(default)]
    #[arg(skip)]
    pub(crate) fleet: FleetConfig,
    /// `schemactl backup`: where, encrypted to whom, how many kept.
    #[serde(default)]
    #[arg(skip)]
    pub(crate) backup: BackupConfig,
}

/// The `[postgres]` table.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema, clap::Args)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PostgresConfig {
    /// PostgreSQL connection URL, e.g.
    /// postgres://user:pass@host:5432/db?sslmode=verify-full&sslrootcert=ca.crt
    /// (prefer the DATABASE_URL variable for anything with a password).
    /// Default: the DATABASE_URL variable, then `[postgres] url` in
    /// schemactl.toml, then the embedded development server.
    #[arg(
        long = "database-url",
        id = "database_url",
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true,
        value_name = "DATABASE_URL"
    )]
    pub(crate) url: Option<String>,
    /// Schema of the history tables [default: public].
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) history_schema: Option<String>,
    /// Name of the history table; events go to `<NAME>_events` [default: schema_versions].
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) history_table: Option<String>,
    /// lock_timeout for each migration, e.g. 5s; a file can override it with
    /// `-- schemactl:lock-timeout 30s` [default: 5s].
    #[arg(long, global = true, value_name = "DURATION")]
    pub(crate) lock_timeout: Option<String>,
    /// statement_timeout for each migration; 0 means no limit [default: 0].
    #[arg(long, global = true, value_name = "DURATION")]
    pub(crate) statement_timeout: Option<String>,
    /// How long connecting may take, handshake included; for PostgreSQL unless the
    /// connection string sets connect_timeout, for MongoDB the server selection [default: 10s].
    #[arg(long, global = true, value_name = "DURATION")]
    pub(crate) connect_timeout: Option<String>,
    /// How long to wait for another run's migration lock [default: 60s].
    #[arg(long, global = true, value_name = "DURATION")]
    pub(crate) lock_wait: Option<String>,
    /// How many times a transactional migration that timed out waiting for a
    /// table lock (lock_timeout) is tried again, with a growing wait between
    /// attempts [default: 3; 0: never].
    #[arg(long, global = true, value_name = "N")]
    pub(crate) lock_retries: Option<u32>,
    /// The most the lock retries of one migration may take together
    /// [default: 60s].
    #[arg(long, global = true, value_name = "DURATION")]
    pub(crate) lock_retry_budget: Option<String>,
    /// The migration lock: `advisory` (a session advisory lock) or `table`
    /// (a lease row, for connections through a transaction-pooling proxy
    /// such as PgBouncer) [default: advisory].
    #[arg(long, global = true, value_name = "MODE", value_parser = ["advisory", "table"])]
    pub(crate) lock_mode: Option<String>,
    /// How long a `lock_mode = "table"` lease lasts; renewed before each
    /// migration, so it must exceed the longest one [default: 10min].
    #[arg(long, global = true, value_name = "DURATION")]
    pub(crate) lock_ttl: Option<String>,
    /// Run the migrations as this PostgreSQL role (the login user must be a
    /// member), e.g. the role that owns the schema.
    #[arg(long, global = true, value_name = "ROLE")]
    pub(crate) role: Option<String>,
    /// `migrate` may start on a database with tables but no schemactl
    /// history (`migrate --allow-non-empty` is the verb's flag).
    #[arg(skip)]
    pub(crate) allow_non_empty: Option<bool>,
}

/// The `[verify]` table.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema, clap::Args)]
#[schemars(deny_unknown_fields)]
pub(crate) struct VerifyConfig {
    /// For verify and diff: a PostgreSQL server where schemactl may create and
    /// drop throwaway databases [default: the embedded development server].
    /// Never the database being migrated.
    #[arg(
        long,
        env = "SCHEMACTL_DEV_URL",
        global = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(crate) dev_url: Option<String>,
    /// For verify: a MongoDB server where schemactl may create and drop
    /// scratch databases. Never the deploy target.
    #[arg(
        long,
        env = "SCHEMACTL_MONGODB_DEV_URI",
        global = true,
        hide_env_values = true,
        value_name = "URI"
    )]
    pub(crate) mongodb_dev_uri: Option<String>,
    /// For verify and diff: how a table whose columns only changed order counts
    /// (error, warning, ignore) [default: warning].
    #[arg(long, global = true, value_name = "POLICY")]
    pub(crate) column_order: Option<String>,
    /// For verify and diff: how a definition that differs only in timestamp
    /// literals (a `'now'` frozen when it was created) counts (error,
    /// warning, ignore) [default: warning].
    #[arg(long, global = true, value_name = "POLICY")]
    pub(crate) volatile_literal: Option<String>,
    /// For verify and diff: leave privileges (grants, default privileges)
    /// or ownership out of the comparison; the flag is repeatable
    /// [default: compare both].
    #[arg(long, global = true, value_name = "PART", value_parser = ["privileges", "ownership"])]
    pub(crate) ignore: Option<Vec<String>>,
    /// For dump, diff and verify: leave out objects whose name matches this
    /// glob (`audit_*` in any schema, `partman.*` a whole schema,
    /// `public.audit_log` one table), with what belongs to a matched table;
    /// the flag is repeatable and replaces the file's list. Other tools'
    /// history tables are always left out.
    #[arg(long, global = true, value_name = "PATTERN")]
    pub(crate) exclude: Option<Vec<String>>,
}

/// The `[mongodb]` table.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema, clap::Args)]
#[schemars(deny_unknown_fields)]
pub(crate) struct MongoConfig {
    /// MongoDB connection URI (TLS and auth options go in it; prefer the
    /// MONGODB_URI variable for anything with a password) [default:
    /// MONGODB_URI, then `[mongodb] uri` in schemactl.toml]. Without one,
    /// only PostgreSQL is handled.
    #[arg(
        long = "mongodb-uri",
        id = "mongodb_uri",
        env = "MONGODB_URI",
        global = true,
        hide_env_values = true,
        value_name = "URI"
    )]
    pub(crate) uri: Option<String>,
    /// How long a run's lock document lives before another run may take it
    /// over [default: 10min].
    #[arg(skip)]
    pub(crate) lock_ttl: Option<String>,
}

/// The `[lint]` table, and the lint verb's flag for its key.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema, clap::Args)]
#[schemars(deny_unknown_fields)]
pub(crate) struct LintConfig {
    /// Warnings fail the run too.
    #[arg(long, action = ArgAction::SetTrue)]
    pub(crate) deny_warnings: Option<bool>,
    /// Severity by rule id: `error`, `warning` or `off`.
    #[serde(default)]
    #[arg(skip)]
    pub(crate) rules: BTreeMap<String, String>,
}

/// The `[dev]` table.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct DevConfig {
    /// Use the embedded development PostgreSQL when no database URL is given.
    pub(crate) enabled: Option<bool>,
}

/// The `[fleet]` table, and the fleet verbs' flags for its keys: where
/// `schemactl fleet` finds its targets and how it runs them. A flag wins
/// over its key; a target list named by flags replaces the file's.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, clap::Args)]
#[schemars(deny_unknown_fields)]
pub(crate) struct FleetConfig {
    /// A file of connection strings, one per line (`#` comments); in the
    /// file, relative to it.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) targets: Option<PathBuf>,
    /// A query on the control database whose first column is the
    /// connection strings.
    #[arg(long, global = true, value_name = "SQL")]
    pub(crate) targets_query: Option<String>,
    /// A shell command that prints the connection strings, one per line.
    #[arg(long, global = true, value_name = "CMD")]
    pub(crate) targets_command: Option<String>,
    /// Schema-per-tenant: a file of schema names of the database at
    /// --database-url, one per line.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) tenant_schemas: Option<PathBuf>,
    /// Schema-per-tenant: a query whose first column is the schema names (on
    /// the control database when given, else on the tenants' database).
    #[arg(long, global = true, value_name = "SQL")]
    pub(crate) tenant_schemas_query: Option<String>,
    /// The control database: target queries run there and the run ledger is
    /// kept there (tables schemactl_fleet_runs and schemactl_fleet_targets).
    #[arg(
        long,
        global = true,
        env = "SCHEMACTL_CONTROL_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(crate) control_url: Option<String>,
    /// How many targets run at once, each with its own connection [default: CPUs × 4].
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) concurrency: Option<u32>,
    /// migrate and rollback: run the first N targets first; the rest start
    /// only if all of them succeed [default: 0].
    #[arg(long, global = true, value_name = "N")]
    pub(crate) canary: Option<u32>,
    /// migrate and rollback: start no new target once K have failed (those
    /// running finish); 0 never stops [default: 1].
    #[arg(long, global = true, value_name = "K")]
    pub(crate) max_failures: Option<u32>,
    /// Where run ledgers are written without a control database (in the
    /// file, relative to it) [default: .schemactl/fleet].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) ledger_dir: Option<PathBuf>,
}

/// The `[backup]` table (`--store` and `--recipient` are the backup verbs'
/// flags, copied here by the command line).
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
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
