//! libpq's environment, as psql and every libpq program read it: `PGHOST`,
//! `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`,
//! `PGCONNECT_TIMEOUT`, `PGAPPNAME`, and the password file (`PGPASSFILE`,
//! else `~/.pgpass`). Each fills only what the connection string leaves
//! out, so an explicit URL always wins; the password file is read only when
//! no password was given at all, and ignored (with a reason) when other users
//! may read it, as libpq does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The variables schemactl reads, and the home directory.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
}

/// The variables that name a target by themselves (with one of them set,
/// no `DATABASE_URL` is needed).
const TARGET_VARIABLES: &[&str] = &["PGHOST", "PGDATABASE", "PGPORT"];

impl Environment {
    /// The process's environment.
    pub fn from_process() -> Self {
        let vars = std::env::vars()
            .filter(|(name, value)| name.starts_with("PG") && !value.is_empty())
            .collect();
        Self {
            vars,
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    /// An environment made of `vars` (for tests and embedding).
    pub fn from_pairs<'a>(
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
        home: Option<&Path>,
    ) -> Self {
        Self {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            home: home.map(Path::to_path_buf),
        }
    }

    /// The value of `name`, when set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Whether the variables name a server by themselves.
    pub fn names_a_target(&self) -> bool {
        TARGET_VARIABLES.iter().any(|name| self.get(name).is_some())
    }

    /// Why the password file is not read although it exists: other users
    /// may read it (libpq ignores it then, and warns). `None` when there is
    /// none, or it is private.
    pub fn password_file_ignored(&self) -> Option<String> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.password_file()?;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "the password file {} is ignored because other users may read it (mode {:o}); `chmod 600 {}` makes it used",
                path.display(),
                mode & 0o777,
                path.display()
            )
        })
    }

    fn password_file(&self) -> Option<PathBuf> {
        match self.get("PGPASSFILE") {
            Some(path) => Some(PathBuf::from(path)),
            None => Some(self.home.as_ref()?.join(".pgpass")),
        }
    }

    /// The password for this connection from the password file, when there
    /// is one that only its owner can read and a line matches.
    pub fn password_file_entry(
        &self,
        host: &str,
        port: u16,
        database: &str,
        user: &str,
    ) -> Option<String> {
        let path = self.password_file()?;
        let metadata = std::fs::metadata(&path).ok()?;
        use std::os::unix::fs::PermissionsExt;
        if !metadata.is_file() || metadata.permissions().mode() & 0o077 != 0 {
            return None;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        let port = port.to_string();
        text.lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .filter_map(password_file_fields)
            .find(|fields| {
                let matches = |field: &str, value: &str| field == "*" || field == value;
                let host_matches = matches(&fields[0], host)
                    || (fields[0] == "localhost" && host.starts_with('/'));
                host_matches
                    && matches(&fields[1], &port)
                    && matches(&fields[2], database)
                    && matches(&fields[3], user)
            })
            .map(|mut fields| fields.swap_remove(4))
    }
}

/// The five fields of a password-file line (`host:port:database:user:password`,
/// `\:` and `\\` escaped); `None` for a line of another shape.
fn password_file_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut()?.extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    (fields.len() == 5).then_some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_file_is_read_as_libpq_reads_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".pgpass");
        std::fs::write(
            &file,
            "# comment\ndb.internal:5432:app:deployer:s3\\:cret\n*:*:*:other:wild\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let env = Environment::from_pairs([], Some(dir.path()));
        assert_eq!(
            env.password_file_entry("db.internal", 5432, "app", "deployer")
                .as_deref(),
            Some("s3:cret")
        );
        assert_eq!(
            env.password_file_entry("x", 1, "y", "other").as_deref(),
            Some("wild")
        );
        assert_eq!(
            env.password_file_entry("db.internal", 5433, "app", "deployer"),
            None
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            env.password_file_entry("x", 1, "y", "other"),
            None,
            "a file others can read is ignored"
        );
        let note = env.password_file_ignored().unwrap();
        assert!(
            note.contains("mode 644") && note.contains("chmod 600"),
            "{note}"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(env.password_file_ignored(), None);
    }

    #[test]
    fn a_bad_variable_is_named_as_the_source_of_its_error() {
        let env = Environment::from_pairs([("PGCONNECT_TIMEOUT", "soon")], None);
        let error = crate::postgres::DatabaseTarget::parse_with_env("postgres://u@h/d", &env)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("PGCONNECT_TIMEOUT: "), "{error}");
        assert!(!error.contains("database URL"), "{error}");
    }
}
