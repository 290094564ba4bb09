//! Reading a snapshot from the system catalogs. Every object kind is one
//! query, and the queries are pipelined on one connection, so a snapshot
//! costs about one round trip plus the server's work (no `pg_dump` process).
//!
//! Left out: system schemas, objects that belong to extensions (the
//! extension itself is listed), and schemactl's own history tables.

use super::scope::{not_extension_member, USER_NAMESPACE};
use super::{SchemaObject, Snapshot};
use crate::postgres::describe;
use crate::Error;
use tokio_postgres::Client;

/// Reads the schema of the database `client` is connected to, leaving out
/// the tables named in `excluded` (schema-qualified, e.g. `public.schema_versions`).
pub async fn snapshot(client: &Client, excluded: &[String]) -> Result<Snapshot, Error> {
    Reader::prepare(client, excluded).await?.read(client).await
}

/// The snapshot queries prepared on one connection: planning them costs
/// more than running them (they are wide unions over the catalogs), so a
/// connection that reads many snapshots (`verify`: three per migration)
/// plans them once.
pub struct Reader {
    statements: Vec<(String, tokio_postgres::Statement)>,
}

/// The snapshot of one schema only (a tenant's, in schema-per-tenant
/// fleets): the catalog queries are restricted to it, so a database of a
/// thousand tenant schemas is not read whole for each one, and objects
/// outside it (extensions, other schemas) are left out. It sets the
/// session's `search_path` to `pg_catalog` first: definitions then name
/// every table with its schema, whatever path the connection had (a
/// tenant's connection has its schema first), so two sides compare alike.
pub async fn schema_snapshot(
    client: &Client,
    excluded: &[String],
    schema: &crate::model::identifier::Identifier,
) -> Result<Snapshot, Error> {
    client
        .batch_execute("SET search_path TO pg_catalog")
        .await
        .map_err(|e| Error::Database {
            context: "cannot set the search_path to read the schema".into(),
            message: crate::postgres::describe(&e),
            sqlstate: e.code().map(|c| c.code().to_string()),
        })?;
    let only = format!("n.nspname = '{}'", schema.as_str().replace('\'', "''"));
    let queries = queries(excluded)
        .into_iter()
        .map(|sql| sql.replace(USER_NAMESPACE, &only))
        .collect();
    let snapshot = Reader::prepare_queries(client, queries)
        .await?
        .read(client)
        .await?;
    Ok(snapshot.in_schema(schema.as_str()))
}

/// Turns JIT compilation off for the session (every server the queries
/// can read has `jit`: they need PostgreSQL 12's `attgenerated`).
const NO_JIT: &str = "SET jit = off";

impl Reader {
    /// Prepares the queries on `client`, leaving out the tables in `excluded`.
    pub async fn prepare(client: &Client, excluded: &[String]) -> Result<Self, Error> {
        Self::prepare_queries(client, queries(excluded)).await
    }

    async fn prepare_queries(client: &Client, queries: Vec<String>) -> Result<Self, Error> {
        let prepared =
            futures_util::future::join_all(queries.iter().map(|sql| client.prepare(sql))).await;
        let mut statements = Vec::with_capacity(queries.len());
        for (sql, result) in queries.into_iter().zip(prepared) {
            let statement = result.map_err(|e| unreadable(&sql, &e))?;
            statements.push((sql, statement));
        }
        Ok(Self { statements })
    }

    /// Reads the snapshot (on the connection the queries were prepared on).
    /// JIT compilation is turned off for the session first: the catalog
    /// views' row estimates cross its cost threshold, and compiling takes
    /// a query that reads a handful of rows from 1 ms to 200 (the next
    /// migration's `RESET ALL` gives its session the server's setting).
    pub async fn read(&self, client: &Client) -> Result<Snapshot, Error> {
        // Sent together: the setting goes first on the connection, so the
        // queries run without JIT, and no round trip waits for it alone.
        let (jit_off, results) = tokio::join!(
            client.batch_execute(NO_JIT),
            futures_util::future::join_all(
                self.statements
                    .iter()
                    .map(|(_, statement)| client.query(statement, &[])),
            )
        );
        jit_off.map_err(|e| unreadable(NO_JIT, &e))?;
        let mut rows = Vec::new();
        for ((sql, _), result) in self.statements.iter().zip(results) {
            rows.extend(result.map_err(|e| unreadable(sql, &e))?);
        }
        Ok(assemble(rows))
    }
}

