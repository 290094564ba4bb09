//! The migration lock as a lease row (`--lock-mode table`), for connections
//! where a session advisory lock does not hold: through a transaction-
//! pooling proxy (PgBouncer with `pool_mode = transaction`) consecutive
//! statements may run on different server sessions. One row in
//! `<history>_lock` names the run that holds the lock and until when; a run
//! takes it when it is absent or expired, renews it before each migration
//! and, on a second connection, every third of the lease while it holds it
//! (a [`Heartbeat`]: a migration longer than the lease keeps it), and
//! deletes it at the end. A run that died leaves a row that expires after
//! the lease (`--lock-ttl`), the same design as the MongoDB lock.

use super::history_table::database;
use super::{DatabaseTarget, HistoryTable};
use crate::model::identifier::Identifier;
use crate::{Error, LockHolder};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// The lease of one history table.
pub struct LeaseLock {
    table: String,
    owner: String,
    ttl: Duration,
}

impl LeaseLock {
    /// The lease row of `history`, held for `ttl` at a time.
    pub fn for_history(history: &HistoryTable, ttl: Duration) -> Result<Self, Error> {
        let name = Identifier::parse(&format!("{}_lock", history.table().as_str())).map_err(
            |message| Error::refused(crate::error::refusal::RefusalKind::Other, message),
        )?;
        let owner = format!(
            "{}:{}:{:08x}",
            hostname(),
            std::process::id(),
            rand::random::<u32>()
        );
        Ok(Self {
            table: format!("{}.{}", history.schema().quoted(), name.quoted()),
            owner,
            ttl,
        })
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// Takes the lease, waiting up to `wait` for a live one to end or
    /// expire; `on_wait` is told who holds it.
    pub async fn acquire(
        &self,
        client: &Client,
        wait: Duration,
        on_wait: &mut (dyn FnMut(&[LockHolder]) + Send),
    ) -> Result<(), Error> {
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {} (
                 id integer PRIMARY KEY CHECK (id = 1),
                 owner text NOT NULL,
                 acquired_at timestamptz NOT NULL,
                 expires_at timestamptz NOT NULL)",
            self.table
        );
        match client.batch_execute(&create).await {
            Ok(()) => {}
            // Two runs creating it at once: the other one's table will do.
            Err(e)
                if [
                    SqlState::UNIQUE_VIOLATION,
                    SqlState::DUPLICATE_TABLE,
                    SqlState::DUPLICATE_OBJECT,
                ]
                .iter()
                .any(|code| e.code() == Some(code)) => {}
            Err(e) => {
                return Err(database(
                    &format!("cannot create the lock table {}", self.table),
                    &e,
                ))
            }
        }
        let take = format!(
            "INSERT INTO {t} AS l (id, owner, acquired_at, expires_at)
                 VALUES (1, $1, now(), now() + $2::bigint * interval '1 millisecond')
             ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, acquired_at = now(), expires_at = EXCLUDED.expires_at
                 WHERE coalesce(l.expires_at < now(), true) OR l.owner = EXCLUDED.owner
             RETURNING owner",
            t = self.table
        );
        let started = Instant::now();
        let mut told = false;
        loop {
            let taken = client
                .query_typed(
                    &take,
                    &[(&self.owner, Type::TEXT), (&self.ttl_ms(), Type::INT8)],
                )
                .await
                .map_err(|e| self.take_failed(&e))?;
            if !taken.is_empty() {
                return Ok(());
            }
            let holders = self.holders(client).await?;
            if started.elapsed() >= wait {
                return Err(Error::LockTimeout {
                    waited: wait,
                    holders,
                });
            }
            if !told {
                on_wait(&holders);
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Why the lease could not be taken. A table of that name whose columns
    /// are not the lease's (made by hand or by another program) is named,
    /// with what it needs and the fix.
    fn take_failed(&self, error: &tokio_postgres::Error) -> Error {
        let shape = [
            SqlState::UNDEFINED_FUNCTION,
            SqlState::DATATYPE_MISMATCH,
            SqlState::UNDEFINED_COLUMN,
            SqlState::INVALID_COLUMN_REFERENCE,
            SqlState::CANNOT_COERCE,
        ];
        if !shape.iter().any(|code| error.code() == Some(code)) {
            return database("cannot take the migration lock", error);
        }
        database(
            &format!(
                "cannot take the migration lock: {t} is not schemactl's lease table (it needs `id integer PRIMARY KEY, \
                 owner text, acquired_at timestamptz, expires_at timestamptz`); it was made by hand or by another program. \
                 When no run is migrating, `DROP TABLE {t}` and run again (schemactl creates it)",
                t = self.table
            ),
            error,
        )
    }

    /// Extends the lease by its length from now; fails when another run
    /// took it over (this one's lease had expired).
    pub async fn renew(&self, client: &Client) -> Result<(), Error> {
        let renewed = client
            .query_typed(
                &format!(
                    "UPDATE {} SET expires_at = now() + $2::bigint * interval '1 millisecond' WHERE id = 1 AND owner = $1 RETURNING 1",
                    self.table
                ),
                &[(&self.owner, Type::TEXT), (&self.ttl_ms(), Type::INT8)],
            )
            .await
            .map_err(|e| database("cannot renew the migration lock", &e))?;
        if renewed.is_empty() {
            return Err(Error::refused(crate::error::refusal::RefusalKind::LeaseTakenOver, format!(
                "the migration lock in {} was taken over by another run: this run's lease expired (it could not be renewed during a migration longer than --lock-ttl {} s: \
                 no second connection for the renewals, or it was lost); nothing more was applied by this run. Raise --lock-ttl above the longest migration",
                self.table,
                self.ttl.as_secs()
            )));
        }
        Ok(())
    }

    /// Starts renewing the lease every third of its length on a connection
    /// of its own to `target`, so that it does not expire while a long
    /// migration runs on the run's connection. It stops when dropped, or
    /// once the lease is no longer this run's.
    pub async fn heartbeat(&self, target: &DatabaseTarget) -> Result<Heartbeat, Error> {
        let client = target.connect().await?;
        let renew = format!(
            "UPDATE {} SET expires_at = now() + $2::bigint * interval '1 millisecond' WHERE id = 1 AND owner = $1 RETURNING 1",
            self.table
        );
        let (owner, ttl_ms) = (self.owner.clone(), self.ttl_ms());
        let period = (self.ttl / 3).max(Duration::from_millis(50));
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let renewed = client
                    .query_typed(&renew, &[(&owner, Type::TEXT), (&ttl_ms, Type::INT8)])
                    .await;
                match renewed.map(|rows| rows.len()) {
                    Ok(1) => {}
                    // Not ours any more, or the connection is gone: the
                    // renewal before the next migration says which.
                    _ => break,
                }
            }
        });
        Ok(Heartbeat { task })
    }

