//! The server session that started a `no-transaction` script: its
//! `started` event names it (process id and start time, written by the
//! server itself: `history_table`'s `SESSION_DETAIL`), so that a row left
//! unfinished is judged by whether that session still exists, not by what
//! the row says.

use super::history_table::database;
use crate::model::history::HistoryTable;
use crate::model::Version;
use crate::{Error, LockHolder};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// What the history says of the session that started a script.
pub(crate) enum StartedSession {
    /// The latest `started` event of the version does not name its session
    /// (written by an older schemactl), or there is none.
    Unnamed,
    /// The session is gone.
    Gone,
    /// The session still exists.
    Alive(LockHolder),
}

impl HistoryTable {
    /// The session that started `version`'s latest `no-transaction` script,
    /// as `pg_stat_activity` sees it now.
    pub(crate) async fn started_session(
        &self,
        client: &Client,
        version: &Version,
    ) -> Result<StartedSession, Error> {
        let sql = format!(
            "WITH started AS (
                 SELECT regexp_match(detail, 'session (\\d+) since (\\d+)$') AS session
                 FROM {events} WHERE event = 'started' AND version = $1 ORDER BY id DESC LIMIT 1)
             SELECT s.session IS NOT NULL, a.pid, a.usename::text, a.application_name, host(a.client_addr),
                    to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), a.state,
                    a.backend_start IS NULL
                      OR (extract(epoch FROM a.backend_start) * 1000000)::bigint = s.session[2]::bigint
             FROM started s LEFT JOIN pg_stat_activity a ON a.pid = s.session[1]::int",
            events = self.qualified_events()
        );
        let rows = client
            .query_typed(&sql, &[(&version.to_string(), Type::TEXT)])
            .await
            .map_err(|e| database("cannot find the session that started the migration", &e))?;
        let Some(row) = rows.first() else {
            return Ok(StartedSession::Unnamed);
        };
        if !row.get::<_, bool>(0) {
            return Ok(StartedSession::Unnamed);
        }
        let Some(pid) = row.get::<_, Option<i32>>(1) else {
            return Ok(StartedSession::Gone);
        };
        // Another role's session shows its pid but not its start (without
        // pg_read_all_stats): it cannot be told from a reuse of the pid, so
        // it counts as the run's, still going. A known other start: reused.
        if !row.get::<_, Option<bool>>(7).unwrap_or(true) {
            return Ok(StartedSession::Gone);
        }
        Ok(StartedSession::Alive(LockHolder {
            pid,
            user: row.get(2),
            application: row.get(3),
            client: row.get(4),
            since: row.get(5),
            state: row.get(6),
        }))
    }
}
