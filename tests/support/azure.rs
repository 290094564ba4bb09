//! One Azure Blob Storage emulator per test binary: Azurite (pinned, from
//! the npm registry, installed by `cargo xtask test` into
//! `target/azurite`), started on first use on a loopback port with its
//! data in memory. Each test makes a container of its own with Azure's own
//! Python client (`azure-storage-blob`, in `target/secantus-venv`).

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

static SERVER: OnceLock<u16> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The port of this test binary's Azurite, started on first use.
pub fn port() -> u16 {
    *SERVER.get_or_init(start)
}

/// Azurite's well-known development account (public, the same in every
/// Azurite), as a connection string for Azure's own client.
fn endpoint() -> String {
    format!(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
         AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;\
         BlobEndpoint=http://127.0.0.1:{}/devstoreaccount1;",
        port()
    )
}

/// A new container no other test uses.
pub fn container() -> String {
    let name = format!(
        "schemactl-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let script = format!(
        "from azure.storage.blob import BlobServiceClient\n\
         BlobServiceClient.from_connection_string('{}').create_container('{name}')\n",
        endpoint()
    );
    let made = Command::new(python())
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(made.status.success(), "create container {name}: {made:?}");
    name
}

/// What a `schemactl` run needs to reach the emulator, as applications give
/// it: object_store's standard Azure variables.
pub fn environment(command: &mut Command) -> &mut Command {
    command.env("AZURE_STORAGE_USE_EMULATOR", "true").env(
        "AZURITE_BLOB_STORAGE_URL",
        format!("http://127.0.0.1:{}", port()),
    )
}

/// The blob `name` in `container`, read with Azure's client: its bytes.
pub fn download(container: &str, name: &str) -> Vec<u8> {
    let script = format!(
        "import sys\nfrom azure.storage.blob import BlobServiceClient\n\
         c = BlobServiceClient.from_connection_string('{}')\n\
         sys.stdout.buffer.write(c.get_blob_client('{container}', '{name}').download_blob().readall())\n",
        endpoint()
    );
    let got = Command::new(python())
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(got.status.success(), "download {name}: {got:?}");
    got.stdout
}

fn python() -> PathBuf {
    std::env::var_os("SCHEMACTL_TEST_AZURE_PYTHON").map_or_else(
        || super::repository().join("target/secantus-venv/bin/python"),
        PathBuf::from,
    )
}

fn azurite() -> PathBuf {
    std::env::var_os("SCHEMACTL_TEST_AZURITE").map_or_else(
        || super::repository().join("target/azurite/node_modules/.bin/azurite-blob"),
        PathBuf::from,
    )
}

fn start() -> u16 {
    let port = super::background::free_port();
    let log = std::env::temp_dir().join(format!("schemactl-azurite-{}.log", std::process::id()));
    let args = [
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        &port.to_string(),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--silent",
    ];
    super::background::serve(
        &azurite(),
        &args.map(String::from),
        port,
        &log,
        "run `cargo xtask test`, which installs Azurite, or set SCHEMACTL_TEST_AZURITE",
    );
    port
}
