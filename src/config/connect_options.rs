//! [`ConnectOptions`]: how a command reaches its PostgreSQL database — a
//! URL, libpq's variables, or the embedded development server when that is
//! allowed — and as whom it works there.

use crate::model::identifier::Identifier;
use std::path::PathBuf;
use std::time::Duration;

/// How to reach the database being migrated.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The database; `None`: libpq's variables (`PGHOST`, …) when they name
    /// a server, else the development server when allowed, else an error.
    pub url: Option<String>,
    /// Where `url` came from (a flag, a variable or a file key), named in
    /// errors about it.
    pub url_source: String,
    /// The role sessions run as (`SET ROLE`; the login user is a member).
    pub role: Option<Identifier>,
    /// How long connecting may take (PostgreSQL: unless the connection
    /// string sets `connect_timeout`; MongoDB: server selection).
    pub connect_timeout: Duration,
    /// The project whose embedded development server may be used when no
    /// URL is given (its data lives in `<dir>/.schemactl/`). `None`: never —
    /// a library user or a CI job without `DATABASE_URL` gets an error, not
    /// a throwaway database.
    pub dev_server: Option<PathBuf>,
    /// Schema-per-tenant: the schema put first on the `search_path` of
    /// every session (the history table normally lives there too).
    pub tenant_schema: Option<Identifier>,
}

impl Default for ConnectOptions {
    /// No URL (libpq's variables, or an error), a 10 s connect timeout, no
    /// development server.
    fn default() -> Self {
        Self {
            url: None,
            url_source: format!("{} ([postgres] url)", super::FILE_NAME),
            role: None,
            connect_timeout: Duration::from_secs(10),
            dev_server: None,
            tenant_schema: None,
        }
    }
}

impl ConnectOptions {
    /// The database at `url`, with the other defaults.
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            url_source: "the database URL".into(),
            ..Self::default()
        }
    }
}
