//! Emptying a scratch database in place instead of dropping it and
//! creating another (`CREATE DATABASE` copies the whole template and is
//! the slowest statement `verify` sends): drop what the migrations made,
//! give the `public` schema back, and then ask the catalogs whether the
//! database is now what `CREATE DATABASE` made. When it is not (an object
//! kind the reset does not drop, a changed privilege on a built-in object,
//! a database setting), the caller creates a new database as before.

use super::history_table::database;
use crate::Error;
use tokio_postgres::Client;

/// What a database fresh from `template0` looks like: a signature of its
/// catalogs, and how to give its `public` schema back. The queries rely on
/// one fact of PostgreSQL: what `initdb` made has OIDs below 16384
/// (`FirstNormalObjectId`), everything made later has one at or above it.
#[derive(Debug, Clone)]
pub struct FreshState {
    /// The query that reads the signature (its text depends on the
    /// server's catalogs, so it is built once from them).
    signature_query: String,
    signature: String,
    /// `ALTER SCHEMA public OWNER …; GRANT …; COMMENT …` as the template had it.
    public_schema: String,
}

/// Builds the part of the signature that covers every per-database
/// catalog with OIDs: how many built-in rows it has, how many rows were
/// made later, and the privileges of the built-in ones.
const CATALOG_SIGNATURE_QUERY: &str = r#"
SELECT string_agg(format(
    'SELECT %L || '':'' || count(*) FILTER (WHERE oid < 16384) || '':'' || count(*) FILTER (WHERE oid >= 16384) || '':'' || coalesce(md5(string_agg(oid::text || %s, '','' ORDER BY oid) FILTER (WHERE oid < 16384)), '''') FROM %s%s',
    c.relname,
    coalesce((SELECT string_agg(format('coalesce(%I::text, ''-'')', a.attname), ' || ')
              FROM pg_attribute a WHERE a.attrelid = c.oid AND a.atttypid = 'aclitem[]'::regtype), '''-'''),
    c.oid::regclass,
    CASE c.relname WHEN 'pg_namespace'
        THEN ' WHERE nspname NOT LIKE ''pg\_%temp\_%'''
        ELSE '' END),
    ' UNION ALL ' ORDER BY c.relname)
FROM pg_class c
WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r' AND NOT c.relisshared
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'oid')
"#;

/// The rest of the signature: the `public` schema, the database's own
/// settings, comments on built-in objects, recorded initial privileges.
const DATABASE_SIGNATURE: &str = r#"
SELECT 'public:' || coalesce((SELECT oid || '/' || nspowner::regrole::text || '/' || coalesce(nspacl::text, '-') || '/' || coalesce(obj_description(oid, 'pg_namespace'), '-') FROM pg_namespace WHERE nspname = 'public'), 'missing')
UNION ALL SELECT 'database:' || datdba::regrole::text || '/' || coalesce(datacl::text, '-') || '/' || coalesce(shobj_description(oid, 'pg_database'), '-') FROM pg_database WHERE datname = current_database()
UNION ALL SELECT 'settings:' || count(*) || ':' || coalesce(string_agg(setrole::text || '=' || setconfig::text, ',' ORDER BY setrole), '') FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
UNION ALL SELECT 'comments:' || count(*) || ':' || coalesce(md5(string_agg(classoid || '/' || objoid || '/' || objsubid || '/' || description, ',' ORDER BY classoid, objoid, objsubid)), '') FROM pg_description WHERE objoid < 16384
UNION ALL SELECT 'initial-privileges:' || count(*) FROM pg_init_privs
"#;

