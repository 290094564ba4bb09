//! One Google Cloud Storage XML API per test binary: moto's S3 server
//! (the same pinned moto as `s3`), behind `gcs_xml_server.py`, which gives
//! object_store's emulator credentials a placeholder bearer token. GCS's
//! XML API is S3-interoperable, and it is the API object_store's GCS
//! client speaks; no GCS emulator that speaks it installs from the
//! registries this project may use (fake-gcs-server is a Go binary,
//! `gcp-storage-emulator` answers the XML list with 501). Each test uses a
//! bucket of its own.

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
        "schemactl-gcs-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let (status, body) = super::s3::http_on(port(), "PUT", &format!("/{name}"), b"");
    assert_eq!(status, 200, "create bucket {name}: {body:?}");
    name
}

/// What a `schemactl` run needs to reach the server, as applications give
/// it: object_store's standard Google variables, with the emulator form of
/// a service-account key (`disable_oauth`, `gcs_base_url`).
pub fn environment(command: &mut Command) -> &mut Command {
    let key = format!(
        r#"{{"gcs_base_url": "http://127.0.0.1:{}", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}}"#,
        port()
    );
    command
        .env("GOOGLE_SERVICE_ACCOUNT_KEY", key)
        .env("GOOGLE_ALLOW_HTTP", "true")
}

/// The object `name` in `bucket`: its bytes.
pub fn download(bucket: &str, name: &str) -> Vec<u8> {
    let (status, body) = super::s3::http_on(port(), "GET", &format!("/{bucket}/{name}"), b"");
    assert_eq!(status, 200, "download {name}");
    body
}

fn start() -> u16 {
    let port = super::background::free_port();
    let log = std::env::temp_dir().join(format!("schemactl-gcs-{}.log", std::process::id()));
    let python = super::s3::moto_server().with_file_name("python");
    let script = super::repository().join("tests/support/gcs_xml_server.py");
    super::background::serve(
        &python,
        &[script.display().to_string(), port.to_string()],
        port,
        &log,
        "run `cargo xtask test`, which installs moto's server, or set SCHEMACTL_TEST_MOTO",
    );
    port
}
