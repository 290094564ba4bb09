//! From flags, the configuration file and defaults to [`Settings`]: one
//! function per part of the settings, every wrong value collected with the
//! flag or key it came from, so that all of them are reported at once.

use super::file_config::{BackupConfig, FileConfig};
use super::file_reading::read;
use super::{discover, Overrides, Resolved, FILE_NAME};
use schemactl::config::{
    BackupSettings, ConnectOptions, DifferencePolicy, ExecutionSettings, Ignored, LintSettings,
    MongoConnectOptions, ObjectPattern, ProjectOptions, RunOptions, ServerTimeout, Settings,
    VerifySettings,
};
use schemactl::model::duration;
use schemactl::model::history::HistoryTable;
use schemactl::model::identifier::Identifier;
use schemactl::model::retention_policy::RetentionPolicy;
use schemactl::model::severity::Severity;
use schemactl::model::ReadOptions;
use schemactl::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where values come from, and every wrong one found so far.
struct Sources {
    /// The configuration file, as messages name it.
    config_label: PathBuf,
    problems: Vec<Error>,
}

impl Sources {
    /// An error about a file key, named `key` (`mongodb.lock_ttl`).
    fn bad(&self, key: &str, message: String) -> Error {
        Error::Config {
            path: self.config_label.clone(),
            message: format!("{key}: {message}"),
        }
    }

    /// How an error names a value's source: the flag when it was given,
    /// else the file's key (never the file for a flag's value).
    fn error_for(
        &self,
        flag: &str,
        table: &str,
        key: &str,
        flagged: bool,
    ) -> impl FnOnce(String) -> Error {
        let label = if flagged {
            flag.to_string()
        } else {
            format!("{} ([{table}] {key})", self.config_label.display())
        };
        move |message| Error::Config {
            path: PathBuf::from(label),
            message,
        }
    }

    /// `result`'s value, or `fallback()` with the error collected.
    fn keep<T>(&mut self, result: Result<T, Error>, fallback: impl FnOnce() -> T) -> T {
        result.unwrap_or_else(|problem| {
            self.problems.push(problem);
            fallback()
        })
    }

    /// The flag's value, else the file's, parsed; `default` when neither
    /// was given, or (with the error collected) when the value is wrong.
    fn value<T>(
        &mut self,
        (flag, table, key): (&str, &str, &str),
        flagged: Option<String>,
        filed: Option<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
        default: impl FnOnce() -> T,
    ) -> T {
        let error = self.error_for(flag, table, key, flagged.is_some());
        match flagged.or(filed) {
            Some(text) => match parse(&text) {
                Ok(value) => value,
                Err(message) => {
                    self.problems.push(error(message));
                    default()
                }
            },
            None => default(),
        }
    }

