//! One MongoDB-wire server per test binary: SecantusDB (pinned in
//! `cargo xtask test`, installed into `target/secantus-venv`), or a real
//! MongoDB when `SCHEMACTL_TEST_MONGODB_URI` is set. Each test uses
//! databases of its own.

use std::path::PathBuf;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

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
    let port = super::background::free_port();
    let log = std::env::temp_dir().join(format!(
        "schemactl-secantus-{}-{port}.log",
        std::process::id()
    ));
    let args = [
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--storage-path",
        ":memory:",
    ];
    super::background::serve(
        &secantusd(),
        &args.map(String::from),
        port,
        &log,
        "run `cargo xtask test`, which installs SecantusDB, or set SCHEMACTL_TEST_MONGODB_URI",
    );
    format!("mongodb://127.0.0.1:{port}/?directConnection=true")
}
