//! A store in object storage through `object_store`: S3 and S3-compatible,
//! Azure Blob Storage, Google Cloud Storage.
//! Files are streamed up as multipart uploads (8 MiB parts, at most three
//! in flight: no copy on local disk) and read back as streams; the
//! manifest is put last, so a backup is listed only once it is whole.
//! Credentials, region and endpoint come from each cloud's standard
//! environment (`AWS_*`, `AZURE_*`, `GOOGLE_*`) and credential chain
//! (instance roles, managed identities), never from schemactl's output.
//!
//! The object store's I/O runs on a thread of its own with its own
//! runtime: the backup streams are synchronous readers and writers, and
//! they wait on that thread, never on the runtime of whoever calls them.

use super::{Sink, MANIFEST};
use crate::backup::manifest::BackupId;
use crate::Error;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Read, Write};
use std::sync::Arc;

/// The size of each uploaded part (S3's minimum is 5 MiB).
const PART_BYTES: usize = 8 << 20;
/// Parts uploading at once.
const PARTS_IN_FLIGHT: usize = 3;

/// A bucket and the prefix the store's backups are under.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    io: Arc<IoThread>,
}

impl Bucket {
    /// `s3://bucket/prefix` (the `AWS_*` environment),
    /// `az://container/prefix` (`AZURE_*`), `gs://bucket/prefix`
    /// (`GOOGLE_*`), each cloud's standard variables and credential chain.
    pub(super) fn parse(location: &str) -> Result<Self, Error> {
        let invalid =
            |reason: String| Error::InvalidArgument(format!("backup store `{location}`: {reason}"));
        let url = url::Url::parse(location).map_err(|e| invalid(e.to_string()))?;
        let store = match url.scheme() {
            "s3" | "s3a" => Self::s3(location),
            "az" | "azure" | "abfs" | "abfss" => Self::azure(location),
            "gs" => Self::gcs(location),
            other => Err(format!(
                "`{other}://` is not an object store schemactl knows"
            )),
        }
        .map_err(invalid)?;
        Ok(Self {
            store,
            prefix: Path::from(url.path().trim_matches('/')),
            io: Arc::new(IoThread::start().map_err(|e| invalid(e.to_string()))?),
        })
    }

    fn s3(location: &str) -> Result<Arc<dyn ObjectStore>, String> {
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_url(location)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(store))
    }

    #[cfg(feature = "azure")]
    fn azure(location: &str) -> Result<Arc<dyn ObjectStore>, String> {
        let store = object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_url(location)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(store))
    }

    #[cfg(not(feature = "azure"))]
    fn azure(_: &str) -> Result<Arc<dyn ObjectStore>, String> {
        Err("this schemactl is built without the `azure` feature".into())
    }

    #[cfg(feature = "gcs")]
    fn gcs(location: &str) -> Result<Arc<dyn ObjectStore>, String> {
        let store = object_store::gcp::GoogleCloudStorageBuilder::from_env()
            .with_url(location)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(store))
    }

    #[cfg(not(feature = "gcs"))]
    fn gcs(_: &str) -> Result<Arc<dyn ObjectStore>, String> {
        Err("this schemactl is built without the `gcs` feature".into())
    }

    fn path(&self, id: &BackupId, name: &str) -> Path {
        let mut path = self.prefix.clone().join(id.as_str());
        for part in name.split('/') {
            path = path.join(part);
        }
        path
    }

    /// Every object under `prefix`.
    fn list(&self, prefix: Path) -> io::Result<Vec<Path>> {
        let store = self.store.clone();
        self.io
            .run(async move {
                store
                    .list(Some(&prefix))
                    .map_ok(|meta| meta.location)
                    .try_collect::<Vec<Path>>()
                    .await
            })?
            .map_err(io::Error::from)
    }

    /// The ids of the backups whose manifest is there.
    pub(super) fn ids(&self) -> io::Result<Vec<BackupId>> {
        Ok(self
            .list(self.prefix.clone())?
            .iter()
            .filter_map(|location| {
                let parts: Vec<String> = location
                    .prefix_match(&self.prefix)?
                    .map(|part| part.as_ref().to_string())
                    .collect();
                match parts.as_slice() {
                    [id, manifest] if manifest == MANIFEST => BackupId::try_from(id.clone()).ok(),
                    _ => None,
                }
            })
            .collect())
    }

    pub(super) fn read(&self, id: &BackupId, name: &str) -> io::Result<Box<dyn Read + Send>> {
        let (store, path) = (self.store.clone(), self.path(id, name));
        let got = self.io.run(async move { store.get(&path).await })??;
        Ok(Box::new(ObjectReader {
            stream: Some(got.into_stream()),
            chunk: bytes::Bytes::new(),
            io: self.io.clone(),
        }))
    }

    pub(super) fn begin(&self, id: &BackupId) -> PendingUpload {
        PendingUpload {
            bucket: self.clone(),
            id: id.clone(),
            finished: false,
        }
    }

    /// Deletes a backup: its manifest first, then its other objects.
    pub(super) fn delete(&self, id: &BackupId) -> io::Result<()> {
        let (store, manifest) = (self.store.clone(), self.path(id, MANIFEST));
        self.io
            .run(async move { store.delete(&manifest).await })??;
        self.delete_all(id)
    }

    fn delete_all(&self, id: &BackupId) -> io::Result<()> {
        for location in self.list(self.prefix.clone().join(id.as_str()))? {
            let store = self.store.clone();
            self.io
                .run(async move { store.delete(&location).await })??;
        }
        Ok(())
    }
}

