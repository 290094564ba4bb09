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

/// Migrations being read while the connection opens: finished once the
/// first question has been sent to the server, so that reading the files
/// and the server's answer overlap too (a no-op deploy is little else).
pub(crate) struct Reading(ReadingState);

enum ReadingState {
    /// Read before connecting.
    Done(Box<Result<Loaded, Error>>),
    /// Being read on a thread of its own.
    Thread(tokio::sync::oneshot::Receiver<Result<Loaded, Error>>),
}

impl Reading {
    /// A source read already (`read` ran before connecting).
    pub(crate) fn done(read: Result<Loaded, Error>) -> Self {
        Self(ReadingState::Done(Box::new(read)))
    }

    /// Whether the files are still being read (on a thread of their own).
    pub(crate) fn in_progress(&self) -> bool {
        matches!(self.0, ReadingState::Thread(_))
    }

    /// The directory read, once the thread reading it is done.
    pub(crate) async fn finish(self) -> Result<Loaded, Error> {
        match self.0 {
            ReadingState::Done(loaded) => *loaded,
            ReadingState::Thread(receiver) => receiver.await.unwrap_or_else(|_| {
                Err(Error::InvalidArgument(
                    "reading the migrations failed unexpectedly".into(),
                ))
            }),
        }
    }
}

/// Connects while `read` reads the source on a thread of its own; the
/// reading is left to finish. A problem with the files is told before one
/// with the connection.
pub(crate) async fn connect_while_reading(
    read: impl FnOnce() -> Result<Loaded, Error> + Send + 'static,
    options: &ConnectOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<(Reading, Session), Error> {
    if options.url.is_none() {
        // Check the input before starting anything: the development server
        // is not started for a directory that cannot be used.
        let local = read()?;
        let session = connect(options, notify).await?;
        return Ok((Reading::done(Ok(local)), session));
    }
    // With a URL, nothing is started: the files are read while the
    // connection is opened.
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = sender.send(read());
    });
    let reading = Reading(ReadingState::Thread(receiver));
    match connect(options, notify).await {
        Ok(session) => Ok((reading, session)),
        Err(refused) => {
            reading.finish().await?;
            Err(refused)
        }
    }
}