/// What the reset drops, in this order: event triggers first (they would
/// fire on the drops), then extensions, foreign-data wrappers and
/// publications, every schema but the built-in ones and `public`, what is
/// in `public` (which keeps its identity: a schema made again would read
/// differently to the snapshot), large objects; and every privilege on
/// `public`, which `PUBLIC_SCHEMA` then gives back as the template had them.
const DROPS: &str = r#"
SELECT stmt FROM (
  SELECT 1 AS step, format('DROP EVENT TRIGGER %I', evtname) AS stmt FROM pg_event_trigger
  UNION ALL SELECT 2, format('DROP EXTENSION IF EXISTS %I CASCADE', extname) FROM pg_extension WHERE oid >= 16384
  UNION ALL SELECT 3, format('DROP FOREIGN DATA WRAPPER IF EXISTS %I CASCADE', fdwname) FROM pg_foreign_data_wrapper
  UNION ALL SELECT 4, format('DROP PUBLICATION %I', pubname) FROM pg_publication
  UNION ALL SELECT 5, format('DROP SCHEMA %I CASCADE', nspname) FROM pg_namespace
      WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'public') AND nspname NOT LIKE 'pg\_%temp\_%'
  UNION ALL SELECT 6, format('DROP %s IF EXISTS public.%I CASCADE',
          CASE relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                       WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, relname)
      FROM pg_class c WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        -- identity sequences go with their column
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
  UNION ALL SELECT 7, format('DROP %s IF EXISTS public.%I(%s) CASCADE',
          CASE prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
          proname, pg_get_function_identity_arguments(oid))
      FROM pg_proc WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT 8, format('DROP %s IF EXISTS public.%I CASCADE', CASE typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, typname)
      FROM pg_type t WHERE typnamespace = 'public'::regnamespace AND typtype IN ('b', 'c', 'd', 'e', 'r', 'p')
        AND (typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = typrelid) = 'c')
        AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
  UNION ALL SELECT 9, format('DROP COLLATION IF EXISTS public.%I CASCADE', collname) FROM pg_collation WHERE collnamespace = 'public'::regnamespace
  UNION ALL SELECT 10, format('DROP TEXT SEARCH CONFIGURATION IF EXISTS public.%I CASCADE', cfgname) FROM pg_ts_config WHERE cfgnamespace = 'public'::regnamespace
  UNION ALL SELECT 11, format('DROP TEXT SEARCH DICTIONARY IF EXISTS public.%I CASCADE', dictname) FROM pg_ts_dict WHERE dictnamespace = 'public'::regnamespace
  UNION ALL SELECT 12, format('SELECT lo_unlink(%s)', oid) FROM pg_largeobject_metadata
  UNION ALL SELECT 13, format('REVOKE ALL ON SCHEMA public FROM %s CASCADE', CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END)
      FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public' AND a.grantee <> n.nspowner
) drops ORDER BY step
"#;

/// How the template's `public` schema is given back: its owner, its
/// privileges as granted by that owner, its comment.
const PUBLIC_SCHEMA: &str = r#"
SELECT format('ALTER SCHEMA public OWNER TO %I;', n.nspowner::regrole::text)
    || coalesce((SELECT string_agg(format(' GRANT %s ON SCHEMA public TO %s%s;', a.privilege_type,
                        CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END,
                        CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '')
                 FROM aclexplode(n.nspacl) a WHERE a.grantee <> n.nspowner), '')
    || format(' COMMENT ON SCHEMA public IS %L;', obj_description(n.oid, 'pg_namespace'))
FROM pg_namespace n WHERE n.nspname = 'public'
"#;

impl FreshState {
    /// Reads it from a database just created from `template0`, before
    /// anything was made in it.
    pub async fn read(client: &Client) -> Result<Self, Error> {
        let failed =
            |e: &tokio_postgres::Error| database("cannot read the scratch database's catalogs", e);
        let catalogs: String = client
            .query_one(CATALOG_SIGNATURE_QUERY, &[])
            .await
            .map_err(|e| failed(&e))?
            .get(0);
        let signature_query = format!("{catalogs} UNION ALL {DATABASE_SIGNATURE}");
        let signature = signature(client, &signature_query).await?;
        let public_schema = client
            .query_opt(PUBLIC_SCHEMA, &[])
            .await
            .map_err(|e| failed(&e))?
            .map(|row| row.get(0))
            .unwrap_or_default();
        Ok(Self {
            signature_query,
            signature,
            public_schema,
        })
    }
}

async fn signature(client: &Client, query: &str) -> Result<String, Error> {
    let rows = client
        .simple_query(query)
        .await
        .map_err(|e| database("cannot read the scratch database's catalogs", &e))?;
    Ok(rows
        .iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Empties the database `client` is connected to and tells whether it is
/// now as `fresh` was (`Ok(false)`: the caller must create a new one).
/// The session's own temporary objects and settings go too.
pub async fn empty_in_place(client: &Client, fresh: &FreshState) -> Result<bool, Error> {
    if fresh.public_schema.is_empty() {
        // The template had no `public` schema to give back.
        return Ok(false);
    }
    let failed = |e: &tokio_postgres::Error| database("cannot empty the scratch database", e);
    client
        .batch_execute("DISCARD TEMP; SET SESSION AUTHORIZATION DEFAULT; RESET ALL")
        .await
        .map_err(|e| failed(&e))?;
    let drops: Vec<String> = client
        .query(DROPS, &[])
        .await
        .map_err(|e| failed(&e))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let script = format!(
        "BEGIN; {} {} COMMIT",
        drops.iter().map(|d| format!("{d};")).collect::<String>(),
        fresh.public_schema
    );
    if client.batch_execute(&script).await.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
        return Ok(false);
    }
    Ok(signature(client, &fresh.signature_query).await? == fresh.signature)
}
