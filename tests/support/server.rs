//! One PostgreSQL per test binary, built with schemactl's own
//! [`schemactl::devserver::cluster::Cluster`], and one database per test.
//!
//! A static cannot run a destructor, so a small watchdog shell process
//! waits for the test process to exit and then stops the server and removes
//! its directory, even when the tests are killed.

use super::certificates;
use schemactl::devserver::cluster::{free_port, Cluster, ClusterOptions, TlsFiles};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The server of this test binary.
pub struct TestServer {
    pub port: u16,
    pub password: String,
    /// The CA that signed the server's certificate.
    pub ca_file: PathBuf,
    /// A CA that did not.
    pub other_ca_file: PathBuf,
    cluster: Cluster,
}

/// A database of its own for one test.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub name: String,
    /// URL with the password, sslmode=disable.
    pub url: String,
    pub port: u16,
    pub password: String,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();
static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

/// A password no output may ever contain.
pub const PASSWORD_PREFIX: &str = "Sup3rSecretTestPw";

/// Starts the server on first use.
pub fn server() -> &'static TestServer {
    SERVER.get_or_init(|| start(serves_tls()))
}

/// Whether the server programs were built with TLS (the PostgreSQL 18 leg's
/// build is not: its run skips the `tls` tests, which the other leg runs).
fn serves_tls() -> bool {
    let Ok(binaries) = schemactl::devserver::binaries::PgBinaries::locate() else {
        return true;
    };
    match Command::new(binaries.program("pg_config"))
        .arg("--configure")
        .output()
    {
        Ok(output) if output.status.success() => {
            let configure = String::from_utf8_lossy(&output.stdout);
            configure.contains("--with-openssl") || configure.contains("--with-ssl=openssl")
        }
        _ => true,
    }
}

/// Starts a server; `tls` decides whether it serves TLS.
pub fn start(tls: bool) -> TestServer {
    let root = tempfile::Builder::new()
        .prefix("schemactl-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    // The server may run as another user (when the tests run as root): let it in.
    std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let password = format!("{PASSWORD_PREFIX}{}", std::process::id());
    let pki = certificates::generate();
    let ca_file = root.join("ca.crt");
    let other_ca_file = root.join("other-ca.crt");
    std::fs::write(&ca_file, &pki.ca_pem).expect("write CA");
    std::fs::write(&other_ca_file, &pki.other_ca_pem).expect("write CA");
    let options = ClusterOptions {
        tls: tls.then_some(TlsFiles {
            certificate_pem: pki.server_cert_pem,
            private_key_pem: pki.server_key_pem,
        }),
        durable: false,
    };
    let cluster_dir = root.join("cluster");
    let cluster =
        Cluster::init(&cluster_dir, &password, &options).unwrap_or_else(|e| panic!("initdb: {e}"));
    let port = free_port().expect("free port");
    cluster
        .start(port)
        .unwrap_or_else(|e| panic!("start PostgreSQL: {e}"));
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; kill -QUIT $(head -1 '{data}/postmaster.pid') 2>/dev/null; sleep 2; rm -rf '{root}'",
        pid = std::process::id(),
        data = cluster.data_dir().display(),
        root = root.display()
    );
    // `( … ) &` detaches the watchdog; the outer shell exits at once.
    Command::new("sh")
        .args(["-c", &format!("( {watchdog} ) &")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("start the server watchdog");
    TestServer {
        port,
        password,
        ca_file,
        other_ca_file,
        cluster,
    }
}

impl TestServer {
    /// The URL of `database` as the superuser.
    pub fn url(&self, database: &str) -> String {
        self.cluster.url(self.port, database)
    }

    /// The maintenance database, where `verify` and `diff` may create and
    /// drop their scratch databases.
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// Stops the server the way a crash would (`pg_ctl stop -m immediate`)
    /// and starts it again on the same port.
    pub fn restart_immediately(&self) {
        self.cluster.stop(true).expect("immediate stop");
        self.cluster.start(self.port).expect("restart");
    }

    /// Creates a fresh database for one test.
    pub async fn database(&self) -> TestDb {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::SeqCst)
        );
        let admin = connect(&self.url("postgres")).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        TestDb {
            url: self.url(&name),
            name,
            port: self.port,
            password: self.password.clone(),
        }
    }
}

/// A plain connection for assertions.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect for assertions: {e}"));
    tokio::spawn(connection);
    client
}

impl TestDb {
    /// A connection for assertions.
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }

    /// The URL with a different sslmode (and more parameters).
    pub fn url_with(&self, host: &str, params: &str) -> String {
        format!(
            "postgres://postgres:{}@{host}:{}/{}?{params}",
            self.password, self.port, self.name
        )
    }

    /// Whether a table, index or other relation of that name exists.
    pub async fn exists(&self, relation: &str) -> bool {
        self.scalar::<Option<String>>(&format!("SELECT to_regclass('{relation}')::text"))
            .await
            .is_some()
    }

    /// Runs a query returning one column, its values in order.
    pub async fn column<T: for<'a> tokio_postgres::types::FromSql<'a>>(&self, sql: &str) -> Vec<T> {
        self.client()
            .await
            .query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    /// Runs a query returning one value.
    pub async fn scalar<T: for<'a> tokio_postgres::types::FromSql<'a>>(&self, sql: &str) -> T {
        self.client()
            .await
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }
}