/// An object read as its stream arrives.
struct ObjectReader {
    stream: Option<futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>>,
    /// What is left of the last chunk.
    chunk: bytes::Bytes,
    io: Arc<IoThread>,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            let Some(mut stream) = self.stream.take() else {
                return Ok(0);
            };
            let (next, stream) = self.io.run(async move { (stream.next().await, stream) })?;
            match next {
                None => return Ok(0),
                Some(next) => {
                    self.chunk = next?;
                    self.stream = Some(stream);
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// A backup being uploaded.
pub(super) struct PendingUpload {
    bucket: Bucket,
    id: BackupId,
    finished: bool,
}

impl PendingUpload {
    /// A new object, uploaded in parts as it is written.
    pub(super) fn create(&self, name: &str) -> io::Result<Box<dyn Sink>> {
        let (store, path) = (self.bucket.store.clone(), self.bucket.path(&self.id, name));
        let upload = self
            .bucket
            .io
            .run(async move { store.put_multipart(&path).await })??;
        Ok(Box::new(ObjectWriter {
            upload: Some(upload),
            buffer: Vec::with_capacity(PART_BYTES),
            parts: 0,
            in_flight: VecDeque::new(),
            io: self.bucket.io.clone(),
        }))
    }

    /// Puts the manifest: the backup is whole.
    pub(super) fn finish(mut self, manifest: Vec<u8>) -> io::Result<()> {
        let (store, path) = (
            self.bucket.store.clone(),
            self.bucket.path(&self.id, MANIFEST),
        );
        self.bucket
            .io
            .run(async move { store.put(&path, PutPayload::from(manifest)).await })??;
        self.finished = true;
        Ok(())
    }
}

impl Drop for PendingUpload {
    /// An unfinished backup's objects are deleted (it was never listed).
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.bucket.delete_all(&self.id);
        }
    }
}

/// An object being uploaded in parts.
struct ObjectWriter {
    upload: Option<Box<dyn MultipartUpload>>,
    buffer: Vec<u8>,
    parts: usize,
    in_flight: VecDeque<std::sync::mpsc::Receiver<object_store::Result<()>>>,
    io: Arc<IoThread>,
}

impl ObjectWriter {
    /// Sends the buffer as the next part; waits while too many are in flight.
    fn send_part(&mut self) -> io::Result<()> {
        let Some(upload) = self.upload.as_mut() else {
            return Err(io::Error::other("the upload was abandoned"));
        };
        let data = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_BYTES));
        let part = upload.put_part(PutPayload::from(data));
        self.in_flight.push_back(self.io.spawn(part)?);
        self.parts += 1;
        while self.in_flight.len() >= PARTS_IN_FLIGHT {
            self.wait_oldest()?;
        }
        Ok(())
    }

    fn wait_oldest(&mut self) -> io::Result<()> {
        if let Some(oldest) = self.in_flight.pop_front() {
            oldest
                .recv()
                .map_err(|_| IoThread::stopped())?
                .map_err(io::Error::from)?;
        }
        Ok(())
    }
}

impl Write for ObjectWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = PART_BYTES - self.buffer.len();
        let n = buf.len().min(room);
        self.buffer.extend_from_slice(&buf[..n]);
        if self.buffer.len() == PART_BYTES {
            self.send_part()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for ObjectWriter {
    fn commit(mut self: Box<Self>) -> io::Result<()> {
        if !self.buffer.is_empty() || self.parts == 0 {
            self.send_part()?;
        }
        while !self.in_flight.is_empty() {
            self.wait_oldest()?;
        }
        let Some(mut upload) = self.upload.take() else {
            return Err(io::Error::other("the upload was abandoned"));
        };
        self.io
            .run(async move { upload.complete().await.map(drop) })?
            .map_err(io::Error::from)
    }
}

impl Drop for ObjectWriter {
    /// An upload not committed is aborted (its parts are discarded).
    fn drop(&mut self) {
        if let Some(mut upload) = self.upload.take() {
            let _ = self.io.spawn(async move { upload.abort().await });
        }
    }
}

/// The thread the object store's I/O runs on, with its own runtime.
#[derive(Debug)]
struct IoThread {
    jobs: tokio::sync::mpsc::UnboundedSender<BoxFuture<'static, ()>>,
}

impl IoThread {
    fn start() -> io::Result<Self> {
        let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<BoxFuture<'static, ()>>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("schemactl-object-store".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(job) = queue.recv().await {
                        tokio::spawn(job);
                    }
                })
            })?;
        Ok(Self { jobs })
    }

    fn stopped() -> io::Error {
        io::Error::other("the object store's I/O thread has stopped")
    }

    /// Starts `work` there; its result arrives on the receiver.
    fn spawn<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> io::Result<std::sync::mpsc::Receiver<T>> {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        self.jobs
            .send(Box::pin(async move {
                let _ = done.send(work.await);
            }))
            .map_err(|_| Self::stopped())?;
        Ok(result)
    }

    /// Runs `work` there and waits for it.
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> io::Result<T> {
        self.spawn(work)?.recv().map_err(|_| Self::stopped())
    }
}
