//! The migration lock: a session-level PostgreSQL advisory lock, so that
//! concurrent deploys run one after the other and apply each migration once.
//! The lock belongs to the connection: a run whose process or connection
//! dies releases it with the session.

use super::history_table::database;
use super::HistoryTable;
use crate::{Error, LockHolder};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

impl HistoryTable {
    /// The key of this history table's migration lock (a session-level
    /// advisory lock; the first 8 bytes of the SHA-256 of
    /// `schemactl:<schema>.<table>`): what to look for in `pg_locks`, or to
    /// take with `pg_advisory_lock` to hold deploys back by hand.
    pub fn lock_key(&self) -> i64 {
        MigrationLock::for_history(self).key()
    }
}

/// The advisory lock of one history table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MigrationLock {
    key: i64,
}

impl MigrationLock {
    /// The lock for `history`: runs that record into the same table exclude
    /// each other; runs on other history tables do not.
    pub fn for_history(history: &HistoryTable) -> Self {
        let digest = Sha256::digest(format!("schemactl:{}", history.display()).as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        Self {
            key: i64::from_be_bytes(bytes),
        }
    }

    /// The advisory lock key (the first 8 bytes of the SHA-256 of
    /// `schemactl:<schema>.<table>`), for operators who want to look for it
    /// in `pg_locks`.
    pub fn key(&self) -> i64 {
        self.key
    }

    /// An SQL expression that is 0 while this session holds the lock, and
    /// fails with SQLSTATE 2201F (`sqrt` of a negative number) once the
    /// session lost it (a script's `pg_advisory_unlock_all()` or `DISCARD
    /// ALL`): the end of a `no-transaction` migration carries it. Plain
    /// arithmetic, right in every plan. (It reads `pg_locks`, about 0.1 ms:
    /// transactional migrations use [`Self::transaction_check`] instead.)
    pub(crate) fn held_guard(&self) -> String {
        format!(
            "sqrt((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
             AND pid = pg_backend_pid() AND classid::bigint = {} AND objid::bigint = {}) - 1)::int",
            (self.key >> 32) & 0xffff_ffff,
            self.key & 0xffff_ffff
        )
    }

    /// An expression that takes the lock at transaction level as well, in
    /// the transaction of each migration: no script can release that one,
    /// so the migration stays exclusive to its end even if the script drops
    /// the session lock; and it fails (SQLSTATE 2201F) when another session
    /// holds the lock, i.e. this run lost it to another run. A few µs.
    pub(crate) fn transaction_check(&self) -> String {
        format!("sqrt(pg_try_advisory_xact_lock({})::int - 1)", self.key)
    }

    /// Takes the lock, waiting up to `wait`, and says whether the session
    /// that runs the next statements holds it. Through a transaction pooler
    /// consecutive statements may run in different sessions, where a
    /// session lock does not hold: four statements, one after the other
    /// (never pipelined: a pooler keeps a pipeline in one session), must
    /// all be answered by one session — two before anything is taken, so
    /// that a pooler is mostly found before a session lock could be left
    /// behind in one of its server sessions, the take, and a check that
    /// the lock is held. `false` leaves the lock to be released by the
    /// caller. `on_wait` is told who holds it when it is not free at once.
    pub async fn acquire_and_check(
        &self,
        client: &Client,
        wait: Duration,
        on_wait: &mut (dyn FnMut(&[LockHolder]) + Send),
    ) -> Result<bool, Error> {
        let session = backend_pid(client, "SELECT pg_backend_pid()").await?;
        if backend_pid(client, "SELECT pg_backend_pid()").await? != session {
            return Ok(false);
        }
        let take = format!(
            "SELECT pg_backend_pid() * pg_try_advisory_lock({})::int",
            self.key
        );
        match backend_pid(client, &take).await? {
            0 => self.wait_for(client, wait, on_wait).await?,
            taker if taker != session => return Ok(false),
            _ => {}
        }
        self.held_here(client).await
    }

    /// Waits up to `wait` for a lock another session holds.
    async fn wait_for(
        &self,
        client: &Client,
        wait: Duration,
        on_wait: &mut (dyn FnMut(&[LockHolder]) + Send),
    ) -> Result<(), Error> {
        on_wait(&self.holders(client).await?);
        let millis = wait.as_millis().clamp(1, i32::MAX as u128);
        client
            .batch_execute(&format!("SET lock_timeout = {millis}"))
            .await
            .map_err(|e| database("cannot set lock_timeout", &e))?;
        let waited = client
            .query_typed("SELECT pg_advisory_lock($1)", &[(&self.key, Type::INT8)])
            .await;
        let _ = client.batch_execute("RESET lock_timeout").await;
        match waited {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(Error::LockTimeout {
                waited: wait,
                holders: self.holders(client).await?,
            }),
            Err(e) => Err(database("cannot take the migration lock", &e)),
        }
    }

    /// Whether the session that runs this statement holds the lock (it
    /// does not through a transaction pooler that moved the client).
    pub async fn held_here(&self, client: &Client) -> Result<bool, Error> {
        let class_id = (self.key >> 32) & 0xffff_ffff;
        let object_id = self.key & 0xffff_ffff;
        // Unnamed (query_typed): no separate prepare round trip.
        let rows = client
            .query_typed(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                                AND pid = pg_backend_pid() AND classid::bigint = $1 AND objid::bigint = $2)",
                &[(&class_id, Type::INT8), (&object_id, Type::INT8)],
            )
            .await
            .map_err(|e| database("cannot check the migration lock", &e))?;
        Ok(rows.first().is_some_and(|row| row.get(0)))
    }

    /// Releases the lock; `false` when this session no longer held it.
    pub async fn release(&self, client: &Client) -> Result<bool, Error> {
        client
            .query_typed("SELECT pg_advisory_unlock($1)", &[(&self.key, Type::INT8)])
            .await
            .map(|rows| {
                rows.first()
                    .and_then(|r| r.try_get(0).ok())
                    .unwrap_or(false)
            })
            .map_err(|e| database("cannot release the migration lock", &e))
    }

    /// The sessions holding the lock, from `pg_locks` and `pg_stat_activity`.
    pub async fn holders(&self, client: &Client) -> Result<Vec<LockHolder>, Error> {
        let class_id = (self.key >> 32) & 0xffff_ffff;
        let object_id = self.key & 0xffff_ffff;
        let rows = client
            .query_typed(
                "SELECT a.pid, a.usename::text, a.application_name, host(a.client_addr),
                        to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), a.state
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                   AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[(&class_id, Type::INT8), (&object_id, Type::INT8)],
            )
            .await
            .map_err(|e| database("cannot find who holds the migration lock", &e))?;
        Ok(rows
            .iter()
            .map(|row| LockHolder {
                pid: row.get(0),
                user: row.get(1),
                application: row.get(2),
                client: row.get(3),
                since: row.get(4),
                state: row.get(5),
            })
            .collect())
    }
}

/// The number `sql` (one row, one column) answers: the server process
/// that runs it, or 0.
async fn backend_pid(client: &Client, sql: &str) -> Result<i32, Error> {
    let messages = client
        .simple_query(sql)
        .await
        .map_err(|e| database("cannot take the migration lock", &e))?;
    super::executor::first_value(&messages)
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| Error::Database {
            context: "cannot take the migration lock".into(),
            message: format!("`{sql}` gave no number"),
            sqlstate: None,
        })
}
