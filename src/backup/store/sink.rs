//! [`Sink`]: a backup file being written, whatever the store.

use std::io::Write;

/// A backup file being written; [`Sink::commit`] makes it durable (synced
/// to disk, or its upload completed). Dropped without it, the file is
/// left incomplete and the backup is never whole.
pub(crate) trait Sink: Write + Send {
    /// Ends the file.
    fn commit(self: Box<Self>) -> std::io::Result<()>;
}

impl Sink for std::fs::File {
    fn commit(self: Box<Self>) -> std::io::Result<()> {
        self.sync_all()
    }
}