    /// A repeatable flag's values (they replace the file's list), each parsed.
    fn list<T>(
        &mut self,
        (flag, table, key): (&str, &str, &str),
        flagged: Option<Vec<String>>,
        filed: Option<Vec<String>>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Vec<T> {
        let error = self.error_for(flag, table, key, flagged.is_some());
        let values = flagged.or(filed).unwrap_or_default();
        let parsed = values
            .iter()
            .map(|v| parse(v))
            .collect::<Result<_, _>>()
            .map_err(error);
        self.keep(parsed, Vec::new)
    }
}

/// Resolves flags, the configuration file and defaults.
pub(super) fn settings(overrides: Overrides) -> Result<Resolved, Error> {
    let ConfigFile {
        config: file,
        unknown_keys,
        path: config_path,
    } = config_file(&overrides)?;
    let flags = &overrides.written;
    let mut sources = Sources {
        config_label: config_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(FILE_NAME)),
        problems: unknown_keys,
    };
    let (project_dir, migrations_dir, schemas_dir) =
        project_dirs(flags, &file, config_path.as_deref());
    let history = history(&mut sources, flags, &file);
    let execution = execution(&mut sources, flags, &file);
    let lock_wait = sources.value(
        ("--lock-wait", "postgres", "lock_wait"),
        flags.postgres.lock_wait.clone(),
        file.postgres.lock_wait.clone(),
        duration::parse,
        || Duration::from_secs(60),
    );
    let connect_timeout = sources.value(
        ("--connect-timeout", "postgres", "connect_timeout"),
        flags.postgres.connect_timeout.clone(),
        file.postgres.connect_timeout.clone(),
        connect_timeout,
        || Duration::from_secs(10),
    );
    let role = sources.value(
        ("--role", "postgres", "role"),
        flags.postgres.role.clone(),
        file.postgres.role.clone(),
        |role| Identifier::parse(role).map(Some),
        || None,
    );
    let lint_severities = lint_severities(&mut sources, &file);
    let (column_order, volatile_literal, ignore, exclude) =
        verify_policies(&mut sources, flags, &file);
    let mongodb_lock_ttl = duration::parse(file.mongodb.lock_ttl.as_deref().unwrap_or("10min"))
        .map_err(|m| sources.bad("mongodb.lock_ttl", m));
    let mongodb_lock_ttl = sources.keep(mongodb_lock_ttl, || Duration::from_secs(600));
    let read = read_options(&mut sources, flags, &file);
    let recipients = sources.list(
        ("--recipient", "backup", "recipients"),
        flags.backup.recipients.clone(),
        file.backup.recipients.clone(),
        str::parse,
    );
    let mut problems = std::mem::take(&mut sources.problems);
    match problems.len() {
        0 => {}
        1 => return Err(problems.remove(0)),
        _ => return Err(Error::ConfigProblems(problems)),
    }
    let given = |flagged: Option<String>, filed: Option<String>| {
        flagged.or(filed).filter(|u| !u.trim().is_empty())
    };
    let url_source = match (&flags.postgres.url, overrides.database_url_source) {
        (Some(_), Some(source)) => source,
        (Some(_), None) => "--database-url".into(),
        (None, _) => format!("{} ([postgres] url)", sources.config_label.display()),
    };
    let dev_server = overrides.dev_server.unwrap_or(false) || on(file.dev.enabled);
    let backup = backup_settings(
        flags.backup.store.clone(),
        file.backup,
        recipients,
        &project_dir,
    );
    let settings = Settings {
        connection: ConnectOptions {
            url: given(flags.postgres.url.clone(), file.postgres.url),
            url_source,
            role,
            connect_timeout,
            dev_server: dev_server.then(|| project_dir.clone()),
            tenant_schema: None,
        },
        project: ProjectOptions {
            migrations_dir: without_dot(migrations_dir),
            schemas_dir: without_dot(schemas_dir),
            dir: project_dir,
            read,
            config_file: sources.config_label.clone(),
        },
        run: RunOptions {
            // Set whenever no problem was found above.
            history: history
                .ok_or_else(|| sources.bad("history_table", "cannot be read".into()))?,
            execution,
            lock_wait,
        },
        lint: LintSettings {
            severities: lint_severities,
            deny_warnings: on(flags.lint.deny_warnings) || on(file.lint.deny_warnings),
        },
        verify: VerifySettings {
            dev_url: given(flags.verify.dev_url.clone(), file.verify.dev_url),
            column_order,
            volatile_literal,
            ignore,
            exclude,
            mongodb_dev_uri: given(
                flags.verify.mongodb_dev_uri.clone(),
                file.verify.mongodb_dev_uri,
            ),
        },
        mongodb: MongoConnectOptions {
            uri: given(flags.mongodb.uri.clone(), file.mongodb.uri),
            lock_ttl: mongodb_lock_ttl,
        },
        backup,
    };
    Ok(Resolved {
        settings,
        fleet: file.fleet,
    })
}

/// The configuration file as read: its keys, its unknown keys (problems
/// reported with the rest), and its path (`None`: there is none).
struct ConfigFile {
    config: FileConfig,
    unknown_keys: Vec<Error>,
    path: Option<PathBuf>,
}

/// The configuration file named, else the one found when looking is
/// asked for, read.
fn config_file(overrides: &Overrides) -> Result<ConfigFile, Error> {
    let path = match &overrides.config_file {
        Some(path) => Some(path.clone()),
        None => overrides.discover_config_file.then(discover).flatten(),
    };
    let (config, unknown_keys) = match &path {
        Some(path) => read(path)?,
        None => (FileConfig::default(), Vec::new()),
    };
    Ok(ConfigFile {
        config,
        unknown_keys,
        path,
    })
}

