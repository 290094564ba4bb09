//! What the command line says, before the file and the defaults are
//! consulted: text as given, parsed by `resolve`. This is also the one
//! declaration of schemactl's global flags (their help is these docs).

use std::path::PathBuf;

/// What the command line says; `None` leaves the decision to the file or the default.
#[derive(Debug, Default, Clone)]
#[derive(clap::Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Overrides {
    /// PostgreSQL connection URL, e.g. postgres://user:pass@host:5432/db?sslmode=verify-full&sslrootcert=ca.crt.
    /// Default: the DATABASE_URL variable, then `[postgres] url` in schemactl.toml, then the
    /// embedded development server.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub(crate) database_url: Option<String>,

    /// Where `database_url` came from, for errors: `--database-url` or
    /// `DATABASE_URL` (`None`: the caller does not say).
    #[arg(skip)]
    pub(crate) database_url_source: Option<String>,

    /// Configuration file [default: ./schemactl.toml when present].
    #[arg(long = "config", global = true, value_name = "FILE")]
    pub(crate) config_file: Option<PathBuf>,

    /// Directory of migration files [default: migrations, next to schemactl.toml].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) migrations_dir: Option<PathBuf>,

    /// Layout of the migrations directory [default: detected]: schemactl, sqlx,
    /// golang-migrate, diesel, dbmate, goose, flyway (refinery) or pop; or the
    /// project's own naming pattern, e.g. `V{version}.{name}.{direction}.sql`.
    #[arg(long, global = true, value_name = "LAYOUT")]
    pub(crate) layout: Option<String>,

    /// Make a .sql file that the layout cannot place an error, not a warning.
    #[arg(long, global = true)]
    pub(crate) strict: bool,

    /// Accept an empty (or missing) migrations directory; for `fleet`, also an
    /// empty target list.
    #[arg(long, global = true)]
    pub(crate) allow_empty: bool,

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

    /// How long a `--lock-mode table` lease lasts; renewed before each
    /// migration, so it must exceed the longest one [default: 10min].
    #[arg(long, global = true, value_name = "DURATION")]
    pub(crate) lock_ttl: Option<String>,

    /// For verify and diff: a PostgreSQL server where schemactl may create and
    /// drop throwaway databases [default: `[verify] dev_url` in schemactl.toml,
    /// else the embedded development server]. Never the database being migrated.
    #[arg(
            long,
            env = "SCHEMACTL_DEV_URL",
            global = true,
            hide_env_values = true,
            value_name = "URL"
        )]
    pub(crate) dev_url: Option<String>,

    /// Run the migrations as this PostgreSQL role (the login user must be a
    /// member), e.g. the role that owns the schema [default: `[postgres] role`].
    #[arg(long, global = true, value_name = "ROLE")]
    pub(crate) role: Option<String>,

    /// MongoDB connection URI (TLS and auth options go in it) [default: MONGODB_URI,
    /// then `[mongodb] uri` in schemactl.toml]. Without one, only PostgreSQL is handled.
    #[arg(
            long,
            env = "MONGODB_URI",
            global = true,
            hide_env_values = true,
            value_name = "URI"
        )]
    pub(crate) mongodb_uri: Option<String>,

    /// For verify: a MongoDB server where schemactl may create and drop scratch
    /// databases [default: `[verify] mongodb_dev_uri`]. Never the deploy target.
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
    /// or ownership out of the comparison; repeatable [default: compare both].
    #[arg(long, global = true, value_name = "PART", value_parser = ["privileges", "ownership"])]
    pub(crate) ignore: Vec<String>,

    /// For dump, diff and verify: leave out objects whose name matches this
    /// glob (`audit_*` in any schema, `partman.*` a whole schema,
    /// `public.audit_log` one table), with what belongs to a matched table;
    /// repeatable [default: `[verify] exclude`]. Other tools' history tables
    /// are always left out.
    #[arg(long, global = true, value_name = "PATTERN")]
    pub(crate) exclude: Vec<String>,

    /// `backup … --store` (a verb's own flag, set by the CLI).
    #[arg(skip)]
    pub(crate) backup_store: Option<String>,

    /// `backup create --recipient` (repeatable; a verb's own flag, set by
    /// the CLI).
    #[arg(skip)]
    pub(crate) backup_recipients: Vec<String>,

    /// Look for `./schemactl.toml` in the working directory when no
    /// `config_file` is given (what the CLI does). Off by default: the
    /// library reads no file it was not asked to.
    #[arg(skip)]
    pub(crate) discover_config_file: bool,

    /// Whether the embedded development server may be used when no database
    /// URL is given (`--dev`; the CLI also allows it on a terminal outside
    /// CI). `None` or `false`: never, unless `[dev] enabled = true`.
    #[arg(skip)]
    pub(crate) dev_server: Option<bool>,
}
