//! Progress of long transfers: a reader that counts what passes through it,
//! and a loop that reports the count as [`Notice::Progress`] while the
//! transfer runs on another thread.

use crate::runner::notice::Notice;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often progress is reported.
const EVERY: Duration = Duration::from_millis(250);

/// A reader that adds the bytes it reads to a shared count.
pub(crate) struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Counting<R> {
    /// `inner`, counted into `count`.
    pub(crate) fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Self { inner, count }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Waits for `work`, reporting `count` every quarter second meanwhile.
pub(crate) async fn reporting<T>(
    work: impl std::future::Future<Output = T>,
    task: &str,
    count: &AtomicU64,
    total: Option<u64>,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> T {
    futures_util::pin_mut!(work);
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            finished = &mut work => {
                let done = count.load(Ordering::Relaxed);
                notify(Notice::Progress { task, done, total: Some(done), bytes: true });
                return finished;
            }
            _ = ticks.tick() => notify(Notice::Progress {
                task,
                done: count.load(Ordering::Relaxed),
                total,
                bytes: true,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reports_while_the_work_runs_and_once_at_its_end() {
        let count = Arc::new(AtomicU64::new(0));
        let mut reader = Counting::new(&b"0123456789"[..], count.clone());
        let mut seen = Vec::new();
        let work = async {
            let mut sink = Vec::new();
            tokio::time::sleep(Duration::from_millis(600)).await;
            reader.read_to_end(&mut sink).unwrap();
            sink.len()
        };
        let read = reporting(work, "restoring", &count, Some(10), &mut |notice| {
            if let Notice::Progress { done, total, .. } = notice {
                seen.push((done, total));
            }
        })
        .await;
        assert_eq!(read, 10);
        assert!(seen.len() >= 3, "{seen:?}");
        assert_eq!(seen[0], (0, Some(10)));
        assert_eq!(seen.last(), Some(&(10, Some(10))));
    }
}
