//! Reaching a PostgreSQL server: parsing the connection string (URL or
//! libpq `key=value` form), `sslmode` with libpq's meaning, and connecting
//! with a password that never appears in what is printed.

use super::libpq_env::Environment;
use super::{describe, tls};
use crate::Error;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres::{Client, NoTls};

/// libpq's `sslmode` values (the book's Configuration page says what each checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// TLS when the server offers it, plain text otherwise (libpq's default).
    Prefer,
    /// TLS, without checking the certificate.
    Require,
    /// TLS with a certificate signed by the given CA.
    VerifyCa,
    /// TLS with a certificate signed by the given CA and naming the host.
    VerifyFull,
}

impl SslMode {
    /// libpq's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for SslMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                "sslmode `{other}` is not one of disable, prefer, require, verify-ca, verify-full"
            ))
            }
        })
    }
}

/// How long connecting may take by default, the TLS and startup handshake
/// included: a port where something else listens must not hang a deploy.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed connection string.
#[derive(Debug, Clone)]
pub struct DatabaseTarget {
    config: tokio_postgres::Config,
    ssl_mode: SslMode,
    ssl_mode_given: bool,
    root_cert: Option<PathBuf>,
    display: String,
    /// Why the password file was not read, when no password was given and
    /// libpq would have read it (told when the server then asks for one).
    password_file_note: Option<String>,
}

impl DatabaseTarget {
    /// Parses a `postgres://` URL or a libpq `key=value` string. Besides what
    /// the driver understands, `sslmode` takes `verify-ca` and `verify-full`,
    /// and `sslrootcert` names the CA file.
    pub fn parse(connection_string: &str) -> Result<Self, Error> {
        Self::parse_with_env(connection_string, &Environment::from_process())
    }

    /// [`DatabaseTarget::parse`] with libpq's variables taken from `env`
    /// (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGSSLMODE`, … and the password file): each fills only what the string leaves
    /// out. An empty string is the target the variables alone describe.
    pub fn parse_with_env(connection_string: &str, env: &Environment) -> Result<Self, Error> {
        // A string that does not parse is not echoed: without its structure,
        // a password in it cannot be told from the rest and redacted.
        let invalid = |message: String| {
            Error::Config {
            path: PathBuf::from("database URL"),
            message: format!("the connection string cannot be used ({message}; it is not shown, as it may hold a password)"),
        }
        };
        let (driver_string, ssl_mode, root_cert) =
            extract_tls_options(connection_string).map_err(&invalid)?;
        let driver_string = with_default_port(driver_string, env.get("PGPORT"));
        let mut config = tokio_postgres::Config::from_str(&driver_string).map_err(|e| {
            invalid(format!(
                "{}; expected postgres://user:password@host:port/database or host=… user=… dbname=…",
                scrub(&e.to_string(), None, connection_string)
            ))
        })?;
        let ssl_mode = match (ssl_mode, env.get("PGSSLMODE")) {
            (Some(mode), _) => Some(mode),
            (None, Some(mode)) => Some(mode.parse::<SslMode>().map_err(|m| Error::Config {
                path: PathBuf::from("PGSSLMODE"),
                message: m,
            })?),
            (None, None) => None,
        };
        // A bad variable is named as the source of its own error.
        fill_from_env(&mut config, env).map_err(|(variable, message)| Error::Config {
            path: PathBuf::from(variable),
            message,
        })?;
        let password_file_note = config
            .get_password()
            .is_none()
            .then(|| env.password_file_ignored())
            .flatten();
        if config.get_hosts().is_empty() {
            return Err(invalid("no host given (nor PGHOST)".into()));
        }
        // libpq: `sslrootcert=system` means verify-full, and nothing weaker.
        let system_roots = root_cert
            .as_deref()
            .is_some_and(|p| p == std::path::Path::new("system"));
        let ssl_mode = match ssl_mode {
            None if system_roots => Some(SslMode::VerifyFull),
            Some(mode) if system_roots && mode != SslMode::VerifyFull => {
                return Err(invalid(format!(
                    "sslrootcert=system needs sslmode=verify-full, not {}",
                    mode.as_str()
                )))
            }
            other => other,
        };
        let ssl_mode_given = ssl_mode.is_some();
        let ssl_mode = ssl_mode.unwrap_or(SslMode::Prefer);
        let display = describe_target(&config, ssl_mode_given.then_some(ssl_mode));
        Ok(Self {
            config,
            ssl_mode,
            ssl_mode_given,
            root_cert,
            display,
            password_file_note,
        })
    }

