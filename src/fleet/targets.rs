//! Where a fleet's targets come from: a file of connection strings, a query
//! against a control database, or a command's output; in schema-per-tenant
//! mode, a file or a query that lists schema names. Every list is checked
//! whole before anything runs: a line that is not a usable connection
//! string or schema name, or a target listed twice, is an error naming the
//! line.

use super::target::Target;
use crate::model::identifier::Identifier;
use crate::postgres::DatabaseTarget;
use crate::Error;
use std::collections::HashMap;
use std::path::PathBuf;

/// Where the tenant databases are listed.
#[derive(Debug, Clone)]
pub enum DatabaseList {
    /// A file, one connection string per line (`#` comments, blank lines).
    File(PathBuf),
    /// A query against the control database; its first column.
    Query(String),
    /// A shell command whose standard output has one per line.
    Command(String),
}

/// Where the tenant schemas of the one database are listed.
#[derive(Debug, Clone)]
pub enum SchemaList {
    /// A file, one schema name per line.
    File(PathBuf),
    /// A query (against the control database when there is one, else the
    /// tenants' database); its first column.
    Query(String),
}

/// Which targets a fleet run covers.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// One database per tenant.
    Databases(DatabaseList),
    /// One schema per tenant, all in the database at the URL.
    Schemas {
        /// The tenants' database.
        url: String,
        /// The schema names.
        list: SchemaList,
    },
}

/// What a target list may hold beyond what is always accepted.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListRules {
    /// An empty list is a run over nothing that succeeds (`--allow-empty`),
    /// not an error.
    pub allow_empty: bool,
    /// System schemas (`public`, `pg_*`, `information_schema`) a tenant list
    /// may name, each named explicitly (`--allow-system-schema`).
    pub system_schemas: Vec<String>,
}

/// Reads the target list, checked against `rules`. `control_url` is where
/// queries run (and, for schema lists, the tenants' database when it is
/// `None`).
pub async fn resolve(
    spec: &TargetSpec,
    rules: &ListRules,
    control_url: Option<&str>,
    connect_timeout: std::time::Duration,
) -> Result<Vec<Target>, Error> {
    let (origin, lines) = match spec {
        TargetSpec::Databases(DatabaseList::File(path))
        | TargetSpec::Schemas {
            list: SchemaList::File(path),
            ..
        } => (path.display().to_string(), numbered(&read_file(path)?)),
        TargetSpec::Databases(DatabaseList::Command(command)) => (
            format!("`{}`", redact(command)),
            numbered(&run_command(command)?),
        ),
        TargetSpec::Databases(DatabaseList::Query(sql)) => {
            let url = control_url.ok_or_else(|| {
                Error::InvalidArgument(
                    "--targets-query runs against the control database: give --control-url (or [fleet] control_url)".into(),
                )
            })?;
            (
                "--targets-query".to_string(),
                query(url, sql, connect_timeout).await?,
            )
        }
        TargetSpec::Schemas {
            url,
            list: SchemaList::Query(sql),
        } => (
            "--tenant-schemas-query".to_string(),
            query(control_url.unwrap_or(url), sql, connect_timeout).await?,
        ),
    };
    let mut targets = Vec::with_capacity(lines.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut problems = Vec::new();
    for (line, text) in lines {
        let target = match spec {
            TargetSpec::Databases(_) => Target::database(text.trim()).map_err(|e| e.to_string()),
            TargetSpec::Schemas { url, .. } => Identifier::parse(text.trim())
                .and_then(|schema| tenant_schema(schema, &rules.system_schemas))
                .map(|schema| Target::schema(url, schema)),
        };
        match target {
            Ok(target) => {
                if let Some(first) = seen.insert(target.name().to_string(), line) {
                    problems.push(format!(
                        "{origin}:{line}: {} is listed twice (first at line {first}); remove one",
                        target.name()
                    ));
                } else {
                    targets.push(target);
                }
            }
            Err(message) => problems.push(format!("{origin}:{line}: {message}")),
        }
    }
    if !problems.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "the fleet's target list cannot be used:\n  {}",
            problems.join("\n  ")
        )));
    }
    if targets.is_empty() && !rules.allow_empty {
        // A run over nothing would report success with every tenant behind.
        return Err(Error::InvalidArgument(format!(
            "the fleet's target list ({origin}) is empty: nothing would run, and a fleet run over nothing is not a success. \
             Check the list (a query that returned no rows or only NULLs, a command that printed nothing), or give --allow-empty when an empty list is expected"
        )));
    }
    Ok(targets)
}

/// A tenant's schema: never one PostgreSQL or every database has
/// (`public`, `information_schema`, `pg_*`), which a list that went wrong
/// would otherwise migrate as a tenant, unless `allowed` names it.
fn tenant_schema(schema: Identifier, allowed: &[String]) -> Result<Identifier, String> {
    let name = schema.as_str();
    let system = name == "public" || name == "information_schema" || name.starts_with("pg_");
    if system && !allowed.iter().any(|a| a == name) {
        return Err(format!(
            "`{name}` is a system schema, not a tenant's; remove it from the list, or name it with --allow-system-schema {name} if it really is one"
        ));
    }
    Ok(schema)
}

/// The non-blank, non-comment lines with their line numbers.
fn numbered(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| (i, line.to_string()))
        .collect()
}

