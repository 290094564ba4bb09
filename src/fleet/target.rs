//! One member of a fleet: a tenant database (a connection string), or a
//! tenant schema of one database. Its name is what every report and ledger
//! shows: the connection string with its password removed, or the schema.

use crate::config::Settings;
use crate::model::history::HistoryTable;
use crate::model::identifier::Identifier;
use crate::postgres::DatabaseTarget;
use crate::Error;

/// A database or tenant schema the fleet verbs run on.
#[derive(Clone)]
pub(crate) struct Target {
    name: String,
    url: String,
    schema: Option<Identifier>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("Target").field("name", &self.name).finish()
    }
}

impl Target {
    /// A tenant database. The connection string is checked here; its
    /// password is kept for connecting and shown nowhere.
    pub fn database(url: &str) -> Result<Self, Error> {
        let parsed = DatabaseTarget::parse(url)?;
        Ok(Self {
            name: parsed.display().to_string(),
            url: url.to_string(),
            schema: None,
        })
    }

    /// Tenant schema `schema` of the database at `url`.
    pub fn schema(url: &str, schema: Identifier) -> Self {
        Self {
            name: schema.as_str().to_string(),
            url: url.to_string(),
            schema: Some(schema),
        }
    }

    /// What reports and ledgers call it (no password).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tenant schema, in schema-per-tenant mode.
    pub fn tenant_schema(&self) -> Option<&Identifier> {
        self.schema.as_ref()
    }

    /// The settings of a single-database run on this target: its URL, and
    /// for a tenant schema that schema first on `search_path` with the
    /// history table inside it.
    pub fn settings(&self, base: &Settings) -> Result<Settings, Error> {
        let mut settings = base.clone();
        settings.connection.url = Some(self.url.clone());
        settings.connection.url_source = format!("fleet target {}", self.name);
        settings.connection.dev_server = None;
        if let Some(schema) = &self.schema {
            settings.run.history =
                HistoryTable::new(schema.clone(), base.run.history.table().clone())
                    .map_err(Error::InvalidArgument)?;
            settings.connection.tenant_schema = Some(schema.clone());
        }
        Ok(settings)
    }
}