fn unreadable(sql: &str, error: &tokio_postgres::Error) -> Error {
    Error::Database {
        context: format!(
            "cannot read the schema ({})",
            sql.split_whitespace().take(6).collect::<Vec<_>>().join(" ")
        ),
        message: describe(error),
        sqlstate: error.code().map(|c| c.code().to_string()),
    }
}

/// The snapshot queries, each giving rows of (kind, name, definition).
fn queries(excluded: &[String]) -> Vec<String> {
    let excluded_sql = excluded
        .iter()
        .map(|name| format!("'{}'", name.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let excluded_sql = if excluded_sql.is_empty() {
        "''".to_string()
    } else {
        excluded_sql
    };
    let mut all = types_and_sequences(&excluded_sql);
    all.extend(tables(&excluded_sql));
    all.extend(other_objects(&excluded_sql));
    all
}

/// Schemas, extensions, types, domains and sequences.
fn types_and_sequences(excluded_sql: &str) -> Vec<String> {
    let not_excluded = |alias: &str| {
        format!("(quote_ident(n.nspname) || '.' || quote_ident({alias}.relname)) NOT IN ({excluded_sql}) AND (n.nspname || '.' || {alias}.relname) NOT IN ({excluded_sql})")
    };
    vec![
        // schemas
        format!("SELECT 'schema', quote_ident(n.nspname), '' FROM pg_namespace n WHERE {USER_NAMESPACE} AND {}", not_extension_member("pg_namespace", "n.oid")),
        // extensions
        "SELECT 'extension', quote_ident(e.extname), 'schema ' || quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'".to_string(),
        // enums, composite types, ranges
        format!(
            "SELECT 'type', quote_ident(n.nspname) || '.' || quote_ident(t.typname),
                    CASE t.typtype
                      WHEN 'e' THEN 'enum (' || labels.list || ')'
                      WHEN 'c' THEN 'composite (' || (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) || ')'
                      WHEN 'r' THEN 'range of ' || format_type((SELECT rngsubtype FROM pg_range WHERE rngtypid = t.oid), NULL)
                    END
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             -- The labels of the schemas' enums in one pass: a lookup per enum
             -- scanned all of pg_enum each time.
             LEFT JOIN (SELECT e.enumtypid, string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) AS list
                        FROM pg_enum e JOIN pg_type et ON et.oid = e.enumtypid JOIN pg_namespace n ON n.oid = et.typnamespace
                        WHERE {USER_NAMESPACE} GROUP BY e.enumtypid) labels ON labels.enumtypid = t.oid
             WHERE {USER_NAMESPACE} AND t.typtype IN ('e', 'c', 'r') AND {}
               AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')",
            not_extension_member("pg_type", "t.oid")
        ),
        // domains
        format!(
            "SELECT 'domain', quote_ident(n.nspname) || '.' || quote_ident(t.typname),
                    'type ' || format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                    || coalesce(' default ' || t.typdefault, '')
                    || coalesce((SELECT string_agg(' ' || pg_get_constraintdef(c.oid), '' ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype <> 'n'), '')
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_NAMESPACE} AND t.typtype = 'd' AND {}",
            not_extension_member("pg_type", "t.oid")
        ),
        // sequences not behind identity columns
        format!(
            "SELECT 'sequence', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                    format('type %s start %s increment %s min %s max %s cache %s%s%s', format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                           CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END,
                           coalesce((SELECT ' owned by ' || quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(a.attname)
                                     FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                                     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
                                     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' LIMIT 1), ''))
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
             WHERE {USER_NAMESPACE} AND c.relkind = 'S' AND {}
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace n ON n.oid = t.relnamespace
                               WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') AND NOT ({}))",
            not_extension_member("pg_class", "c.oid"),
            not_excluded("t")
        ),
    ]
}

/// Tables: columns, properties, constraints, indexes, views.
fn tables(excluded_sql: &str) -> Vec<String> {
    let not_excluded = |alias: &str| {
        format!("(quote_ident(n.nspname) || '.' || quote_ident({alias}.relname)) NOT IN ({excluded_sql}) AND (n.nspname || '.' || {alias}.relname) NOT IN ({excluded_sql})")
    };
    vec![
        // table columns, one row per column (kind 'column' is folded into its table below)
        format!(
            "SELECT 'column', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                    a.attnum::text || ' ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                    || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                    || CASE a.attidentity WHEN 'a' THEN ' generated always as identity' WHEN 'd' THEN ' generated by default as identity' ELSE '' END
                    || CASE WHEN a.attgenerated = 's' THEN ' generated always as (' || pg_get_expr(ad.adbin, ad.adrelid) || ') stored'
                            WHEN ad.adbin IS NOT NULL THEN ' default ' || pg_get_expr(ad.adbin, ad.adrelid) ELSE '' END
                    || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN ' collate ' || (SELECT quote_ident(collname) FROM pg_collation WHERE oid = a.attcollation) ELSE '' END
                    || CASE WHEN a.attstorage <> t.typstorage THEN ' storage ' || CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external' WHEN 'm' THEN 'main' ELSE 'extended' END ELSE '' END
                    || CASE a.attcompression WHEN 'p' THEN ' compression pglz' WHEN 'l' THEN ' compression lz4' ELSE '' END
                    || CASE WHEN coalesce(a.attstattarget, -1) >= 0 THEN ' statistics ' || a.attstattarget ELSE '' END
                    || coalesce(identity_sequence.options, '')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
             -- Identity sequences with other than the default options, found in one
             -- pass: a lookup per identity column scanned pg_sequence each time.
             LEFT JOIN (SELECT d.refobjid, d.refobjsubid,
                               format(' (sequence start %s increment %s min %s max %s cache %s%s)', s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END) AS options
                        FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
                        -- (an identity sequence is in its table's schema)
                        JOIN pg_class sc ON sc.oid = s.seqrelid JOIN pg_namespace n ON n.oid = sc.relnamespace
                        WHERE {USER_NAMESPACE} AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i'
                          AND NOT (s.seqstart = 1 AND s.seqincrement = 1 AND s.seqmin = 1 AND s.seqcache = 1 AND NOT s.seqcycle
                                   AND s.seqmax IN (32767, 2147483647, 9223372036854775807))) identity_sequence
               ON a.attidentity <> '' AND identity_sequence.refobjid = c.oid AND identity_sequence.refobjsubid = a.attnum
             WHERE {USER_NAMESPACE} AND c.relkind IN ('r', 'p', 'f') AND {} AND {}",
            not_extension_member("pg_class", "c.oid"),
            not_excluded("c")
        ),
        // table properties: partitioning, persistence, row level security
        format!(
            "SELECT 'table', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                    concat_ws(E'\\n',
                      CASE WHEN c.relkind = 'p' THEN 'partition by ' || pg_get_partkeydef(c.oid) END,
                      CASE WHEN c.relispartition THEN 'partition of ' || (SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) || ' ' || pg_get_expr(c.relpartbound, c.oid) END,
                      CASE WHEN c.relpersistence = 'u' THEN 'unlogged' END,
                      CASE WHEN c.relkind = 'f' THEN 'foreign table' END,
                      CASE WHEN c.relrowsecurity THEN 'row level security enabled' END,
                      CASE WHEN c.relforcerowsecurity THEN 'row level security forced' END,
                      (SELECT 'with (' || string_agg(o, ', ' ORDER BY o) || ')' FROM unnest(c.reloptions) o),
                      (SELECT 'toast with (' || string_agg(o, ', ' ORDER BY o) || ')' FROM pg_class tc, unnest(tc.reloptions) o WHERE tc.oid = c.reltoastrelid),
                      CASE c.relreplident WHEN 'n' THEN 'replica identity nothing' WHEN 'f' THEN 'replica identity full'
                        WHEN 'i' THEN 'replica identity using index ' || (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident) END,
                      (SELECT 'cluster on ' || quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisclustered))
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE} AND c.relkind IN ('r', 'p', 'f') AND {} AND {}",
            not_extension_member("pg_class", "c.oid"),
            not_excluded("c")
        ),
        // constraints of tables (with ON DELETE/UPDATE, deferrability, NOT VALID)
        format!(
            "SELECT 'constraint', quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(k.conname),
                    pg_get_constraintdef(k.oid) || CASE WHEN k.contype = 'f' AND NOT k.convalidated AND pg_get_constraintdef(k.oid) NOT LIKE '%NOT VALID' THEN ' NOT VALID' ELSE '' END
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE} AND {} AND {}
               -- PostgreSQL 18 lists NOT NULL as constraints: the column says it, unless it is special
               AND (k.contype <> 'n' OR NOT k.convalidated OR k.connoinherit)",
            not_extension_member("pg_class", "c.oid"),
            not_excluded("c")
        ),
        // indexes that do not back a constraint
        format!(
            "SELECT 'index', quote_ident(n.nspname) || '.' || quote_ident(ic.relname),
                    pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' -- INVALID: a failed CREATE INDEX CONCURRENTLY' END
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE} AND {} AND {}
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))",
            not_extension_member("pg_class", "c.oid"),
            not_excluded("c")
        ),
        // views and materialized views
        format!(
            "SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                    concat_ws(E'\n', (SELECT 'with (' || string_agg(o, ', ' ORDER BY o) || ')' FROM unnest(c.reloptions) o), pg_get_viewdef(c.oid, true))
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE} AND c.relkind IN ('v', 'm') AND {}",
            not_extension_member("pg_class", "c.oid")
        ),
    ]
}