fn read_file(path: &PathBuf) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        Error::InvalidArgument(format!(
            "{}: not UTF-8 (byte {}); save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

fn run_command(command: &str) -> Result<String, Error> {
    let shown = redact(command);
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::InvalidArgument(format!("cannot run --targets-command `{shown}`: {e}"))
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::InvalidArgument(format!(
            "--targets-command `{shown}` failed ({}); nothing was run. Its error output: {}",
            output.status,
            redact(stderr.trim())
        )));
    }
    String::from_utf8(output.stdout).map_err(|_| {
        Error::InvalidArgument(format!(
            "--targets-command `{shown}` printed something that is not UTF-8"
        ))
    })
}

/// Runs `sql` on `url` and returns its first column, numbered by row.
async fn query(
    url: &str,
    sql: &str,
    connect_timeout: std::time::Duration,
) -> Result<Vec<(usize, String)>, Error> {
    let target = DatabaseTarget::parse(url)?.with_connect_timeout(connect_timeout);
    let client = target.connect().await?;
    let failed = |e: tokio_postgres::Error| Error::Database {
        context: format!("the target query on {} failed", target.display()),
        message: crate::postgres::describe(&e),
        sqlstate: e.code().map(|c| c.code().to_string()),
    };
    // One statement (the extended protocol refuses more), in a read-only
    // transaction: a list query reads, it never changes anything.
    client
        .batch_execute("BEGIN TRANSACTION READ ONLY")
        .await
        .map_err(failed)?;
    let rows = client.query(sql, &[]).await;
    let _ = client.batch_execute("ROLLBACK").await;
    let rows = rows.map_err(|e| {
        let mut error = failed(e);
        if let Error::Database { message, .. } = &mut error {
            if message.contains("multiple commands") {
                message.push_str(": a target query is one SELECT");
            }
        }
        error
    })?;
    let mut values = Vec::with_capacity(rows.len());
    for row in &rows {
        let value: Option<String> = row.try_get(0).map_err(|_| {
            Error::InvalidArgument(
                "the target query's first column must be text: cast it (`SELECT name::text …`)"
                    .into(),
            )
        })?;
        values.extend(value.filter(|v| !v.trim().is_empty()));
    }
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, value)| (i + 1, value))
        .collect())
}

/// `text` with every password in it replaced by `***`: the user-info of
/// URLs (`postgres://app:…@db`), and the value of any `…password…=` setting
/// (`password=…`, `PGPASSWORD=…`, `--db-password '…'` is not one: a flag
/// followed by a space is not recognised), quoted or not, so a command line
/// or its error output can be shown.
pub fn redact(text: &str) -> String {
    static PATTERNS: std::sync::OnceLock<Option<(regex::Regex, regex::Regex)>> =
        std::sync::OnceLock::new();
    let Some((url, setting)) = PATTERNS.get_or_init(|| {
        let url = regex::Regex::new(r#"(?P<pre>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s'"]*:)[^@\s'"]*@"#).ok()?;
        let setting =
            regex::Regex::new(r#"(?i)(?P<key>[A-Za-z0-9_.-]*password[A-Za-z0-9_]*\s*=\s*)(?:'[^']*'|"[^"]*"|[^\s'"]*)"#).ok()?;
        Some((url, setting))
    }) else {
        // The patterns are constants and compile; if they ever did not,
        // show nothing of the text rather than a password.
        return "(hidden: it may hold a password)".into();
    };
    let text = url.replace_all(text, "${pre}***@");
    setting.replace_all(&text, "${key}***").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_a_commands_error_output_are_hidden() {
        assert_eq!(
            redact("cannot reach postgres://app:s3cret@db/t1 with password=hunter2 now"),
            "cannot reach postgres://app:***@db/t1 with password=*** now"
        );
        assert_eq!(
            redact(
                r#"PGPASSWORD=hunter2 psql "postgres://app:s3cret@db/t1" -c 'x' "host=db password='p w'""#
            ),
            r#"PGPASSWORD=*** psql "postgres://app:***@db/t1" -c 'x' "host=db password=***""#
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_lines_keep_their_numbers() {
        let lines = numbered("# tenants\n\npostgres://a@h/t1\n  # gone\npostgres://a@h/t2\n");
        assert_eq!(
            lines,
            vec![
                (3, "postgres://a@h/t1".to_string()),
                (5, "postgres://a@h/t2".to_string())
            ]
        );
    }

    #[tokio::test]
    async fn a_bad_line_or_a_target_listed_twice_is_named_by_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.txt");
        std::fs::write(
            &path,
            "postgres://app:Secret1pass@h/t1\nnot a url at all ::\npostgres://app:Secret2pass@h/t1\n",
        )
        .unwrap();
        let spec = TargetSpec::Databases(DatabaseList::File(path.clone()));
        let error = resolve(
            &spec,
            &ListRules::default(),
            None,
            std::time::Duration::from_secs(1),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(error.contains("targets.txt:2:"), "{error}");
        assert!(
            error.contains(
                "targets.txt:3: postgres://app:***@h:5432/t1 is listed twice (first at line 1)"
            ),
            "{error}"
        );
        // The passwords, not words a temporary path may contain by chance.
        assert!(
            !error.contains("Secret1pass") && !error.contains("Secret2pass"),
            "{error}"
        );
    }
}
