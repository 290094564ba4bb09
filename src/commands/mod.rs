//! What each CLI verb does, as library functions that return a report (or an
//! [`Error`]) and tell a [`Notice`] callback about progress. Printing is the
//! caller's business.

pub mod baseline;
pub mod diff;
pub mod dump;
pub mod lint;
pub mod migrate;
pub mod mongo;
pub mod new_migration;
pub mod repair;
pub mod rollback;
pub mod status;
pub mod verify;

use crate::config::Settings;
use crate::migration::{source, Migration, Script};
use crate::postgres::advisory_lock::MigrationLock;
use crate::postgres::DatabaseTarget;
use crate::{embedded, Error, LockHolder};
use tokio_postgres::Client;

/// Progress worth telling a user while a command runs.
#[derive(Debug)]
pub enum Notice<'a> {
    /// Something is being set up (the embedded server, …).
    Info(&'a str),
    /// Another run holds the migration lock; this one waits.
    WaitingForLock(&'a [LockHolder]),
    /// A script starts.
    Running {
        /// `0003_add_orders`.
        label: &'a str,
    },
    /// A script finished.
    Done {
        /// What was done: `applied`, `rolled back`.
        action: &'static str,
        /// `0003_add_orders`.
        label: &'a str,
        /// Its duration.
        execution_ms: i64,
    },
}

/// An open connection and what it points at.
pub struct Session {
    /// The connection.
    pub client: Client,
    /// The target with its password removed.
    pub target: String,
}

/// Connects to the configured database, or to the embedded development
/// server (started if needed) when none is configured.
pub async fn connect(
    settings: &Settings,
    notify: &mut dyn FnMut(Notice),
) -> Result<Session, Error> {
    let url = match &settings.database_url {
        Some(url) => url.clone(),
        // libpq's variables name a server by themselves (`PGHOST`, …).
        None if crate::postgres::libpq_env::Environment::from_process().names_a_target() => {
            String::new()
        }
        None if settings.dev_server => {
            embedded::dev_server::ensure_running(&settings.project_dir, &mut |m| {
                notify(Notice::Info(m))
            })?
        }
        None => return Err(Error::NoDatabase),
    };
    let mut target = DatabaseTarget::parse(&url)
        .map_err(|e| match e {
            Error::Config { message, .. } if settings.database_url.is_some() => Error::Config {
                path: settings.database_url_source.clone().into(),
                message,
            },
            other => other,
        })?
        .with_connect_timeout(settings.connect_timeout);
    if let Some(role) = &settings.role {
        target = target.with_role(role);
    }
    let client = target.connect().await?;
    Ok(Session {
        client,
        target: target.display().to_string(),
    })
}

/// The server `verify` and `diff` create scratch databases on: the
/// configured dev URL, else the embedded development server. It must not be
/// the database being migrated.
pub async fn dev_target(
    settings: &Settings,
    notify: &mut dyn FnMut(Notice),
) -> Result<DatabaseTarget, Error> {
    let dev = match &settings.dev_url {
        Some(url) => {
            let dev = DatabaseTarget::parse(url)?;
            let deploy = settings.database_url.as_deref().map(DatabaseTarget::parse);
            if let Some(Ok(deploy)) = deploy {
                if dev.same_database(&deploy) {
                    return Err(Error::Refused(format!(
                        "--dev-url names the database being migrated ({}); verify and diff never touch it: give a development server",
                        deploy.display()
                    )));
                }
            }
            dev
        }
        None => DatabaseTarget::parse(&embedded::dev_server::ensure_running(
            &settings.project_dir,
            &mut |m| notify(Notice::Info(m)),
        )?)?,
    };
    Ok(dev.with_connect_timeout(settings.connect_timeout))
}

/// Reads the migrations directory while the connection is being opened
/// (both take milliseconds, and a no-op deploy is little else).
pub(crate) async fn load_and_connect(
    settings: &Settings,
    notify: &mut dyn FnMut(Notice),
) -> Result<(Vec<Migration>, Session), Error> {
    let dir = settings.migrations_dir.clone();
    if settings.database_url.is_none() {
        // Check the input before starting anything: the development server
        // is not started for a directory that cannot be used.
        let local = source::load(&dir)?;
        return Ok((local, connect(settings, notify).await?));
    }
    // With a URL, nothing is started: the files are read while the
    // connection is opened (a no-op deploy is little else).
    let loading = std::thread::spawn(move || source::load(&dir));
    let session = connect(settings, notify).await;
    let local = loading.join().unwrap_or_else(|_| {
        Err(Error::InvalidArgument(
            "reading the migrations failed unexpectedly".into(),
        ))
    })?;
    Ok((local, session?))
}

/// Runs `body` while holding the migration lock. The lock is released
/// whatever `body` returns.
pub(crate) async fn locked<T>(
    client: &Client,
    settings: &Settings,
    notify: &mut dyn FnMut(Notice),
    body: impl AsyncFnOnce(&mut dyn FnMut(Notice)) -> Result<T, Error>,
) -> Result<T, Error> {
    let lock = MigrationLock::for_history(&settings.history);
    lock.acquire(client, settings.lock_wait, &mut |holders| {
        notify(Notice::WaitingForLock(holders))
    })
    .await?;
    // The body creates the history tables (under the lock: concurrent
    // `CREATE TABLE IF NOT EXISTS` can fail) only once it has something to
    // write, so that a refused run changes nothing at all.
    let result = body(notify).await;
    let released = lock.release(client).await;
    let value = result?;
    released.map(|()| value)
}

/// A script as a dry run shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedScript {
    /// The version.
    pub version: i64,
    /// `0003_add_orders`.
    pub label: String,
    /// The file.
    pub path: String,
    /// Whether it runs in a transaction.
    pub transactional: bool,
    /// The `lock_timeout` it runs with.
    pub lock_timeout: String,
    /// The `statement_timeout` it runs with.
    pub statement_timeout: String,
    /// Its SQL.
    pub sql: String,
}

impl PlannedScript {
    pub(crate) fn new(migration: &Migration, script: &Script, settings: &Settings) -> Self {
        Self {
            version: migration.version,
            label: migration.label(),
            path: script.display_path(),
            transactional: !script.directives.no_transaction,
            lock_timeout: script
                .directives
                .lock_timeout
                .clone()
                .unwrap_or_else(|| settings.execution.lock_timeout.clone()),
            statement_timeout: script
                .directives
                .statement_timeout
                .clone()
                .unwrap_or_else(|| settings.execution.statement_timeout.clone()),
            sql: script.sql.clone(),
        }
    }
}

/// A script that ran.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Executed {
    /// The version.
    pub version: i64,
    /// `0003_add_orders`.
    pub label: String,
    /// How long it took.
    pub execution_ms: i64,
}

/// What `migrate` or `rollback` did (or, in a dry run, would do).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    /// The database, password removed.
    pub database: String,
    /// The history table.
    pub history: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// In a dry run, what would run.
    pub planned: Vec<PlannedScript>,
    /// What ran.
    pub executed: Vec<Executed>,
    /// The newest applied version afterwards.
    pub current_version: Option<i64>,
    /// Wall time of the whole run.
    pub total_ms: i64,
}
