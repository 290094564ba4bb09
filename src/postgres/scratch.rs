//! Throwaway databases for `verify` and `diff`, created on a development
//! server (`--dev-url`, or the embedded one) from `template0`, so that they
//! start empty, and dropped afterwards.

use super::history_table::database;
use super::DatabaseTarget;
use crate::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_postgres::Client;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A database that exists for the duration of one command.
pub struct ScratchDatabase {
    admin: Client,
    name: String,
    target: DatabaseTarget,
}

impl ScratchDatabase {
    /// Creates an empty database on the server of `dev`.
    pub async fn create(dev: &DatabaseTarget) -> Result<Self, Error> {
        let admin = dev.connect().await?;
        let name = format!(
            "schemactl_scratch_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .await
            .map_err(|e| {
                let mut error = database(&format!("cannot create a scratch database on {}", dev.display()), &e);
                if let Error::Database { message, .. } = &mut error {
                    message.push_str(" (the dev server's user needs CREATEDB; or point --dev-url at a server where it has it)");
                }
                error
            })?;
        Ok(Self {
            admin,
            target: dev.with_database(&name),
            name,
        })
    }

    /// Where it is.
    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }

    /// Drops it (ending any session still connected to it).
    pub async fn drop_database(self) -> Result<(), Error> {
        self.admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .map_err(|e| {
                database(
                    &format!("cannot drop the scratch database {}", self.name),
                    &e,
                )
            })
    }
}
