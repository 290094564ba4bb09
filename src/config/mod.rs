//! Configuration: command-line flags, then environment variables (`DATABASE_URL`,
//! handled by the CLI), then `schemactl.toml`, then defaults.
//!
//! ```toml
//! migrations_dir = "migrations"      # relative to this file
//! layout = "diesel"                  # detected when absent (schemactl, sqlx, golang-migrate, diesel, dbmate, goose, flyway, pop),
//!                                    # or a naming pattern: "V{version}.{name}.{direction}.sql"
//! strict = false                     # a .sql file the layout cannot place is an error
//! allow_empty = false                # an empty migrations directory is expected
//! multi_statement = false            # golang-migrate's x-multi-statement: each statement commits on its own
//!
//! [postgres]
//! url = "postgres://app@db/app"      # prefer DATABASE_URL for anything with a password
//! history_schema = "public"
//! history_table = "schema_versions"
//! lock_timeout = "5s"                # SET LOCAL lock_timeout for each migration
//! statement_timeout = "0"            # SET LOCAL statement_timeout (0: no limit)
//! lock_wait = "60s"                  # how long to wait for another run's migration lock
//! lock_retries = 3                   # retries of a migration that timed out on a table lock
//! lock_retry_budget = "60s"          # the most those retries may take together
//! lock_mode = "advisory"             # or "table": a lease row, through a transaction pooler
//! lock_ttl = "10min"                 # the lease of lock_mode = "table"
//! role = "app_owner"                 # run the migrations as this role (the login user is a member)
//! allow_non_empty = false            # migrate a database with tables but no schemactl history
//!
//! [verify]
//! dev_url = "postgres://dev@localhost/postgres"   # else the embedded server
//! column_order = "warning"           # error / warning / ignore
//! volatile_literal = "warning"       # a definition differing only in timestamp literals
//! ignore = ["ownership"]             # leave out of the comparison: privileges, ownership
//! exclude = ["audit_*", "partman.*"] # objects dump, diff and verify leave out (globs)
//!
//! [mongodb]
//! uri = "mongodb://db:27017/"        # prefer MONGODB_URI for anything with a password
//! lock_ttl = "10min"                 # a dead run's lock frees itself after this
//!
//! [lint]
//! deny_warnings = false
//! [lint.rules]
//! char-type = "off"                  # error / warning / off
//! ```
//!
//! Unknown keys and wrong types are errors that name the file, line and key;
//! every unknown key and every wrong value is reported at once.

mod file_reading;
mod object_pattern;
mod resolve;

pub use object_pattern::ObjectPattern;

pub use crate::model::duration::ServerTimeout;
use crate::model::history::HistoryTable;
use crate::model::identifier::Identifier;
use crate::model::severity::Severity;
use crate::model::ReadOptions;
use crate::Error;
use file_reading::read;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The name of the configuration file looked for in the working directory.
pub const FILE_NAME: &str = "schemactl.toml";

/// `schemactl.toml` as written.
#[derive(Debug, Default, Deserialize)]
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
}

/// The `[fleet]` table: where `schemactl fleet` finds its targets and how it
/// runs them. Flags win over each key.
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
pub struct DevConfig {
    /// Use the embedded development PostgreSQL when no database URL is given.
    pub enabled: Option<bool>,
}

/// The `[mongodb]` table.
#[derive(Debug, Default, Deserialize)]
pub struct MongoConfig {
    /// The connection URI (prefer MONGODB_URI for anything with a password).
    pub uri: Option<String>,
    /// How long a run's lock document lives before another run may take it over.
    pub lock_ttl: Option<String>,
}

/// The `[verify]` table.
#[derive(Debug, Default, Deserialize)]
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

/// How `verify` and `diff` treat a tolerable class of difference: a table
/// whose columns only changed order, a definition that differs only in a
/// timestamp literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DifferencePolicy {
    /// A failure.
    Error,
    /// Reported, not a failure.
    #[default]
    Warning,
    /// Not reported.
    Ignore,
}

/// The policy for reordered columns (the name it had first).
pub type ColumnOrderPolicy = DifferencePolicy;

/// A part of the schema that `verify` and `diff` can leave out, for teams
/// that do not manage it in their migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ignored {
    /// Grants, revokes and default privileges.
    Privileges,
    /// Who owns each object.
    Ownership,
}

impl std::str::FromStr for Ignored {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "privileges" => Ok(Self::Privileges),
            "ownership" => Ok(Self::Ownership),
            other => Err(format!("`{other}` is not privileges or ownership")),
        }
    }
}

impl std::str::FromStr for DifferencePolicy {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "error" => Ok(Self::Error),
            "warning" => Ok(Self::Warning),
            "ignore" => Ok(Self::Ignore),
            other => Err(format!("`{other}` is not error, warning or ignore")),
        }
    }
}

/// The `[lint]` table.
#[derive(Debug, Default, Deserialize)]
pub struct LintConfig {
    /// Fail on warnings too.
    pub deny_warnings: Option<bool>,
    /// Severity by rule id: `error`, `warning` or `off`.
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
}