    /// The connection string with its password removed, for messages.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The database name, when the string gives one.
    pub fn database(&self) -> Option<&str> {
        self.config.get_dbname()
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> Self {
        let mut other = self.clone();
        other.config.dbname(database);
        other.display =
            describe_target(&other.config, self.ssl_mode_given.then_some(self.ssl_mode));
        other
    }

    /// The same target with a connection timeout (TCP, TLS and the startup
    /// handshake together), unless the connection string set `connect_timeout`.
    pub fn with_connect_timeout(&self, timeout: Duration) -> Self {
        let mut other = self.clone();
        if other.config.get_connect_timeout().is_none() {
            other.config.connect_timeout(timeout);
        }
        other
    }

    /// Whether two targets name the same server and database (user and
    /// password aside).
    pub fn same_database(&self, other: &DatabaseTarget) -> bool {
        self.config.get_hosts() == other.config.get_hosts()
            && self.config.get_ports() == other.config.get_ports()
            && self.config.get_dbname() == other.config.get_dbname()
    }

    /// Every session runs as `role` (`SET ROLE` for the whole session, also
    /// across the `RESET ALL` before each migration): the login user needs
    /// only membership in the role that owns the schema.
    pub fn with_role(&self, role: &crate::model::identifier::Identifier) -> Self {
        let mut other = self.clone();
        let options = match self.config.get_options() {
            Some(existing) => format!("{existing} -c role={role}"),
            None => format!("-c role={role}"),
        };
        other.config.options(&options);
        other
    }

    /// The same target with `schema` first on every session's
    /// `search_path` (then `public`), set at connection start-up so that a
    /// migration's own `RESET search_path` comes back to it.
    pub fn with_search_path(&self, schema: &crate::model::identifier::Identifier) -> Self {
        let mut other = self.clone();
        let setting = format!("-c search_path={},public", schema.quoted());
        let options = match self.config.get_options() {
            Some(existing) => format!("{existing} {setting}"),
            None => setting,
        };
        other.config.options(&options);
        other
    }

    /// The libpq variables that name this target, for PostgreSQL's own
    /// programs (`pg_dump`, `pg_restore`): the password travels in the
    /// child's `PGPASSWORD`, never on its command line, where `ps` shows it.
    pub(crate) fn libpq_environment(&self) -> Vec<(&'static str, String)> {
        use tokio_postgres::config::Host;
        let mut variables = Vec::new();
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|host| match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        if !hosts.is_empty() {
            variables.push(("PGHOST", hosts.join(",")));
        }
        let ports: Vec<String> = self.config.get_ports().iter().map(u16::to_string).collect();
        if !ports.is_empty() {
            variables.push(("PGPORT", ports.join(",")));
        }
        if let Some(user) = self.config.get_user() {
            variables.push(("PGUSER", user.to_string()));
        }
        if let Some(database) = self.config.get_dbname() {
            variables.push(("PGDATABASE", database.to_string()));
        }
        if let Some(password) = self.config.get_password() {
            variables.push(("PGPASSWORD", String::from_utf8_lossy(password).into_owned()));
        }
        if let Some(options) = self.config.get_options() {
            variables.push(("PGOPTIONS", options.to_string()));
        }
        if let Some(timeout) = self.config.get_connect_timeout() {
            variables.push(("PGCONNECT_TIMEOUT", timeout.as_secs().max(1).to_string()));
        }
        variables.push(("PGSSLMODE", self.ssl_mode.as_str().to_string()));
        if let Some(root_cert) = &self.root_cert {
            variables.push(("PGSSLROOTCERT", root_cert.display().to_string()));
        }
        variables
    }

    /// The TLS mode.
    #[cfg(test)]
    pub(crate) fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// Opens a connection. The connection task runs on the current Tokio runtime.
    pub async fn connect(&self) -> Result<Client, Error> {
        let timeout = self
            .config
            .get_connect_timeout()
            .copied()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        match tokio::time::timeout(timeout, self.connect_untimed()).await {
            Ok(result) => result,
            Err(_) => Err(Error::Connect {
                target: self.display.clone(),
                message: format!(
                    "no PostgreSQL handshake within {} (is it a PostgreSQL server on that host and port? check them and any firewall; \
                     raise the limit with --connect-timeout or connect_timeout in the connection string)",
                    humantime::format_duration(timeout)
                ),
            }),
        }
    }

    async fn connect_untimed(&self) -> Result<Client, Error> {
        let mut config = self.config.clone();
        if config.get_application_name().is_none() {
            config.application_name("schemactl");
        }
        let failed = |e: tokio_postgres::Error| {
            let mut message = explain_connect_error(&describe(&e), self.ssl_mode);
            if let Some(note) = self
                .password_file_note
                .as_ref()
                .filter(|_| message.contains("password missing"))
            {
                message.push_str(&format!("; {note}"));
            }
            Error::Connect {
                target: self.display.clone(),
                message: scrub(&message, self.config.get_password(), ""),
            }
        };
        // A killed schemactl must not leave its statement (and the migration
        // lock) running on the server: PostgreSQL 14+ checks the client every
        // second. Older servers reject the setting; they connect without it.
        let mut checked = config.clone();
        let options = match config.get_options() {
            Some(existing) => format!("{existing} -c client_connection_check_interval=1000"),
            None => "-c client_connection_check_interval=1000".to_string(),
        };
        checked.options(&options);
        let tls = match self.ssl_mode {
            SslMode::Disable => None,
            mode => Some(tls::client_config(mode, self.root_cert.as_deref())?),
        };
        match self.connect_with(&checked, tls.clone()).await {
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_OBJECT) => {
                self.connect_with(&config, tls).await.map_err(failed)
            }
            other => other.map_err(failed),
        }
    }

