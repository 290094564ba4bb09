//! Ownership and privileges as snapshot objects of their own kinds
//! (`owner`, `privileges`, `default privileges`), so that a team that does
//! not manage them in migrations can leave them out (`--ignore ownership`,
//! `--ignore privileges`) without touching the objects they belong to.
//!
//! Both are written relative to what PostgreSQL would have anyway, so that
//! a snapshot does not list what every database has:
//! - an owner is listed only when it is not the role reading the snapshot
//!   (the one that ran the migrations, on a scratch database);
//! - privileges are listed as the grants beyond an object's default
//!   privileges and the revokes of default ones, so that a `GRANT` undone by
//!   its `REVOKE` reads the same as never granted (PostgreSQL keeps the
//!   owner's entries explicit from the first grant on).

/// The roles reading as `public` in an ACL.
const GRANTEE: &str =
    "CASE g.grantee WHEN 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(g.grantee)) END";

/// The lines of an ACL beyond its default: `grant SELECT to reader`,
/// `revoke EXECUTE from public`; NULL when there are none. `acl` is the
/// ACL column (NULL: the default), `default` the default's expression.
fn acl_lines(acl: &str, default: &str) -> String {
    let actual = format!("aclexplode(coalesce({acl}, {default}))");
    let default = format!("aclexplode({default})");
    format!(
        "(SELECT string_agg(line, E'\\n' ORDER BY line) FROM (
            SELECT 'grant ' || g.privilege_type || ' to ' || {GRANTEE} || CASE WHEN g.is_grantable THEN ' with grant option' ELSE '' END AS line
            FROM (SELECT grantee, privilege_type, is_grantable FROM {actual} EXCEPT SELECT grantee, privilege_type, is_grantable FROM {default}) g
            UNION ALL
            SELECT 'revoke ' || g.privilege_type || ' from ' || {GRANTEE} || CASE WHEN g.is_grantable THEN ' (grant option)' ELSE '' END
            FROM (SELECT grantee, privilege_type, is_grantable FROM {default} EXCEPT SELECT grantee, privilege_type, is_grantable FROM {actual}) g
         ) lines)"
    )
}

/// The name of a relation `c` in namespace `n`: `table public.orders`.
const RELATION: &str = "CASE c.relkind WHEN 'f' THEN 'foreign table ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence ' ELSE 'table ' END || quote_ident(n.nspname) || '.' || quote_ident(c.relname)";

/// The name of a function or procedure `p` in namespace `n`.
const ROUTINE: &str = "CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'";

/// The name of a type `t` in namespace `n`.
const TYPE: &str = "CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'type ' END || quote_ident(n.nspname) || '.' || quote_ident(t.typname)";

/// The role reading the snapshot.
const READER: &str = "(SELECT oid FROM pg_roles WHERE rolname = current_user)";

