//! Reaching a MongoDB server. TLS and authentication options are passed
//! through the URI (`tls=true&tlsCAFile=…`, `authSource=…`); the URI is
//! redacted in everything schemactl prints.

use crate::redact::redact;
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
        let display = redact(uri);
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

    /// Connects and checks that the server answers (the driver connects lazily).
    pub async fn connect(&self) -> Result<Client, Error> {
        let failed = |e: mongodb::error::Error| Error::Connect {
            target: self.display.clone(),
            message: scrub(&e.to_string(), &self.uri),
        };
        let mut options = ClientOptions::parse(&self.uri).await.map_err(failed)?;
        options.app_name.get_or_insert_with(|| "schemactl".into());
        options
            .server_selection_timeout
            .get_or_insert(Duration::from_secs(10));
        options
            .connect_timeout
            .get_or_insert(Duration::from_secs(10));
        let client = Client::with_options(options).map_err(failed)?;
        client
            .database("admin")
            .run_command(mongodb::bson::doc! { "ping": 1 })
            .await
            .map_err(failed)?;
        Ok(client)
    }
}

/// Driver errors can quote the URI; never let its password through.
pub(crate) fn scrub(message: &str, uri: &str) -> String {
    let mut out = message.replace(uri, &redact(uri));
    if let Ok(url) = url::Url::parse(uri) {
        if let Some(password) = url.password().filter(|p| !p.is_empty()) {
            out = out.replace(password, "***");
        }
    }
    out
}
