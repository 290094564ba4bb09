//! One S3-compatible server per test binary: moto's server (pinned in
//! `cargo xtask test`, installed into `target/secantus-venv`), started on
//! first use on a loopback port, and ended with the tests. Each test uses
//! a bucket of its own, made with a plain HTTP request.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

static SERVER: OnceLock<u16> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The port of this test binary's server, started on first use.
pub fn port() -> u16 {
    *SERVER.get_or_init(start)
}

/// A new bucket no other test uses.
pub fn bucket() -> String {
    let name = format!(
        "schemactl-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let (status, body) = http("PUT", &format!("/{name}"), b"");
    assert_eq!(status, 200, "create bucket {name}: {body:?}");
    name
}

/// The environment a `schemactl` run needs to reach the server, as
/// applications give it: the standard AWS variables.
pub fn environment(command: &mut Command) -> &mut Command {
    command
        .env("AWS_ENDPOINT", format!("http://127.0.0.1:{}", port()))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "schemactl-test")
        .env("AWS_SECRET_ACCESS_KEY", "schemactl-test-secret")
        .env("AWS_REGION", "us-east-1")
}

/// A plain HTTP request to the server: its status and body.
pub fn http(method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    http_on(port(), method, path, body)
}

/// A plain HTTP request to the server on loopback `port`: its status and body.
pub fn http_on(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to moto");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("request");
    stream.write_all(body).expect("request body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response");
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |p| p + 4);
    let status = String::from_utf8_lossy(&response[..end])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response[end..].to_vec())
}

/// moto's server program (its virtualenv's `python` is beside it).
pub fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("SCHEMACTL_TEST_MOTO") {
        return PathBuf::from(path);
    }
    let venv = super::repository().join("target/secantus-venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    PathBuf::from("moto_server")
}

fn start() -> u16 {
    let port = super::background::free_port();
    let log = std::env::temp_dir().join(format!("schemactl-moto-{}.log", std::process::id()));
    let args = ["-H", "127.0.0.1", "-p", &port.to_string()];
    super::background::serve(
        &moto_server(),
        &args.map(String::from),
        port,
        &log,
        "run `cargo xtask test`, which installs moto's server, or set SCHEMACTL_TEST_MOTO",
    );
    port
}