/// Routines, triggers, policies, statistics, rules, collations,
/// publications, event triggers, owners, privileges and comments.
fn other_objects(excluded_sql: &str) -> Vec<String> {
    let not_excluded = |alias: &str| {
        format!("(quote_ident(n.nspname) || '.' || quote_ident({alias}.relname)) NOT IN ({excluded_sql}) AND (n.nspname || '.' || {alias}.relname) NOT IN ({excluded_sql})")
    };
    vec![
        // functions and procedures (aggregates by signature only)
        format!(
            "SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
                    quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                    CASE WHEN p.prokind = 'a' THEN 'returns ' || format_type(p.prorettype, NULL) ELSE pg_get_functiondef(p.oid) END
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_NAMESPACE} AND {}",
            not_extension_member("pg_proc", "p.oid")
        ),
        // triggers
        format!(
            "SELECT 'trigger', quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(t.tgname),
                    pg_get_triggerdef(t.oid, true) || CASE t.tgenabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (enabled replica)' WHEN 'A' THEN ' (enabled always)' ELSE '' END
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT t.tgisinternal AND {USER_NAMESPACE} AND {}",
            not_excluded("c")
        ),
        // row level security policies
        format!(
            "SELECT 'policy', quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(p.polname),
                    concat_ws(' ', CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END,
                              'for ' || CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END,
                              'to ' || (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END, ', ' ORDER BY 1) FROM unnest(p.polroles) r),
                              'using (' || pg_get_expr(p.polqual, p.polrelid) || ')',
                              'with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
             FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE}"
        ),
        // extended statistics
        format!(
            "SELECT 'statistics', quote_ident(n.nspname) || '.' || quote_ident(s.stxname),
                    pg_get_statisticsobjdef(s.oid) || CASE WHEN coalesce(s.stxstattarget, -1) >= 0 THEN E'\\nstatistics ' || s.stxstattarget ELSE '' END
             FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace JOIN pg_class c ON c.oid = s.stxrelid
             WHERE {USER_NAMESPACE} AND {}",
            not_excluded("c")
        ),
        // rules (a view's own _RETURN rule is the view)
        format!(
            "SELECT 'rule', quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(r.rulename),
                    pg_get_ruledef(r.oid, true) || CASE r.ev_enabled WHEN 'D' THEN E'\\n(disabled)' WHEN 'R' THEN E'\\n(enabled replica)' WHEN 'A' THEN E'\\n(enabled always)' ELSE '' END
             FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE r.rulename <> '_RETURN' AND {USER_NAMESPACE} AND {} AND {}",
            not_extension_member("pg_class", "c.oid"),
            not_excluded("c")
        ),
        // collations (the locale column moved between versions: read it by name)
        format!(
            "SELECT 'collation', quote_ident(n.nspname) || '.' || quote_ident(co.collname),
                    concat_ws(' ', 'provider ' || CASE co.collprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'default' END,
                              'locale ' || quote_literal(coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> 'colliculocale', co.collcollate)),
                              CASE WHEN co.collcollate IS DISTINCT FROM co.collctype THEN 'lc_ctype ' || quote_literal(co.collctype) END,
                              CASE WHEN NOT co.collisdeterministic THEN 'nondeterministic' END,
                              'rules ' || quote_literal(to_jsonb(co) ->> 'collicurules'))
             FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
             WHERE {USER_NAMESPACE} AND {}",
            not_extension_member("pg_collation", "co.oid")
        ),
        // publications (the row filter exists from PostgreSQL 15 on: read it by name)
        format!(
            "SELECT 'publication', quote_ident(p.pubname),
                    concat_ws(E'\\n',
                      CASE WHEN p.puballtables THEN 'for all tables' END,
                      'publish ' || concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                                              CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END),
                      CASE WHEN p.pubviaroot THEN 'publish via partition root' END,
                      -- Only when the tables are listed: the view would list every
                      -- table for a publication FOR ALL TABLES (CASE skips it).
                      CASE WHEN NOT p.puballtables THEN
                      (SELECT string_agg('table ' || quote_ident(t.schemaname) || '.' || quote_ident(t.tablename)
                                         || coalesce(' where ' || (to_jsonb(t) ->> 'rowfilter'), ''), E'\\n' ORDER BY t.schemaname, t.tablename)
                       FROM pg_publication_tables t
                       WHERE t.pubname = p.pubname
                         AND (quote_ident(t.schemaname) || '.' || quote_ident(t.tablename)) NOT IN ({excluded_sql})
                         AND (t.schemaname || '.' || t.tablename) NOT IN ({excluded_sql})) END)
             FROM pg_publication p"
        ),
        // event triggers
        format!(
            "SELECT 'event trigger', quote_ident(e.evtname),
                    concat_ws(' ', 'on ' || e.evtevent,
                              'when tag in (' || array_to_string(e.evttags, ', ') || ')',
                              'execute function ' || e.evtfoid::regprocedure::text,
                              CASE e.evtenabled WHEN 'D' THEN '(disabled)' WHEN 'R' THEN '(enabled replica)' WHEN 'A' THEN '(enabled always)' END)
             FROM pg_event_trigger e WHERE {}",
            not_extension_member("pg_event_trigger", "e.oid")
        ),
        super::access::owners(USER_NAMESPACE, &not_excluded("c")),
        super::access::privileges(USER_NAMESPACE, &not_excluded("c")),
        super::access::default_privileges(),
        // comments on anything the migrations created (OIDs from 16384 on are user objects)
        format!(
            "SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
             FROM pg_description d
             WHERE d.objoid >= 16384
               AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classoid AND e.objid = d.objoid AND e.deptype = 'e')
               AND NOT (d.classoid = 'pg_class'::regclass AND d.objoid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT ({})))",
            not_excluded("c")
        ),
    ]
}

