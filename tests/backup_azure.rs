//! `schemactl backup` with an Azure Blob Storage store (`az://`), against
//! Azurite (the Azure Storage emulator, started by the harness): the whole
//! cycle of `support::object_cycle`, the blobs read back with Azure's own
//! Python client.

use crate::support::azure;
use crate::support::object_cycle::{whole_cycle, Cloud};

#[tokio::test]
async fn a_backup_in_azure_blob_storage_is_streamed_up_verified_restored_and_pruned() {
    let container = azure::container();
    let download = |name: &str| azure::download(&container, name);
    let cloud = Cloud {
        store: format!("az://{container}/nightly"),
        environment: azure::environment,
        download: &download,
    };
    whole_cycle(cloud, "marker-azure-0cc175b9c0f1b6a831c399e269772661").await;
}
