//! [`MongoConnectOptions`]: the MongoDB server of a project, when it has one.

use std::time::Duration;

/// The MongoDB server and how its runs lock.
#[derive(Debug, Clone)]
pub struct MongoConnectOptions {
    /// The server; `None`: the MongoDB side is not configured.
    pub uri: Option<String>,
    /// How long a run's lock document lives before another run may take it
    /// over (default 10 min).
    pub lock_ttl: Duration,
}

impl Default for MongoConnectOptions {
    fn default() -> Self {
        Self {
            uri: None,
            lock_ttl: Duration::from_secs(600),
        }
    }
}