    async fn connect_with(
        &self,
        config: &tokio_postgres::Config,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<Client, tokio_postgres::Error> {
        let mut config = config.clone();
        let Some(tls) = tls else {
            config.ssl_mode(DriverSslMode::Disable);
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(connection);
            return Ok(client);
        };
        config.ssl_mode(if self.ssl_mode == SslMode::Prefer {
            DriverSslMode::Prefer
        } else {
            DriverSslMode::Require
        });
        let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
        let (client, connection) = config.connect(connector).await?;
        tokio::spawn(connection);
        Ok(client)
    }
}

fn explain_connect_error(message: &str, ssl_mode: SslMode) -> String {
    let hint = if message.contains("password authentication failed") {
        "check the user name and password"
    } else if message.contains("password missing") {
        "the server asks for a password: give it in the URL (postgres://user:password@host/db), in PGPASSWORD, \
         or in ~/.pgpass (or the file PGPASSFILE names), readable only by its owner"
    } else if message.contains("server does not support TLS") {
        "the server does not accept TLS: enable `ssl` on the server, or connect with sslmode=prefer or sslmode=disable"
    } else if message.contains("UnknownIssuer") || message.contains("BadSignature") {
        "the server's certificate is not signed by the CA in sslrootcert"
    } else if message.contains("NotValidForName") || message.contains("not valid for name") {
        "the server's certificate does not name this host: connect with the host name it was issued for, or use sslmode=verify-ca"
    } else if message.contains("no pg_hba.conf entry") && ssl_mode == SslMode::Disable {
        "the server may require TLS: try sslmode=require"
    } else if message.contains("Connection refused") {
        "is the server running and listening on that host and port?"
    } else if message.contains("failed to lookup address")
        || message.contains("Name or service not known")
    {
        "the host name does not resolve: check the host in the URL"
    } else if message.contains("timed out") {
        "the server did not answer in time: check the host, the port and any firewall, or raise --connect-timeout"
    } else {
        ""
    };
    if hint.is_empty() {
        message.to_string()
    } else {
        format!("{message} ({hint})")
    }
}

/// Adds `PGPORT` to a connection string that names no port (the driver
/// would otherwise take 5432 for a URL without one).
fn with_default_port(driver_string: String, port: Option<&str>) -> String {
    let Some(port) = port.and_then(|p| p.split(',').next()).map(str::trim) else {
        return driver_string;
    };
    if driver_string.starts_with("postgres://") || driver_string.starts_with("postgresql://") {
        return match url::Url::parse(&driver_string) {
            Ok(mut url)
                if url.port().is_none() && url.host_str().is_some_and(|h| !h.is_empty()) =>
            {
                match port.parse::<u16>() {
                    Ok(number) if url.set_port(Some(number)).is_ok() => url.to_string(),
                    _ => driver_string,
                }
            }
            _ => driver_string,
        };
    }
    let names_port = key_value_pairs(&driver_string)
        .map(|pairs| pairs.iter().any(|(key, _)| key == "port"))
        .unwrap_or(true);
    if names_port {
        driver_string
    } else {
        format!("{driver_string} port='{port}'")
            .trim_start()
            .to_string()
    }
}

/// Fills what the connection string left out from libpq's variables and
/// the password file, as libpq does.
fn fill_from_env(
    config: &mut tokio_postgres::Config,
    env: &Environment,
) -> Result<(), (&'static str, String)> {
    if config.get_hosts().is_empty() {
        if let Some(hosts) = env.get("PGHOST") {
            for host in hosts.split(',') {
                if host.starts_with('/') {
                    config.host_path(host);
                } else {
                    config.host(host);
                }
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(ports) = env.get("PGPORT") {
            for port in ports.split(',') {
                config.port(
                    port.trim()
                        .parse()
                        .map_err(|_| ("PGPORT", format!("`{port}` is not a port number")))?,
                );
            }
        }
    }
    if config.get_user().is_none() {
        match env.get("PGUSER") {
            Some(user) => {
                config.user(user);
            }
            None => {
                if let Ok(user) = std::env::var("USER") {
                    config.user(&user);
                }
            }
        }
    }
    if config.get_dbname().is_none() {
        if let Some(database) = env.get("PGDATABASE") {
            config.dbname(database);
        }
    }
    if config.get_application_name().is_none() {
        if let Some(name) = env.get("PGAPPNAME") {
            config.application_name(name);
        }
    }
    if config.get_connect_timeout().is_none() {
        if let Some(seconds) = env.get("PGCONNECT_TIMEOUT") {
            let seconds: u64 = seconds.trim().parse().map_err(|_| {
                (
                    "PGCONNECT_TIMEOUT",
                    format!("`{seconds}` is not a number of seconds"),
                )
            })?;
            if seconds > 0 {
                config.connect_timeout(Duration::from_secs(seconds.max(2)));
            }
        }
    }
    if config.get_password().is_none() {
        if let Some(password) = env.get("PGPASSWORD") {
            config.password(password);
        } else {
            use tokio_postgres::config::Host;
            let host = match config.get_hosts().first() {
                Some(Host::Tcp(host)) => host.clone(),
                Some(Host::Unix(path)) => path.display().to_string(),
                None => "localhost".into(),
            };
            let port = config.get_ports().first().copied().unwrap_or(5432);
            let user = config.get_user().unwrap_or_default().to_string();
            let database = config.get_dbname().unwrap_or(&user).to_string();
            if let Some(password) = env.password_file_entry(&host, port, &database, &user) {
                config.password(password);
            }
        }
    }
    Ok(())
}

type TlsOptions = (String, Option<SslMode>, Option<PathBuf>);

/// Takes `sslmode` and `sslrootcert` out of the connection string, because
/// the driver knows only some of their values.
fn extract_tls_options(connection_string: &str) -> Result<TlsOptions, String> {
    let mut ssl_mode = None;
    let mut root_cert = None;
    let mut take = |key: &str, value: &str| -> Result<bool, String> {
        match key {
            "sslmode" => ssl_mode = Some(value.parse::<SslMode>()?),
            "sslrootcert" => root_cert = Some(PathBuf::from(value)),
            _ if key.starts_with("x-") => return Err(golang_migrate_option(key)),
            _ => return Ok(false),
        }
        Ok(true)
    };
    if connection_string.starts_with("postgres://")
        || connection_string.starts_with("postgresql://")
    {
        let mut url = url::Url::parse(connection_string).map_err(|e| e.to_string())?;
        let mut kept = Vec::new();
        for (key, value) in url.query_pairs() {
            if !take(&key, &value)? {
                kept.push((key.into_owned(), value.into_owned()));
            }
        }
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        return Ok((url.to_string(), ssl_mode, root_cert));
    }
    let mut kept = Vec::new();
    for (key, value) in key_value_pairs(connection_string)? {
        if !take(&key, &value)? {
            kept.push(format!(
                "{key}='{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            ));
        }
    }
    Ok((kept.join(" "), ssl_mode, root_cert))
}

/// Why a golang-migrate URL option (`x-…`) is refused, and where schemactl
/// takes the same setting.
fn golang_migrate_option(key: &str) -> String {
    let instead = match key {
        "x-multi-statement" => {
            "for its per-statement mode, set `multi_statement = true` in schemactl.toml"
        }
        "x-migrations-table" | "x-migrations-table-quoted" => {
            "schemactl keeps its own history (`[postgres] history_table`); `baseline --from golang-migrate --table NAME` imports golang-migrate's"
        }
        "x-statement-timeout" => "set `[postgres] statement_timeout` or `--statement-timeout`",
        _ => "schemactl has its own settings in schemactl.toml",
    };
    format!("`{key}` is a golang-migrate option, not a PostgreSQL one: remove it from the URL; {instead}")
}

/// The pairs of a libpq `key=value` string, with libpq's rules: blanks
/// around `=` are allowed, a value may be single-quoted, and a backslash
/// escapes the next character.
fn key_value_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!("`{key}` is not followed by `=`"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("the value of `{key}` has no closing quote")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// What is shown for a target: built from the parsed configuration (user,
/// hosts, ports, database, sslmode), never from the string the user gave,
/// so a password cannot reach the output whatever syntax it was written in.
fn describe_target(config: &tokio_postgres::Config, ssl_mode: Option<SslMode>) -> String {
    use tokio_postgres::config::Host;
    let mut out = String::from("postgres://");
    if let Some(user) = config.get_user() {
        out.push_str(&url_part(user));
        if config.get_password().is_some() {
            out.push_str(":***");
        }
        out.push('@');
    }
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let name = match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
                Host::Tcp(name) => url_part(name),
                Host::Unix(path) => url_part(&path.display().to_string()),
            };
            match ports.get(i).or(ports.first()) {
                Some(port) => format!("{name}:{port}"),
                None => name,
            }
        })
        .collect();
    out.push_str(&hosts.join(","));
    if let Some(db) = config.get_dbname() {
        out.push('/');
        out.push_str(&url_part(db));
    }
    if let Some(mode) = ssl_mode {
        out.push_str("?sslmode=");
        out.push_str(mode.as_str());
    }
    out
}

fn url_part(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Removes `password` (and the raw connection string) from a driver's
/// message: a second line of defence behind [`describe_target`].
fn scrub(message: &str, password: Option<&[u8]>, connection_string: &str) -> String {
    let mut out = message.to_string();
    if !connection_string.is_empty() {
        out = out.replace(connection_string, "<connection string>");
    }
    if let Some(password) = password.and_then(|p| std::str::from_utf8(p).ok()) {
        if !password.is_empty() {
            out = out.replace(password, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libpq_ssl_modes_from_urls_and_key_value_strings() {
        let target = DatabaseTarget::parse(
            "postgres://app:secret@db.internal:6432/app?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(target.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(
            target.root_cert.as_deref(),
            Some(std::path::Path::new("/etc/ca.pem"))
        );
        assert_eq!(target.database(), Some("app"));
        assert!(!target.display().contains("secret"));
        let kv =
            DatabaseTarget::parse("host=db user=app password=secret sslmode=verify-ca dbname=x")
                .unwrap();
        assert_eq!(kv.ssl_mode(), SslMode::VerifyCa);
        assert!(!kv.display().contains("secret"));
        assert_eq!(
            DatabaseTarget::parse("postgres://db/app")
                .unwrap()
                .ssl_mode(),
            SslMode::Prefer
        );
    }

    #[test]
    fn libpq_variables_fill_only_what_the_string_leaves_out() {
        let env = Environment::from_pairs(
            [
                ("PGHOST", "db.internal"),
                ("PGPORT", "6432"),
                ("PGUSER", "deployer"),
                ("PGDATABASE", "app"),
                ("PGPASSWORD", "from-env"),
                ("PGSSLMODE", "require"),
            ],
            None,
        );
        let from_env = DatabaseTarget::parse_with_env("", &env).unwrap();
        assert_eq!(
            from_env.display(),
            "postgres://deployer:***@db.internal:6432/app?sslmode=require"
        );
        assert_eq!(from_env.config.get_password(), Some(&b"from-env"[..]));
        let explicit =
            DatabaseTarget::parse_with_env("postgres://app:given@other/x?sslmode=disable", &env)
                .unwrap();
        assert_eq!(explicit.config.get_password(), Some(&b"given"[..]));
        assert_eq!(explicit.ssl_mode(), SslMode::Disable);
        assert_eq!(explicit.database(), Some("x"));
        assert_eq!(explicit.config.get_ports(), &[6432], "only what is missing");
        assert!(!explicit.display().contains("given"));
    }

    #[test]
    fn sslrootcert_system_means_verify_full() {
        let env = Environment::default();
        let target =
            DatabaseTarget::parse_with_env("postgres://app@db/app?sslrootcert=system", &env)
                .unwrap();
        assert_eq!(target.ssl_mode(), SslMode::VerifyFull);
        let error = DatabaseTarget::parse_with_env(
            "postgres://app@db/app?sslrootcert=system&sslmode=require",
            &env,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("needs sslmode=verify-full"),
            "{error}"
        );
    }

    #[test]
    fn bad_strings_are_reported_without_their_password() {
        let error =
            DatabaseTarget::parse("postgres://app:secret@db/app?sslmode=verify").unwrap_err();
        assert!(error.to_string().contains("sslmode `verify`"), "{error}");
        assert!(!error.to_string().contains("secret"), "{error}");
        let error = DatabaseTarget::parse("postgres://app:secret@db:notaport/app").unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }
}
