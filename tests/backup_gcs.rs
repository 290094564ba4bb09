//! `schemactl backup` with a Google Cloud Storage store (`gs://`), through
//! object_store's GCS client and GCS's XML API (see `support::gcs` for the
//! server): the whole cycle of `support::object_cycle`.

use crate::support::gcs;
use crate::support::object_cycle::{whole_cycle, Cloud};

#[tokio::test]
async fn a_backup_in_google_cloud_storage_is_streamed_up_verified_restored_and_pruned() {
    let bucket = gcs::bucket();
    let download = |name: &str| gcs::download(&bucket, name);
    let cloud = Cloud {
        store: format!("gs://{bucket}/nightly"),
        environment: gcs::environment,
        download: &download,
    };
    whole_cycle(cloud, "marker-gcs-92eb5ffee6ae2fec3ad71c777531578f").await;
}