    /// Gives the lease up.
    pub async fn release(&self, client: &Client) -> Result<bool, Error> {
        client
            .query_typed(
                &format!(
                    "DELETE FROM {} WHERE id = 1 AND owner = $1 RETURNING 1",
                    self.table
                ),
                &[(&self.owner, Type::TEXT)],
            )
            .await
            .map(|deleted| deleted.len() == 1)
            .map_err(|e| database("cannot release the migration lock", &e))
    }

    /// The run holding the lease, as a lock holder (also one whose lease
    /// ran out, which the next run takes over).
    async fn holders(&self, client: &Client) -> Result<Vec<LockHolder>, Error> {
        self.holders_where(client, "true").await
    }

    /// The run holding a lease that has not run out: a run still going.
    pub(crate) async fn live_holders(&self, client: &Client) -> Result<Vec<LockHolder>, Error> {
        self.holders_where(client, "expires_at > clock_timestamp()")
            .await
    }

    async fn holders_where(
        &self,
        client: &Client,
        condition: &str,
    ) -> Result<Vec<LockHolder>, Error> {
        let rows = client
            .query_typed(
                &format!(
                    "SELECT owner, to_char(acquired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'),
                            'lease until ' || to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')
                     FROM {} WHERE id = 1 AND {condition}",
                    self.table
                ),
                &[],
            )
            .await
            .map_err(|e| database("cannot find who holds the migration lock", &e))?;
        Ok(rows
            .iter()
            .map(|row| {
                // A table made by hand may hold NULLs or other types: what
                // cannot be read is shown as such, never a panic.
                let text = |i: usize| row.try_get::<_, Option<String>>(i).ok().flatten();
                let owner = text(0).unwrap_or_else(|| "(no owner recorded)".to_string());
                let pid = owner
                    .split(':')
                    .nth(1)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                LockHolder {
                    pid,
                    user: None,
                    application: Some(format!("schemactl run {owner}")),
                    client: owner.split(':').next().map(str::to_string),
                    since: text(1),
                    state: text(2),
                }
            })
            .collect())
    }
}

/// The task renewing a lease while its run holds it; dropping it stops it.
pub struct Heartbeat {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// This machine's name, for the lease's owner.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
