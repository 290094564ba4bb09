//! Reaching a MongoDB server. TLS and authentication options are passed
//! through the URI (`tls=true&tlsCAFile=…`, `authSource=…`); the URI is
//! redacted in everything schemactl prints.

use crate::Error;
use mongodb::options::ClientOptions;
use mongodb::Client;
use std::time::Duration;

/// A parsed MongoDB URI.
#[derive(Debug, Clone)]
pub struct MongoTarget {
    uri: String,
    display: String,
}

impl MongoTarget {
    /// Wraps a `mongodb://` or `mongodb+srv://` URI.
    pub fn parse(uri: &str) -> Result<Self, Error> {
        let display = describe_uri(uri);
        if !(uri.starts_with("mongodb://") || uri.starts_with("mongodb+srv://")) {
            return Err(Error::Config {
                path: "MongoDB URI".into(),
                message: "the URI is not mongodb://host:port/… or mongodb+srv://… (it is not shown: a password in it could not be redacted)".into(),
            });
        }
        Ok(Self {
            uri: uri.to_string(),
            display,
        })
    }

    /// The URI without its password.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Whether two URIs name the same server(s): the host lists, compared
    /// without user, password, database or options.
    pub fn same_servers(&self, other: &MongoTarget) -> bool {
        fn hosts(uri: &str) -> Vec<String> {
            let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
            let rest = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            let mut hosts: Vec<String> = rest[..end]
                .split(',')
                .map(|h| {
                    let h = h.to_ascii_lowercase();
                    let h = h.replace("localhost", "127.0.0.1");
                    if h.contains(':') {
                        h
                    } else {
                        format!("{h}:27017")
                    }
                })
                .collect();
            hosts.sort();
            hosts
        }
        hosts(&self.uri) == hosts(&other.uri)
    }

    /// Connects and checks that the server answers (the driver connects
    /// lazily), waiting at most `timeout` for a server to be selected unless
    /// the URI says otherwise (`serverSelectionTimeoutMS`).
    pub async fn connect_within(&self, timeout: Duration) -> Result<Client, Error> {
        let failed = |e: mongodb::error::Error| Error::Connect {
            target: self.display.clone(),
            message: scrub(&e.to_string(), &self.uri),
        };
        let mut options = ClientOptions::parse(&self.uri).await.map_err(failed)?;
        options.app_name.get_or_insert_with(|| "schemactl".into());
        options.server_selection_timeout.get_or_insert(timeout);
        options.connect_timeout.get_or_insert(timeout);
        let client = Client::with_options(options).map_err(failed)?;
        client
            .database("admin")
            .run_command(mongodb::bson::doc! { "ping": 1 })
            .await
            .map_err(failed)?;
        Ok(client)
    }
}

/// Options of a MongoDB URI whose values are secrets.
const SECRET_OPTIONS: &[&str] = &[
    "authmechanismproperties",
    "tlscertificatekeyfilepassword",
    "password",
];

/// What is shown for a MongoDB URI: the user and everything after the
/// credentials, with the password and secret options replaced by `***`.
/// The credentials end at the last `@`, as for the driver, so a password
/// with an unencoded `/`, `?`, `#` or `@` is cut out whole.
fn describe_uri(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return "(a MongoDB URI that is not shown)".into();
    };
    let (user, hosts) = match rest.rfind('@') {
        Some(at) => {
            let credentials = &rest[..at];
            let user = credentials.split(':').next().unwrap_or_default();
            (format!("{user}:***@"), &rest[at + 1..])
        }
        None => (String::new(), rest),
    };
    let hosts = match hosts.split_once('?') {
        Some((before, query)) => {
            let options: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _))
                        if SECRET_OPTIONS.contains(&key.to_ascii_lowercase().as_str()) =>
                    {
                        format!("{key}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{before}?{}", options.join("&"))
        }
        None => hosts.to_string(),
    };
    format!("{scheme}://{user}{hosts}")
}

/// Driver errors can quote the URI or its parts; never let its password
/// through: a second line of defence behind [`describe_uri`].
pub(crate) fn scrub(message: &str, uri: &str) -> String {
    let mut out = message.replace(uri, &describe_uri(uri));
    let credentials = uri
        .split_once("://")
        .and_then(|(_, rest)| rest.rfind('@').map(|at| &rest[..at]));
    if let Some((_, password)) = credentials.and_then(|c| c.split_once(':')) {
        if !password.is_empty() {
            out = out.replace(password, "***");
            let decoded: String = url::form_urlencoded::parse(format!("p={password}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect();
            if !decoded.is_empty() {
                out = out.replace(&decoded, "***");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_shown_uri_whatever_they_contain() {
        for password in ["s3cret", "pa/ss", "pa?ss", "pa#ss", "pa@ss", "p%40ss"] {
            let uri = format!("mongodb://app:{password}@db.internal:27017/app?tls=true");
            let shown = MongoTarget::parse(&uri).unwrap().display().to_string();
            assert!(!shown.contains(password), "{shown}");
            assert_eq!(shown, "mongodb://app:***@db.internal:27017/app?tls=true");
        }
        assert_eq!(
            describe_uri("mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:abc"),
            "mongodb://h/?authMechanismProperties=***"
        );
        assert_eq!(
            scrub("failed for pa/ss and pa%2Fss", "mongodb://u:pa%2Fss@h"),
            "failed for *** and ***"
        );
    }
}