/// The `[postgres]` table.
#[derive(Debug, Default, Deserialize)]
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
    /// Look for `./schemactl.toml` in the working directory when no
    /// `config_file` is given (what the CLI does). Off by default: the
    /// library reads no file it was not asked to.
    pub discover_config_file: bool,
    /// Whether the embedded development server may be used when no database
    /// URL is given (`--dev`; the CLI also allows it on a terminal outside
    /// CI). `None` or `false`: never, unless `[dev] enabled = true`.
    pub dev_server: Option<bool>,
}

/// Session settings every script runs with, unless its directives override them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionSettings {
    /// `lock_timeout` (default `5s`): a migration waiting longer than this
    /// for a table lock fails instead of queueing every other query behind it.
    pub lock_timeout: ServerTimeout,
    /// `statement_timeout` (default `0`, no limit).
    pub statement_timeout: ServerTimeout,
    /// How many times a transactional migration that timed out waiting for
    /// a lock is tried again (default 3), with a growing wait in between.
    pub lock_retries: u32,
    /// The most the retries of one migration may take together, waits and
    /// attempts (default 60 s).
    pub lock_retry_budget: Duration,
    /// What the migration lock is (default: a session advisory lock).
    pub lock_mode: LockMode,
    /// How long a lease of `--lock-mode table` lasts before another run may
    /// take it over (default 10 min); renewed before each migration.
    pub lock_ttl: Duration,
    /// The first `migrate` may run on a database that has tables (or
    /// another tool's history) but no schemactl history (`[postgres]
    /// allow_non_empty`); otherwise it refuses and names `baseline`.
    pub allow_non_empty: bool,
}

/// What the migration lock is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LockMode {
    /// A session advisory lock: released by the server when the session
    /// ends, however it ends. Needs a real session (not a transaction
    /// pooler).
    #[default]
    Advisory,
    /// A lease row in the history's schema, for connections through a
    /// transaction-pooling proxy.
    Table,
}

impl std::str::FromStr for LockMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "advisory" => Ok(Self::Advisory),
            "table" => Ok(Self::Table),
            other => Err(format!("`{other}` is not advisory or table")),
        }
    }
}

impl Default for ExecutionSettings {
    fn default() -> Self {
        Self {
            lock_timeout: ServerTimeout::default_lock_timeout(),
            statement_timeout: ServerTimeout::none(),
            lock_retries: 3,
            lock_retry_budget: Duration::from_secs(60),
            lock_mode: LockMode::Advisory,
            lock_ttl: Duration::from_secs(600),
            allow_non_empty: false,
        }
    }
}

/// The settings a command runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where `.schemactl/` (the embedded server's data) lives: the directory
    /// of the configuration file, else the working directory.
    pub project_dir: PathBuf,
    /// The migrations directory.
    pub migrations_dir: PathBuf,
    /// How it is read: its layout (detected when `None`), whether a `.sql`
    /// file the layout cannot place is an error, whether it may be empty.
    pub read: ReadOptions,
    /// The history tables.
    pub history: HistoryTable,
    /// Timeouts for each migration.
    pub execution: ExecutionSettings,
    /// How long to wait for the migration lock.
    pub lock_wait: Duration,
    /// The database; `None` means the embedded development server.
    pub database_url: Option<String>,
    /// Where the database URL came from (a flag, a variable or a file key),
    /// named in errors about it.
    pub database_url_source: String,
    /// The MongoDB validators directory.
    pub schemas_dir: PathBuf,
    /// Linter severities (by rule id; `None`: off), as written: the linter
    /// checks that each id names a rule.
    pub lint_severities: BTreeMap<String, Option<Severity>>,
    /// The configuration file read (or the one that would be), for messages.
    pub config_file: PathBuf,
    /// Whether warnings fail `lint`.
    pub lint_deny_warnings: bool,
    /// The server for scratch databases; `None`: the embedded one.
    pub dev_url: Option<String>,
    /// How `verify` and `diff` treat reordered columns.
    pub column_order: ColumnOrderPolicy,
    /// How `verify` and `diff` treat definitions that differ only in
    /// timestamp literals.
    pub volatile_literal: DifferencePolicy,
    /// What `verify` and `diff` leave out of the comparison.
    pub ignore: std::collections::BTreeSet<Ignored>,
    /// Objects `dump`, `diff` and `verify` leave out (besides the history
    /// tables of schemactl and of the tools it adopts from).
    pub exclude: Vec<ObjectPattern>,
    /// The MongoDB server; `None`: the MongoDB side is not configured.
    pub mongodb_uri: Option<String>,
    /// The MongoDB server `verify` may create scratch databases on.
    pub mongodb_dev_uri: Option<String>,
    /// How long a MongoDB lock document lives.
    pub mongodb_lock_ttl: Duration,
    /// The role PostgreSQL sessions run as.
    pub role: Option<Identifier>,
    /// How long connecting to a server may take (PostgreSQL: unless the
    /// connection string sets `connect_timeout`; MongoDB: server selection).
    pub connect_timeout: Duration,
    /// Whether the embedded development server may be used when no
    /// database URL is given. Off unless asked for: a library user or a CI
    /// job without `DATABASE_URL` gets an error, not a throwaway database.
    pub dev_server: bool,
    /// Schema-per-tenant: the schema put first on the `search_path` of
    /// every session (the history table normally lives there too).
    pub tenant_schema: Option<Identifier>,
    /// The `[fleet]` table as written (paths relative to `project_dir`).
    pub fleet: FleetConfig,
}