/// Owners that are not the reader, of relations, functions, schemas,
/// types, collations, extended statistics, publications and event triggers.
pub(super) fn owners(user_namespace: &str, not_excluded_c: &str) -> String {
    let member = super::scope::not_extension_member;
    format!(
        "SELECT 'owner', {RELATION}, quote_ident(pg_get_userbyid(c.relowner))
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE {user_namespace} AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND {} AND {not_excluded_c} AND c.relowner <> {READER}
         UNION ALL
         SELECT 'owner', {ROUTINE}, quote_ident(pg_get_userbyid(p.proowner))
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE {user_namespace} AND {} AND p.proowner <> {READER}
         UNION ALL
         SELECT 'owner', 'schema ' || quote_ident(n.nspname), quote_ident(pg_get_userbyid(n.nspowner))
         FROM pg_namespace n
         WHERE {user_namespace} AND {} AND n.nspowner <> {READER}
           AND NOT (n.nspname = 'public' AND pg_get_userbyid(n.nspowner) = 'pg_database_owner')
         UNION ALL
         SELECT 'owner', {TYPE}, quote_ident(pg_get_userbyid(t.typowner))
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE {user_namespace} AND {} AND t.typowner <> {READER}
           AND (t.typtype IN ('e', 'r', 'd') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
         UNION ALL
         SELECT 'owner', 'collation ' || quote_ident(n.nspname) || '.' || quote_ident(co.collname), quote_ident(pg_get_userbyid(co.collowner))
         FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
         WHERE {user_namespace} AND {} AND co.collowner <> {READER}
         UNION ALL
         SELECT 'owner', 'statistics ' || quote_ident(n.nspname) || '.' || quote_ident(s.stxname), quote_ident(pg_get_userbyid(s.stxowner))
         FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
         WHERE {user_namespace} AND s.stxowner <> {READER}
         UNION ALL
         SELECT 'owner', 'publication ' || quote_ident(p.pubname), quote_ident(pg_get_userbyid(p.pubowner))
         FROM pg_publication p WHERE p.pubowner <> {READER}
         UNION ALL
         SELECT 'owner', 'event trigger ' || quote_ident(e.evtname), quote_ident(pg_get_userbyid(e.evtowner))
         FROM pg_event_trigger e WHERE {} AND e.evtowner <> {READER}",
        member("pg_class", "c.oid"),
        member("pg_proc", "p.oid"),
        member("pg_namespace", "n.oid"),
        member("pg_type", "t.oid"),
        member("pg_collation", "co.oid"),
        member("pg_event_trigger", "e.oid"),
    )
}

/// Privileges beyond the defaults on relations (and their columns),
/// sequences, functions, schemas and types.
pub(super) fn privileges(user_namespace: &str, not_excluded_c: &str) -> String {
    let member = super::scope::not_extension_member;
    let relation = acl_lines(
        "c.relacl",
        "acldefault(CASE c.relkind WHEN 'S' THEN 's'::\"char\" ELSE 'r'::\"char\" END, c.relowner)",
    );
    // A column has no default privileges.
    let column = acl_lines("a.attacl", "NULL::aclitem[]");
    format!(
        "SELECT 'privileges', name, lines FROM (
           SELECT {RELATION} AS name, {relation} AS lines
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE {user_namespace} AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND c.relacl IS NOT NULL AND {} AND {not_excluded_c}
           UNION ALL
           SELECT 'column ' || quote_ident(a.attname) || ' of ' || {RELATION}, {column}
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
           WHERE {user_namespace} AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL AND {} AND {not_excluded_c}
           UNION ALL
           SELECT {ROUTINE}, {}
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE {user_namespace} AND p.proacl IS NOT NULL AND {}
           UNION ALL
           SELECT 'schema ' || quote_ident(n.nspname), {}
           FROM pg_namespace n
           WHERE {user_namespace} AND n.nspacl IS NOT NULL AND {}
           UNION ALL
           SELECT {TYPE}, {}
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE {user_namespace} AND t.typacl IS NOT NULL AND t.typtype IN ('e', 'r', 'd', 'c') AND {}
         ) acl WHERE lines IS NOT NULL",
        member("pg_class", "c.oid"),
        member("pg_class", "c.oid"),
        acl_lines("p.proacl", "acldefault('f', p.proowner)"),
        member("pg_proc", "p.oid"),
        acl_lines(
            "n.nspacl",
            // `public` starts with USAGE for everyone (PostgreSQL 15 on).
            "CASE WHEN n.nspname = 'public' THEN array_append(acldefault('n', n.nspowner), ('=U/' || quote_ident(pg_get_userbyid(n.nspowner)))::aclitem) ELSE acldefault('n', n.nspowner) END",
        ),
        member("pg_namespace", "n.oid"),
        acl_lines("t.typacl", "acldefault('T', t.typowner)"),
        member("pg_type", "t.oid"),
    )
}

/// `ALTER DEFAULT PRIVILEGES`, one object per role, schema and object type.
pub(super) fn default_privileges() -> String {
    format!(
        "SELECT 'default privileges',
                'for role ' || quote_ident(pg_get_userbyid(d.defaclrole)) || coalesce(' in schema ' || quote_ident(n.nspname), '')
                || ' on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                                   WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE 'large objects' END,
                {}
         FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace",
        acl_lines("d.defaclacl", "NULL::aclitem[]")
    )
}
