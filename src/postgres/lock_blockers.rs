//! Who holds the locks a migration timed out waiting for. Once
//! `lock_timeout` has fired the migration no longer waits, so
//! `pg_blocking_pids` has nothing to say; what is left is the sessions that
//! hold locks on the tables the failing statement names (or, when none
//! match, on any table of the database), with what they are doing, which is
//! what the person deploying needs to decide whether to end them.

use crate::Error;
use tokio_postgres::Client;

pub use crate::runner::contention::Blocker;

/// The sessions holding locks on the tables `statement` names, else on any
/// table of the database.
pub async fn find(client: &Client, statement: &str) -> Result<Vec<Blocker>, Error> {
    let words: Vec<String> = named_relations(statement).into_iter().collect();
    let named = query(client, Some(&words)).await?;
    if !named.is_empty() {
        return Ok(named);
    }
    query(client, None).await
}

/// The words of `sql` that could be the name of a relation it touches:
/// unquoted identifiers folded to lower case, quoted ones as written (an
/// over-approximation: keywords are words too).
pub fn named_relations(sql: &str) -> std::collections::BTreeSet<String> {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
        .map(|w| {
            if w.starts_with('"') {
                w.trim_matches('"').to_string()
            } else {
                w.to_lowercase()
            }
        })
        .filter(|w| !w.is_empty() && w.len() <= 63)
        .collect()
}

async fn query(client: &Client, names: Option<&[String]>) -> Result<Vec<Blocker>, Error> {
    let filter = if names.is_some() {
        "AND c.relname::text = ANY($1)"
    } else {
        "AND $1::text[] IS NOT NULL"
    };
    let sql = format!(
        "SELECT a.pid, coalesce(a.usename::text, ''), coalesce(a.application_name, ''), coalesce(a.state, ''),
                to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'),
                coalesce(split_part(a.query, E'\\n', 1), ''),
                string_agg(DISTINCT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' (' || l.mode || ')', ', ')
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') {filter}
         GROUP BY 1, 2, 3, 4, 5, 6, a.xact_start
         ORDER BY a.xact_start NULLS LAST, 1"
    );
    let empty = Vec::new();
    let rows = client
        .query_typed(
            &sql,
            &[(
                &names.unwrap_or(&empty),
                tokio_postgres::types::Type::TEXT_ARRAY,
            )],
        )
        .await
        .map_err(|e| {
            super::history_table::database("cannot look for the sessions holding the locks", &e)
        })?;
    Ok(rows
        .iter()
        .map(|row| Blocker {
            pid: row.get(0),
            user: row.get(1),
            application: row.get(2),
            state: row.get(3),
            transaction_start: row.get(4),
            query: {
                // Another session's text may hold secrets (`ALTER ROLE …
                // PASSWORD '…'`): its literals are masked, its shape kept.
                let query = mask_literals(&row.get::<_, String>(5));
                match query.char_indices().nth(120) {
                    Some((cut, _)) => format!("{}…", &query[..cut]),
                    None => query,
                }
            },
            locks: row.get(6),
        })
        .collect())
}

/// `sql` with the content of every string literal (`'…'`, `E'…'`) and
/// dollar-quoted string (`$$…$$`, `$tag$…$tag$`) replaced by `***`; an
/// unterminated one (a query cut short) is masked to its end.
fn mask_literals(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find(['\'', '$']) {
        out.push_str(&rest[..start]);
        let from = &rest[start..];
        if let Some(body) = from.strip_prefix('\'') {
            // A quote ends the literal unless doubled.
            let mut end = None;
            let mut chars = body.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                        chars.next();
                        continue;
                    }
                    end = Some(i);
                    break;
                }
            }
            out.push_str("'***'");
            rest = end.map_or("", |i| &body[i + 1..]);
            continue;
        }
        // `$tag$` opens a dollar-quoted string; a lone `$1` is a parameter.
        let tag_len = from[1..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map(|n| n + 1);
        match tag_len {
            Some(n)
                if from[n..].starts_with('$')
                    && !from[1..n].starts_with(|c: char| c.is_ascii_digit()) =>
            {
                let tag = &from[..=n];
                let body = &from[tag.len()..];
                out.push_str(tag);
                out.push_str("***");
                match body.find(tag) {
                    Some(end) => {
                        out.push_str(tag);
                        rest = &body[end + tag.len()..];
                    }
                    None => rest = "",
                }
            }
            _ => {
                out.push('$');
                rest = &from[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::mask_literals;

    #[test]
    fn literals_are_masked_and_the_shape_kept() {
        assert_eq!(
            mask_literals("ALTER ROLE app PASSWORD 'hunter2'"),
            "ALTER ROLE app PASSWORD '***'"
        );
        assert_eq!(
            mask_literals("SELECT 'it''s', $1, $x$secret$x$ FROM t WHERE a = 'cut sh"),
            "SELECT '***', $1, $x$***$x$ FROM t WHERE a = '***'"
        );
        assert_eq!(mask_literals("SELECT $$a$$"), "SELECT $$***$$");
    }
}