/// The `schemactl.toml` that applies in the working directory: there, or
/// in the nearest parent (as git and cargo search), not above the
/// repository's root (the folder holding `.git`). Given relative to the
/// working directory (`../schemactl.toml`), so that paths in messages stay
/// short.
fn discover() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let mut relative = PathBuf::new();
    for dir in cwd.ancestors() {
        if dir.join(FILE_NAME).is_file() {
            return Some(relative.join(FILE_NAME));
        }
        if dir.join(".git").exists() {
            return None;
        }
        relative.push("..");
    }
    None
}

impl Settings {
    /// schemactl's defaults, without reading any configuration file or
    /// variable: history in `public.schema_versions`, `lock_timeout` 5 s, a
    /// 60 s wait for the migration lock, no database URL. Fields are public:
    /// change what an application needs.
    pub fn defaults() -> Result<Self, Error> {
        Self::resolve(Overrides::default())
    }

    /// Resolves flags, the configuration file and defaults; every wrong
    /// value is reported, with the flag or key it came from.
    pub fn resolve(overrides: Overrides) -> Result<Self, Error> {
        resolve::settings(overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_with_wrong_types_or_unknown_keys_is_reported_with_its_line() {
        let dir = std::env::temp_dir().join(format!("schemactl-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("schemactl.toml");
        std::fs::write(
            &path,
            "migrations_dir = \"db\"\n[postgres]\nlock_timeout = 5\n",
        )
        .unwrap();
        let error = Settings::resolve(Overrides {
            config_file: Some(path.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains("schemactl.toml:3:16"), "{error}");
        std::fs::write(&path, "[postgres]\nhistory_tabel = \"x\"\n").unwrap();
        let error = Settings::resolve(Overrides {
            config_file: Some(path.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains("history_tabel"), "{error}");
        std::fs::write(&path, "migrations_dir = \"db\"\n[postgres]\nhistory_table = \"deploys\"\nlock_wait = \"2min\"\n").unwrap();
        let settings = Settings::resolve(Overrides {
            config_file: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(settings.migrations_dir, dir.join("db"));
        assert_eq!(settings.history.display(), "public.deploys");
        assert_eq!(settings.lock_wait, Duration::from_secs(120));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_error_names_the_flag_or_the_file_key_it_came_from() {
        let error = Settings::resolve(Overrides {
            lock_timeout: Some("30".into()),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("--lock-timeout: `30` has no unit"),
            "{error}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemactl.toml");
        std::fs::write(&path, "[postgres]\nlock_wait = \"forever\"\n").unwrap();
        let error = Settings::resolve(Overrides {
            config_file: Some(path),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("schemactl.toml ([postgres] lock_wait)"),
            "{error}"
        );
    }

    #[test]
    fn every_wrong_value_is_reported_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemactl.toml");
        std::fs::write(
            &path,
            "layout = \"liquibase\"\n[postgres]\nlock_wait = \"forever\"\nlock_mode = \"row\"\n[lint.rules]\nchar-type = \"loud\"\n",
        )
        .unwrap();
        let error = Settings::resolve(Overrides {
            config_file: Some(path),
            lock_timeout: Some("30".into()),
            ..Default::default()
        })
        .unwrap_err();
        let Error::ConfigProblems(problems) = &error else {
            panic!("one error instead of all: {error}");
        };
        assert_eq!(problems.len(), 5, "{error}");
        let text = error.to_string();
        for says in [
            "--lock-timeout",
            "lock_wait",
            "lock_mode",
            "`loud`",
            "liquibase",
        ] {
            assert!(text.contains(says), "{says}: {text}");
        }
    }

    #[test]
    fn flags_win_and_bad_identifiers_are_refused() {
        let overrides = Overrides {
            history_table: Some("x; DROP TABLE y".into()),
            config_file: None,
            ..Default::default()
        };
        assert!(Settings::resolve(overrides).is_err());
        let overrides = Overrides {
            lock_timeout: Some("2s".into()),
            ..Default::default()
        };
        let lock_timeout = Settings::resolve(overrides).unwrap().execution.lock_timeout;
        assert_eq!(
            (lock_timeout.millis(), lock_timeout.to_string()),
            (2000, "2s".into())
        );
        // A bare number is refused, never run as no limit.
        let overrides = Overrides {
            lock_timeout: Some("30".into()),
            ..Default::default()
        };
        let refused = Settings::resolve(overrides).unwrap_err().to_string();
        assert!(
            refused.contains("--lock-timeout") && refused.contains("no unit"),
            "{refused}"
        );
    }
}
