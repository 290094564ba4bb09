//! The development default: with no database URL at all, schemactl uses a
//! PostgreSQL of its own under `.schemactl/postgres/` in the project
//! directory, started on first use and kept running between runs.
//! `schemactl dev stop` stops it, `schemactl dev reset` deletes it.

use super::cluster::{free_port, Cluster, ClusterOptions};
use crate::Error;
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The database the development server's URL points at.
pub(crate) const DATABASE: &str = "postgres";

/// A project's development server (its data under
/// `<project>/.schemactl/postgres/`): the one entry point to it.
#[derive(Debug, Clone, Copy)]
pub struct DevServer<'p> {
    project_dir: &'p Path,
}

impl<'p> DevServer<'p> {
    /// The development server of the project in `project_dir`.
    pub fn of(project_dir: &'p Path) -> Self {
        Self { project_dir }
    }

    /// Makes sure it runs, creating it on first use, and returns its URL.
    /// `notify` hears what is being done (it can take seconds).
    pub fn ensure_running(&self, notify: &mut dyn FnMut(&str)) -> Result<String, Error> {
        ensure_running(self.project_dir, notify)
    }

    /// Stops it; false when it was not running.
    pub fn stop(&self) -> Result<bool, Error> {
        stop(self.project_dir)
    }

    /// Stops it and deletes its data.
    pub fn reset(&self) -> Result<(), Error> {
        reset(self.project_dir)
    }

    /// Where it keeps its data, and its URL when it runs.
    pub fn status(&self) -> Result<(PathBuf, Option<String>), Error> {
        status(self.project_dir)
    }

    /// Whether this process started a development server (so that a
    /// command that then fails can stop it again).
    pub fn started_here() -> bool {
        started_here()
    }
}

/// What is remembered between runs (in `.schemactl/dev-postgres.json`, mode 0600).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct State {
    port: u16,
    password: String,
}

fn root(project_dir: &Path) -> PathBuf {
    project_dir.join(".schemactl").join("postgres")
}

fn state_file(project_dir: &Path) -> PathBuf {
    project_dir.join(".schemactl").join("dev-postgres.json")
}

fn read_state(project_dir: &Path) -> Option<State> {
    let text = std::fs::read_to_string(state_file(project_dir)).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_state(project_dir: &Path, state: &State) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = state_file(project_dir);
    let text = serde_json::to_string_pretty(state).unwrap_or_default();
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|source| Error::Io { path, source })
}

/// Keeps `.schemactl/` (server data, the password file) out of git.
fn ignore_in_git(project_dir: &Path) -> Result<(), Error> {
    super::state_dir::create(&project_dir.join(super::state_dir::NAME))
}

/// Whether this process started the development server (so that a
/// command that then fails can stop it again).
static STARTED_HERE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether [`ensure_running`] started the server in this process.
fn started_here() -> bool {
    STARTED_HERE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Makes sure the development server runs, creating it on first use, and
/// returns its URL. `notify` hears what is being done (it can take seconds).
fn ensure_running(project_dir: &Path, notify: &mut dyn FnMut(&str)) -> Result<String, Error> {
    ignore_in_git(project_dir)?;
    let root = root(project_dir);
    let state = match read_state(project_dir).filter(|_| Cluster::exists(&root)) {
        Some(state) => state,
        None => {
            notify(&format!(
                "creating the embedded development PostgreSQL in {}",
                root.display()
            ));
            if root.exists() {
                std::fs::remove_dir_all(&root).map_err(|source| Error::Io {
                    path: root.clone(),
                    source,
                })?;
            }
            let password = Alphanumeric.sample_string(&mut rand::rng(), 32);
            Cluster::init(&root, &password, &ClusterOptions::default())?;
            let state = State {
                port: free_port()?,
                password,
            };
            write_state(project_dir, &state)?;
            state
        }
    };
    let cluster = Cluster::open(&root, &state.password)?;
    // A TCP probe is much cheaper than `pg_ctl status` (a process) and is
    // on the path of every command run against the development server.
    let probe = std::net::SocketAddr::from(([127, 0, 0, 1], state.port));
    let listening =
        std::net::TcpStream::connect_timeout(&probe, std::time::Duration::from_millis(200)).is_ok();
    if listening && (postmaster_port(&cluster) == Some(state.port) || cluster.is_running()) {
        return Ok(cluster.url(state.port, DATABASE));
    }
    let port = if std::net::TcpListener::bind(("127.0.0.1", state.port)).is_ok() {
        state.port
    } else {
        free_port()?
    };
    notify(&format!(
        "starting the embedded development PostgreSQL on 127.0.0.1:{port}; it keeps running in the background \
         after this command (`schemactl dev stop` stops it, `schemactl dev url` prints its URL for psql)"
    ));
    cluster.start(port)?;
    STARTED_HERE.store(true, std::sync::atomic::Ordering::Relaxed);
    write_state(
        project_dir,
        &State {
            port,
            password: state.password.clone(),
        },
    )?;
    Ok(cluster.url(port, DATABASE))
}

/// Stops the development server; false when it was not running.
fn stop(project_dir: &Path) -> Result<bool, Error> {
    let root = root(project_dir);
    let Some(state) = read_state(project_dir).filter(|_| Cluster::exists(&root)) else {
        return Ok(false);
    };
    let cluster = Cluster::open(&root, &state.password)?;
    if !cluster.is_running() {
        return Ok(false);
    }
    cluster.stop(false)?;
    Ok(true)
}

/// Stops the development server and deletes its data.
fn reset(project_dir: &Path) -> Result<(), Error> {
    stop(project_dir)?;
    for path in [root(project_dir), state_file(project_dir)] {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::Io { path, source: e })
            }
            _ => {}
        }
    }
    Ok(())
}

/// Where the development server keeps its data, and its URL when it runs.
fn status(project_dir: &Path) -> Result<(PathBuf, Option<String>), Error> {
    let root = root(project_dir);
    let Some(state) = read_state(project_dir).filter(|_| Cluster::exists(&root)) else {
        return Ok((root, None));
    };
    let cluster = Cluster::open(&root, &state.password)?;
    let url = cluster
        .is_running()
        .then(|| cluster.url(state.port, DATABASE));
    Ok((root, url))
}

/// The port in `postmaster.pid` (its fourth line) when the server runs.
fn postmaster_port(cluster: &Cluster) -> Option<u16> {
    let pid_file = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid")).ok()?;
    pid_file.lines().nth(3)?.trim().parse().ok()
}