/// The project's directory (the configuration file's, else the working
/// directory), its migrations directory and its schemas directory.
fn project_dirs(
    flags: &FileConfig,
    file: &FileConfig,
    config_path: Option<&Path>,
) -> (PathBuf, PathBuf, PathBuf) {
    let project_dir = config_path
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let migrations_dir = match (flags.migrations_dir.clone(), &file.migrations_dir) {
        (Some(dir), _) => dir,
        (None, Some(dir)) => project_dir.join(dir),
        (None, None) => project_dir.join("migrations"),
    };
    let schemas_dir = file
        .schemas_dir
        .as_ref()
        .map_or_else(|| project_dir.join("schemas"), |d| project_dir.join(d));
    (project_dir, migrations_dir, schemas_dir)
}

/// Where backups go (a relative directory in the file is the project's),
/// to whom they are encrypted, and how many are kept.
fn backup_settings(
    flagged_store: Option<String>,
    filed: BackupConfig,
    recipients: Vec<schemactl::model::recipient::Recipient>,
    project_dir: &Path,
) -> BackupSettings {
    let store = flagged_store.or_else(|| {
        let filed = filed.store?;
        Some(
            if filed.contains("://") || Path::new(&filed).is_absolute() {
                filed
            } else {
                project_dir.join(filed).display().to_string()
            },
        )
    });
    BackupSettings {
        store,
        recipients,
        retention: RetentionPolicy {
            keep_last: filed.keep_last.unwrap_or(0),
            keep_daily: filed.keep_daily.unwrap_or(0),
            keep_weekly: filed.keep_weekly.unwrap_or(0),
            keep_monthly: filed.keep_monthly.unwrap_or(0),
        },
    }
}

/// A switch (a flag, or a key written `true`) that is on.
fn on(switch: Option<bool>) -> bool {
    switch == Some(true)
}

/// A path without a leading `./`, so that messages stay short.
fn without_dot(path: PathBuf) -> PathBuf {
    path.strip_prefix("./")
        .map(Path::to_path_buf)
        .unwrap_or(path)
}

/// A connect timeout: a duration, never 0 (which would wait forever).
fn connect_timeout(text: &str) -> Result<Duration, String> {
    match duration::parse(text)? {
        d if d.is_zero() => {
            Err("a connect timeout of 0 would wait forever; give one, for example `10s`".into())
        }
        d => Ok(d),
    }
}

/// The history table (`--history-schema`, `--history-table`).
fn history(sources: &mut Sources, flags: &FileConfig, file: &FileConfig) -> Option<HistoryTable> {
    let pg = &file.postgres;
    let schema_error = sources.error_for(
        "--history-schema",
        "postgres",
        "history_schema",
        flags.postgres.history_schema.is_some(),
    );
    let table_error = sources.error_for(
        "--history-table",
        "postgres",
        "history_table",
        flags.postgres.history_table.is_some(),
    );
    let schema = (flags.postgres.history_schema.clone())
        .or(pg.history_schema.clone())
        .unwrap_or_else(|| "public".into());
    let table = (flags.postgres.history_table.clone())
        .or(pg.history_table.clone())
        .unwrap_or_else(|| "schema_versions".into());
    let history = Identifier::parse(&schema)
        .map_err(schema_error)
        .and_then(|schema| match Identifier::parse(&table) {
            Ok(table) => HistoryTable::new(schema, table).map_err(table_error),
            Err(message) => Err(table_error(message)),
        });
    history
        .map_err(|problem| sources.problems.push(problem))
        .ok()
}

