//! Writing to stdout and stderr without ever panicking.
//!
//! `println!` panics when stdout is closed (`schemactl dump | head -1`). Like
//! ripgrep, schemactl treats a closed pipe as the reader having seen enough:
//! output stops quietly and the process exits with the run's own code.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout; nothing once the reader has gone.
pub fn stdout(text: &str) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// Writes `text` and a newline to stdout.
pub fn stdout_line(text: &str) {
    stdout(&format!("{text}\n"));
}

/// Writes `text` to stderr; errors writing it are ignored (there is nowhere
/// left to report them).
pub fn stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes `text` and a newline to stderr.
pub fn stderr_line(text: &str) {
    stderr(&format!("{text}\n"));
}