/// The snapshot from the queries' rows: columns folded into their tables.
fn assemble(rows: Vec<tokio_postgres::Row>) -> Snapshot {
    let mut snapshot = Snapshot::default();
    let mut columns: std::collections::BTreeMap<String, Vec<(i32, String)>> = Default::default();
    for row in &rows {
        let text = |i: usize| {
            row.try_get::<_, Option<&str>>(i)
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let (kind, name, definition) = (text(0), text(1), text(2));
        if kind == "column" {
            let (number, column) = definition.split_once(' ').unwrap_or(("0", definition));
            columns
                .entry(name.to_string())
                .or_default()
                .push((number.parse().unwrap_or(0), column.to_string()));
            continue;
        }
        let lines: Vec<String> = definition
            .lines()
            .map(|l| l.trim_end().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        snapshot.objects.push(SchemaObject {
            kind: kind.to_string(),
            name: name.to_string(),
            lines,
            column_order: Vec::new(),
        });
    }
    for table in snapshot.objects.iter_mut().filter(|o| o.kind == "table") {
        let mut table_columns = columns.remove(&table.name).unwrap_or_default();
        table_columns.sort_by_key(|(number, _)| *number);
        table.column_order = table_columns
            .iter()
            .map(|(_, c)| c.split(' ').next().unwrap_or_default().to_string())
            .collect();
        let mut column_lines: Vec<String> = table_columns
            .into_iter()
            .map(|(_, c)| format!("column {c}"))
            .collect();
        column_lines.sort();
        column_lines.append(&mut table.lines);
        table.lines = column_lines;
    }
    snapshot.normalise()
}
