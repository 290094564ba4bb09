//! One PostgreSQL cluster in a directory of its own, managed with `initdb`
//! and `pg_ctl`. It listens on 127.0.0.1 only (no unix socket) and requires
//! a password (SCRAM) even there.

use super::binaries::PgBinaries;
use super::system_user::{give_to, server_user, SystemUser};
use crate::Error;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The superuser every cluster is created with.
pub const SUPERUSER: &str = "postgres";

/// How to create a cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Serve TLS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// Keep `fsync` on. Off is fine for tests and throwaway development data.
    pub durable: bool,
}

/// A server certificate and its private key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain.
    pub certificate_pem: String,
    /// The private key.
    pub private_key_pem: String,
}

/// A cluster on disk.
#[derive(Debug, Clone)]
pub struct Cluster {
    root: PathBuf,
    binaries: PgBinaries,
    user: Option<SystemUser>,
    password: String,
}

impl Cluster {
    /// Creates a cluster in `root` (which must not hold one yet) whose
    /// superuser `postgres` has `password`.
    pub fn init(root: &Path, password: &str, options: &ClusterOptions) -> Result<Self, Error> {
        let binaries = PgBinaries::locate()?;
        std::fs::create_dir_all(root).map_err(|e| io(root, e))?;
        let root = &std::fs::canonicalize(root).map_err(|e| io(root, e))?;
        let cluster = Self {
            root: root.clone(),
            binaries,
            user: server_user(),
            password: password.into(),
        };
        if let Some(user) = cluster.user {
            check_reachable(root, user)?;
        }
        let password_file = root.join("initdb-password");
        write_private(&password_file, password)?;
        give_to(cluster.user, root).map_err(|e| io(root, e))?;
        let output = cluster
            .command("initdb")
            .arg("--pgdata")
            .arg(cluster.data_dir())
            .args([
                "--username",
                SUPERUSER,
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", password_file.display()))
            .output();
        let _ = std::fs::remove_file(&password_file);
        check("initdb", output)?;
        let mut conf = String::from(
            "\n# schemactl\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n",
        );
        if !options.durable {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        if let Some(tls) = &options.tls {
            let data = cluster.data_dir();
            write_private(&data.join("server.crt"), &tls.certificate_pem)?;
            write_private(&data.join("server.key"), &tls.private_key_pem)?;
            give_to(cluster.user, &data).map_err(|e| io(&data, e))?;
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }
        let conf_path = cluster.data_dir().join("postgresql.conf");
        let mut existing = std::fs::read_to_string(&conf_path).map_err(|e| io(&conf_path, e))?;
        existing.push_str(&conf);
        std::fs::write(&conf_path, existing).map_err(|e| io(&conf_path, e))?;
        Ok(cluster)
    }

    /// A streaming standby of the server on 127.0.0.1:`primary_port` (whose
    /// superuser `postgres` has `password`), copied into `root` with
    /// `pg_basebackup` and following it once started: for tests of what
    /// waits on a replica.
    #[cfg(feature = "harness")]
    pub fn standby_of(primary_port: u16, root: &Path, password: &str) -> Result<Self, Error> {
        std::fs::create_dir_all(root).map_err(|e| io(root, e))?;
        let root = &std::fs::canonicalize(root).map_err(|e| io(root, e))?;
        let cluster = Self {
            root: root.clone(),
            binaries: PgBinaries::locate()?,
            user: server_user(),
            password: password.into(),
        };
        give_to(cluster.user, root).map_err(|e| io(root, e))?;
        let output = cluster
            .command("pg_basebackup")
            .env("PGPASSWORD", password)
            .arg("--pgdata")
            .arg(cluster.data_dir())
            .args(["--host", "127.0.0.1", "--port"])
            .arg(primary_port.to_string())
            .args([
                "--username",
                SUPERUSER,
                "--wal-method",
                "stream",
                "--write-recovery-conf",
                "--no-sync",
                "--checkpoint",
                "fast",
            ])
            .output();
        check("pg_basebackup", output)?;
        let auto_conf = cluster.data_dir().join("postgresql.auto.conf");
        let mut conf = std::fs::read_to_string(&auto_conf).map_err(|e| io(&auto_conf, e))?;
        conf.push_str(&format!(
            "\nprimary_conninfo = 'host=127.0.0.1 port={primary_port} user={SUPERUSER} password={password}'\n"
        ));
        write_private(&auto_conf, &conf)?;
        give_to(cluster.user, &cluster.data_dir()).map_err(|e| io(root, e))?;
        Ok(cluster)
    }

    /// A cluster created earlier in `root`.
    pub fn open(root: &Path, password: &str) -> Result<Self, Error> {
        let root = std::fs::canonicalize(root).map_err(|e| io(root, e))?;
        Ok(Self {
            root,
            binaries: PgBinaries::locate()?,
            user: server_user(),
            password: password.into(),
        })
    }

    /// Whether `root` holds a cluster.
    pub fn exists(root: &Path) -> bool {
        root.join("data").join("PG_VERSION").is_file()
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The server log.
    pub fn log_file(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    /// Starts the server on 127.0.0.1:`port` and waits until it accepts connections.
    pub fn start(&self, port: u16) -> Result<(), Error> {
        let output = self
            .command("pg_ctl")
            .arg("--pgdata")
            .arg(self.data_dir())
            .arg("--log")
            .arg(self.log_file())
            .args(["--wait", "--timeout", "60", "-o"])
            .arg(format!("-p {port}"))
            .arg("start")
            .output();
        check("pg_ctl start", output).map_err(|e| {
            let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Error::EmbeddedServer(format!(
                "{e}\nlast lines of {}:\n{}",
                self.log_file().display(),
                tail.join("\n")
            ))
        })
    }

    /// Stops the server: `fast` ends sessions cleanly, `immediate` does not
    /// even checkpoint (as a crash would).
    pub fn stop(&self, immediate: bool) -> Result<(), Error> {
        let mode = if immediate { "immediate" } else { "fast" };
        let output = self
            .command("pg_ctl")
            .arg("--pgdata")
            .arg(self.data_dir())
            .args(["--wait", "--mode", mode, "stop"])
            .output();
        check("pg_ctl stop", output)
    }

    /// Whether the server is running.
    pub fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("--pgdata")
            .arg(self.data_dir())
            .arg("status")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// A URL for `database` on this server as the superuser.
    pub fn url(&self, port: u16, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{port}/{database}?sslmode=disable",
            self.password
        )
    }

    /// The shell command that stops this server, for watchdogs that outlive the process.
    #[cfg(feature = "harness")]
    pub fn stop_command_line(&self) -> String {
        let pg_ctl = self.binaries.program("pg_ctl");
        let as_user = self.user.map(|u| {
            format!(
                "setpriv --reuid={} --regid={} --clear-groups ",
                u.uid, u.gid
            )
        });
        format!(
            "{}'{}' --pgdata '{}' --mode immediate stop",
            as_user.unwrap_or_default(),
            pg_ctl.display(),
            self.data_dir().display()
        )
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.binaries.program(program));
        command
            .current_dir(&self.root)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        if let Some(user) = self.user {
            command.uid(user.uid).gid(user.gid);
        }
        command
    }
}

/// The server runs as `user`, so it must be able to reach `dir` through
/// every parent directory (a project under `/root`, mode 0700, is not).
fn check_reachable(dir: &Path, user: SystemUser) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    for ancestor in dir.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.mode();
        let searchable = if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !searchable {
            return Err(Error::EmbeddedServer(format!(
                "PostgreSQL refuses to run as root, so the embedded server runs as uid {}, which cannot enter {} (mode {:o}). \
                 Let it in with `chmod o+x {}`, move the project, or give a database with --database-url / DATABASE_URL",
                user.uid,
                ancestor.display(),
                mode & 0o7777,
                ancestor.display()
            )));
        }
    }
    Ok(())
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16, Error> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| Error::EmbeddedServer(format!("cannot find a free port on 127.0.0.1: {e}")))
}

fn check(what: &str, output: std::io::Result<Output>) -> Result<(), Error> {
    let output = output.map_err(|e| Error::EmbeddedServer(format!("cannot run {what}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let said = if stderr.trim().is_empty() {
        String::from_utf8_lossy(&output.stdout)
    } else {
        stderr
    };
    Err(Error::EmbeddedServer(format!(
        "{what} failed ({}): {}",
        output.status,
        said.trim()
    )))
}

/// Writes a secret to a file that is 0600 from the moment it exists: never
/// readable by other local users, not even for an instant.
fn write_private(path: &Path, content: &str) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(path, e)),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io(path, e))?;
    file.write_all(content.as_bytes()).map_err(|e| io(path, e))
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
