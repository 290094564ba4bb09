//! Scripts that change what every database of a server shares (roles and
//! their memberships, tablespaces, databases, server settings): two scratch
//! databases on one server would see each other's changes, so `verify`
//! checks such projects with one worker.

use crate::model::Migration;
use regex::Regex;
use std::sync::LazyLock;

/// `CREATE ROLE`, `ALTER USER`, `DROP TABLESPACE`, `ALTER DATABASE`,
/// `ALTER SYSTEM`, `REASSIGN OWNED`, `COMMENT ON ROLE`, and `GRANT`/`REVOKE`
/// of a role (no `ON`), in plain statements and in `DO` bodies alike. A
/// false match only costs parallelism.
static SHARED_OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b(?:create|alter|drop)\s+(?:role|user|group|tablespace|database)\b
        | \balter\s+system\b
        | \breassign\s+owned\b
        | \b(?:comment|security\s+label)\s+on\s+(?:role|tablespace|database)\b
        | \b(?:grant|revoke)\s+[a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*)*\s+(?:to|from)\b",
    )
    .unwrap_or_else(|error| unreachable!("the pattern is valid: {error}"))
});

/// The first migration whose up or down script changes objects every
/// database of the server shares, if any.
pub(crate) fn first_touching_shared_objects(migrations: &[Migration]) -> Option<&Migration> {
    migrations.iter().find(|migration| {
        SHARED_OBJECT.is_match(&migration.up.sql)
            || migration
                .down
                .as_ref()
                .is_some_and(|down| SHARED_OBJECT.is_match(&down.sql))
    })
}

#[cfg(test)]
mod tests {
    use super::SHARED_OBJECT;

    #[test]
    fn roles_tablespaces_and_memberships_are_shared() {
        for sql in [
            "CREATE ROLE app LOGIN;",
            "create user reporting;",
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'x') THEN\n  CREATE ROLE x; END IF; END $$;",
            "ALTER DATABASE app SET timezone = 'UTC';",
            "DROP TABLESPACE fast;",
            "ALTER SYSTEM SET work_mem = '64MB';",
            "GRANT reader TO app;",
            "revoke admin, writer from app;",
            "COMMENT ON ROLE app IS 'x';",
        ] {
            assert!(SHARED_OBJECT.is_match(sql), "{sql}");
        }
    }

    #[test]
    fn objects_of_one_database_are_not() {
        for sql in [
            "CREATE TABLE users (id int primary key, role text);",
            "GRANT SELECT ON users TO reader;",
            "REVOKE ALL ON SCHEMA public FROM PUBLIC;",
            "ALTER TABLE users ADD COLUMN database_name text;",
            "GRANT USAGE, SELECT ON SEQUENCE s TO app;",
            "CREATE INDEX user_role_idx ON users (role);",
        ] {
            assert!(!SHARED_OBJECT.is_match(sql), "{sql}");
        }
    }
}
