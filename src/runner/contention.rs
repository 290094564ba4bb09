//! What stands in a migration's way on a live database, as reported to
//! people: the sessions holding the locks it waited for ([`Blocker`]) and
//! the indexes an interrupted `CREATE INDEX CONCURRENTLY` left INVALID
//! ([`InvalidIndex`]). Plain data: the PostgreSQL driver finds them.

/// An index marked invalid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct InvalidIndex {
    /// `schema.index`, quoted where needed.
    pub index: String,
    /// `schema.table`, quoted where needed.
    pub table: String,
}

impl InvalidIndex {
    /// The statement that removes it without blocking writes.
    pub fn drop_statement(&self) -> String {
        format!("DROP INDEX CONCURRENTLY {};", self.index)
    }
}

/// A session holding a lock a migration waited for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Blocker {
    /// Its backend's process id.
    pub pid: i32,
    /// The role it is logged in as.
    pub user: String,
    /// Its `application_name`.
    pub application: String,
    /// `active`, `idle in transaction`, …
    pub state: String,
    /// When its transaction began (UTC), if it is in one.
    pub transaction_start: Option<String>,
    /// The first line of its current or last query.
    pub query: String,
    /// The tables it holds locks on, with the modes.
    pub locks: String,
}

impl Blocker {
    /// The statement that ends it.
    pub fn terminate_statement(&self) -> String {
        format!("SELECT pg_terminate_backend({});", self.pid)
    }
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} (user {}, application '{}', {}",
            self.pid, self.user, self.application, self.state
        )?;
        if let Some(start) = &self.transaction_start {
            write!(f, ", transaction open since {start}")?;
        }
        write!(f, ") holds {}: {}", self.locks, self.query)
    }
}
