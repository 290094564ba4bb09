//! A real PgBouncer (Debian's `pgbouncer`; `cargo xtask test` installs it)
//! in front of the test server, in transaction pooling mode, handing out
//! its server connections in turn (`server_round_robin`): two statements
//! of one client land in two server sessions, as they do on a busy pooler.

use super::server::{connect, TestDb};
use schemactl::devserver::cluster::free_port;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running PgBouncer; stopped when dropped.
pub struct PgBouncer {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

/// The program: `SCHEMACTL_TEST_PGBOUNCER`, else Debian's.
fn program() -> PathBuf {
    super::debian_program(
        "SCHEMACTL_TEST_PGBOUNCER",
        "/usr/sbin/pgbouncer",
        "pgbouncer",
        "the pooler tests",
    )
}

impl PgBouncer {
    /// Starts one in front of `db`'s server, with three server sessions open.
    pub async fn start(db: &TestDb) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // PgBouncer refuses to run as root; as `nobody` it must read and
        // write its directory.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        let port = free_port().expect("free port");
        let ini = dir.path().join("pgbouncer.ini");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n* = host=127.0.0.1 port={} user=postgres password={}\n\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = any\npool_mode = transaction\nserver_round_robin = 1\n\
                 default_pool_size = 3\nlogfile = {}\n\
                 ignore_startup_parameters = extra_float_digits,options\n",
                db.port,
                db.password,
                dir.path().join("pgbouncer.log").display(),
            ),
        )
        .unwrap();
        let mut command = Command::new(program());
        if rustix::process::geteuid().is_root() {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        let pooler = Self {
            port,
            child,
            _dir: dir,
        };
        pooler.wait_until_it_answers(db).await;
        pooler.open_server_sessions(db).await;
        pooler
    }

    /// `db` through the pooler (no password: the pooler logs in itself).
    pub fn url(&self, db: &TestDb) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}?sslmode=disable",
            self.port, db.name
        )
    }

    /// `db` with its URL pointing at the pooler.
    pub fn in_front_of(&self, db: &TestDb) -> TestDb {
        TestDb {
            url: self.url(db),
            ..db.clone()
        }
    }

    async fn wait_until_it_answers(&self, db: &TestDb) {
        let started = Instant::now();
        loop {
            match tokio_postgres::connect(&self.url(db), tokio_postgres::NoTls).await {
                Ok(_) => return,
                Err(e) if started.elapsed() > Duration::from_secs(10) => {
                    panic!("pgbouncer did not answer within 10 s: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Three clients in a transaction at once make the pooler open three
    /// server sessions, which it then hands out in turn.
    async fn open_server_sessions(&self, db: &TestDb) {
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(connect(&self.url(db)).await);
        }
        let sleeps = clients
            .iter()
            .map(|client| client.simple_query("SELECT pg_sleep(0.3)"));
        for answer in futures_util::future::join_all(sleeps).await {
            answer.expect("a statement through pgbouncer");
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