/// How each migration runs: timeouts, retries, the lock.
fn execution(sources: &mut Sources, flags: &FileConfig, file: &FileConfig) -> ExecutionSettings {
    let pg = &file.postgres;
    let defaults = ExecutionSettings::default();
    ExecutionSettings {
        lock_timeout: sources.value(
            ("--lock-timeout", "postgres", "lock_timeout"),
            flags.postgres.lock_timeout.clone(),
            pg.lock_timeout.clone(),
            str::parse::<ServerTimeout>,
            || defaults.lock_timeout.clone(),
        ),
        statement_timeout: sources.value(
            ("--statement-timeout", "postgres", "statement_timeout"),
            flags.postgres.statement_timeout.clone(),
            pg.statement_timeout.clone(),
            str::parse::<ServerTimeout>,
            || defaults.statement_timeout.clone(),
        ),
        lock_retries: flags
            .postgres
            .lock_retries
            .or(pg.lock_retries)
            .unwrap_or(defaults.lock_retries),
        lock_retry_budget: sources.value(
            ("--lock-retry-budget", "postgres", "lock_retry_budget"),
            flags.postgres.lock_retry_budget.clone(),
            pg.lock_retry_budget.clone(),
            duration::parse,
            || defaults.lock_retry_budget,
        ),
        lock_mode: sources.value(
            ("--lock-mode", "postgres", "lock_mode"),
            flags.postgres.lock_mode.clone(),
            pg.lock_mode.clone(),
            str::parse,
            || defaults.lock_mode,
        ),
        lock_ttl: sources.value(
            ("--lock-ttl", "postgres", "lock_ttl"),
            flags.postgres.lock_ttl.clone(),
            pg.lock_ttl.clone(),
            duration::parse,
            || defaults.lock_ttl,
        ),
        allow_non_empty: pg.allow_non_empty.unwrap_or(false),
        // Set per run by `migrate --batch-size …`.
        backfill: defaults.backfill,
    }
}

/// `[lint.rules]`: a severity (or `off`) per rule.
fn lint_severities(sources: &mut Sources, file: &FileConfig) -> BTreeMap<String, Option<Severity>> {
    let mut severities = BTreeMap::new();
    for (rule, severity) in &file.lint.rules {
        let severity = match severity.as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "off" => None,
            other => {
                let problem = sources.bad(
                    "lint.rules",
                    format!("`{other}` for {rule} is not error, warning or off"),
                );
                sources.problems.push(problem);
                continue;
            }
        };
        severities.insert(rule.clone(), severity);
    }
    severities
}

/// What `verify` and `diff` compare, and how they judge differences.
fn verify_policies(
    sources: &mut Sources,
    flags: &FileConfig,
    file: &FileConfig,
) -> (
    DifferencePolicy,
    DifferencePolicy,
    std::collections::BTreeSet<Ignored>,
    Vec<ObjectPattern>,
) {
    let column_order = sources.value(
        ("--column-order", "verify", "column_order"),
        flags.verify.column_order.clone(),
        file.verify.column_order.clone(),
        str::parse,
        DifferencePolicy::default,
    );
    let volatile_literal = sources.value(
        ("--volatile-literal", "verify", "volatile_literal"),
        flags.verify.volatile_literal.clone(),
        file.verify.volatile_literal.clone(),
        str::parse,
        DifferencePolicy::default,
    );
    let ignore = sources.list(
        ("--ignore", "verify", "ignore"),
        flags.verify.ignore.clone(),
        file.verify.ignore.clone(),
        str::parse::<Ignored>,
    );
    let exclude = sources.list(
        ("--exclude", "verify", "exclude"),
        flags.verify.exclude.clone(),
        file.verify.exclude.clone(),
        ObjectPattern::parse,
    );
    (
        column_order,
        volatile_literal,
        ignore.into_iter().collect(),
        exclude,
    )
}

/// How the migrations directory is read: its layout (or naming pattern)
/// and what it may hold.
fn read_options(sources: &mut Sources, flags: &FileConfig, file: &FileConfig) -> ReadOptions {
    let mut written = ReadOptions::default();
    written.strict = on(flags.strict) || on(file.strict);
    written.allow_empty = on(flags.allow_empty) || on(file.allow_empty);
    written.multi_statement = on(file.multi_statement);
    match flags.layout.clone().or(file.layout.clone()) {
        Some(text) => match written.clone().with_layout(&text) {
            Ok(read) => read,
            Err(message) => {
                let problem = sources.bad("layout", message);
                sources.problems.push(problem);
                written
            }
        },
        None => written,
    }
}
