//! One MongoDB-wire server per test binary: SecantusDB (pinned in
//! `cargo xtask test`, installed into `target/secantus-venv`), or a real
//! MongoDB when `SCHEMACTL_TEST_MONGODB_URI` is set. Each test uses
//! databases of its own.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static SERVER: OnceLock<String> = OnceLock::new();
static DEV_SERVER: OnceLock<String> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The URI of this test binary's server, started on first use.
pub fn uri() -> &'static str {
    SERVER.get_or_init(|| std::env::var("SCHEMACTL_TEST_MONGODB_URI").unwrap_or_else(|_| start()))
}

/// A second server, the development server of MongoDB `verify` (never
/// the deploy target), started on first use.
pub fn dev_uri() -> &'static str {
    DEV_SERVER
        .get_or_init(|| std::env::var("SCHEMACTL_TEST_MONGODB_DEV_URI").unwrap_or_else(|_| start()))
}

/// A database name no other test uses.
pub fn database() -> String {
    format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

fn secantusd() -> PathBuf {
    if let Some(path) = std::env::var_os("SCHEMACTL_TEST_SECANTUSD") {
        return PathBuf::from(path);
    }
    let venv = super::repository().join("target/secantus-venv/bin/secantusd-py");
    if venv.is_file() {
        return venv;
    }
    PathBuf::from("secantusd-py")
}

fn start() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::env::temp_dir().join(format!("schemactl-secantus-{}.log", std::process::id()));
    // Started from a shell in the background, so that this process holds no
    // child handle; the watchdog below ends the server with the tests.
    let launched = Command::new("sh")
        .args(["-c", "\"$0\" --host 127.0.0.1 --port \"$1\" --storage-path :memory: > \"$2\" 2>&1 < /dev/null & echo $!"])
        .arg(secantusd())
        .arg(port.to_string())
        .arg(&log)
        .output()
        .expect("start SecantusDB");
    let pid = String::from_utf8_lossy(&launched.stdout).trim().to_string();
    assert!(
        !pid.is_empty(),
        "cannot start SecantusDB; run `cargo xtask test`, which installs it, or set SCHEMACTL_TEST_MONGODB_URI"
    );
    let watchdog = format!(
        "( while kill -0 {} 2>/dev/null; do sleep 1; done; kill {pid} 2>/dev/null; rm -f '{}' ) &",
        std::process::id(),
        log.display()
    );
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("watchdog");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "SecantusDB did not listen within 30 s (log: {})",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    format!("mongodb://127.0.0.1:{port}/?directConnection=true")
}
