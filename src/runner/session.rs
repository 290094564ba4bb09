//! Opening the connection a command works on: the configured database, the
//! database libpq's variables name, or the embedded development server when
//! that is allowed; and the server `verify` and `diff` make scratch
//! databases on.

use crate::config::{ConnectOptions, VerifySettings};
use crate::postgres::DatabaseTarget;
use crate::runner::notice::Notice;
use crate::source::Loaded;
use crate::{devserver, Error};
use tokio_postgres::Client;

/// An open connection and what it points at.
pub struct Session {
    /// The connection.
    pub client: Client,
    /// The target with its password removed.
    pub target: String,
    /// Where it points, to open a second connection (the lease heartbeat).
    pub(crate) reach: DatabaseTarget,
}

/// Connects to the configured database, or to the embedded development
/// server (started if needed) when none is configured.
pub async fn connect(
    options: &ConnectOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<Session, Error> {
    let url = match &options.url {
        Some(url) => url.clone(),
        // libpq's variables name a server by themselves (`PGHOST`, …).
        None if crate::postgres::libpq_env::Environment::from_process().names_a_target() => {
            String::new()
        }
        None => match &options.dev_server {
            Some(project) => devserver::DevServer::of(project)
                .ensure_running(&mut |m| notify(Notice::Info(m)))?,
            None => return Err(Error::NoDatabase),
        },
    };
    let mut target = DatabaseTarget::parse(&url)
        .map_err(|e| match e {
            Error::Config { message, .. } if options.url.is_some() => Error::Config {
                path: options.url_source.clone().into(),
                message,
            },
            other => other,
        })?
        .with_connect_timeout(options.connect_timeout);
    if let Some(role) = &options.role {
        target = target.with_role(role);
    }
    if let Some(schema) = &options.tenant_schema {
        target = target.with_search_path(schema);
    }
    let client = target.connect().await?;
    Ok(Session {
        client,
        target: target.display().to_string(),
        reach: target,
    })
}

/// The server `verify` and `diff` create scratch databases on: the
/// configured dev URL, else the embedded development server. It must not be
/// the database being migrated.
pub async fn dev_target(
    verify: &VerifySettings,
    connection: &ConnectOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<DatabaseTarget, Error> {
    let dev = match &verify.dev_url {
        Some(url) => {
            let dev = DatabaseTarget::parse(url)?;
            let deploy = connection.url.as_deref().map(DatabaseTarget::parse);
            if let Some(Ok(deploy)) = deploy {
                if dev.same_database(&deploy) {
                    return Err(Error::refused(crate::error::refusal::RefusalKind::ScratchServer, format!(
                        "--dev-url names the database being migrated ({}); verify and diff never touch it: give a development server",
                        deploy.display()
                    )));
                }
            }
            dev
        }
        None => match &connection.dev_server {
            Some(project) => DatabaseTarget::parse(&devserver::DevServer::of(project).ensure_running(
                &mut |m| notify(Notice::Info(m)),
            )?)?,
        // The same rule as for the database itself: schemactl's own server
        // only when asked for (a CI job without --dev-url fails instead of
        // starting one in the checkout).
            None => {
                return Err(Error::InvalidArgument(
                    "verify and diff need a development server for their scratch databases: give one with --dev-url \
                     (or `[verify] dev_url` in schemactl.toml), or pass --dev to use schemactl's own"
                        .into(),
                ))
            }
        },
    };
    Ok(dev.with_connect_timeout(connection.connect_timeout))
}

/// Reads the migrations while the connection is being opened
/// (both take milliseconds, and a no-op deploy is little else).
pub(crate) async fn load_and_connect(
    read: impl FnOnce() -> Result<Loaded, Error> + Send + 'static,
    options: &ConnectOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<(Loaded, Session), Error> {
    if options.url.is_none() {
        // Check the input before starting anything: the development server
        // is not started for a directory that cannot be used.
        let local = read()?;
        return Ok((local, connect(options, notify).await?));
    }
    // With a URL, nothing is started: the files are read while the
    // connection is opened (a no-op deploy is little else).
    let loading = std::thread::spawn(read);
    let session = connect(options, notify).await;
    let local = loading.join().unwrap_or_else(|_| {
        Err(Error::InvalidArgument(
            "reading the migrations failed unexpectedly".into(),
        ))
    })?;
    Ok((local, session?))
}
