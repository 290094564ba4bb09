//! The verbs that span both databases, as a deploy pipeline runs them:
//! PostgreSQL first, then MongoDB when it is configured. The CLI's
//! `migrate`, `status`, `rollback --collection` and `verify` are these
//! calls.
//!
//! Built without the `mongodb` cargo feature, schemactl handles PostgreSQL
//! only; a configured MongoDB URI is then an error, never silently skipped.

use crate::config::Settings;
use crate::model::plan::MigrateOptions;
use crate::mongo::report::{
    CollectionStatus, CollectionVerification, MongoOptions, MongoReport, RollbackTarget,
};
use crate::runner::Notice;
use crate::runner::{RunReport, StatusReport};
use crate::Error;

/// The verbs of a deploy over both databases of one configured project,
/// PostgreSQL first, then MongoDB when it is configured.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    settings: &'a Settings,
}

impl<'a> Deployment<'a> {
    /// The deploy of the project `settings` configure.
    pub fn of(settings: &'a Settings) -> Self {
        Self { settings }
    }

    /// Applies the pending PostgreSQL migrations, then the changed MongoDB
    /// specs (`mongodb.dry_run` makes both a dry run), with backups around
    /// the migrations as `guard` says.
    pub async fn migrate(
        &self,
        postgres: MigrateOptions,
        mongodb: MongoOptions,
        guard: Option<crate::backup::DataGuard>,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<DeployReport, Error> {
        let mut migrator = crate::Migrator::of_project(self.settings);
        if let Some(guard) = guard {
            migrator = migrator.with_data_guard(guard);
        }
        let report = migrator.run(postgres, mongodb.dry_run, notify).await?;
        let mongodb = mongodb_migrate(self.settings, mongodb, notify).await?;
        Ok(DeployReport {
            postgres: report,
            mongodb,
        })
    }

    /// The state of every PostgreSQL migration and every MongoDB collection.
    pub async fn status(
        &self,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<DeployReport<StatusReport, Vec<CollectionStatus>>, Error> {
        let postgres = crate::Migrator::of_project(self.settings)
            .status(false, notify)
            .await?;
        let mongodb = mongodb_status(self.settings).await?;
        Ok(DeployReport { postgres, mongodb })
    }

    /// Restores the previously recorded MongoDB specs (`rollback
    /// --collection` or `--mongodb-last-run`); in a build without MongoDB,
    /// always an error saying so.
    pub async fn rollback_mongodb(
        &self,
        target: &RollbackTarget,
        options: MongoOptions,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<MongoReport, Error> {
        rollback_mongodb(self.settings, target, options, notify).await
    }

    /// Verifies each MongoDB spec on scratch databases of the development
    /// server; `None` when MongoDB is not configured (in a build without
    /// MongoDB, an error when a MongoDB URI is).
    pub async fn verify_mongodb(&self) -> Result<Option<Vec<CollectionVerification>>, Error> {
        verify_mongodb(self.settings).await
    }
}

/// What a deploy verb did or found on each database: PostgreSQL's report,
/// and MongoDB's when MongoDB is configured. `migrate` gives the default
/// ([`RunReport`], [`MongoReport`]); `status` gives [`StatusReport`] and
/// each collection's [`CollectionStatus`].
#[derive(Debug, Clone)]
pub struct DeployReport<P = RunReport, M = MongoReport> {
    /// The PostgreSQL side.
    pub postgres: P,
    /// The MongoDB side; `None` when MongoDB is not configured.
    pub mongodb: Option<M>,
}

#[cfg(feature = "mongodb")]
async fn mongodb_migrate(
    settings: &Settings,
    options: MongoOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<Option<MongoReport>, Error> {
    let Some((target, client)) = crate::mongo::runner::connect(settings).await? else {
        return Ok(None);
    };
    crate::mongo::runner::migrate(settings, &client, target.display(), options, notify)
        .await
        .map(Some)
}

#[cfg(feature = "mongodb")]
async fn mongodb_status(settings: &Settings) -> Result<Option<Vec<CollectionStatus>>, Error> {
    match crate::mongo::runner::connect(settings).await? {
        Some((_, client)) => Ok(Some(crate::mongo::runner::status(settings, &client).await?)),
        None => Ok(None),
    }
}

/// Restores the previously recorded MongoDB specs (`rollback --collection`
/// or `--mongodb-last-run`).
#[cfg(feature = "mongodb")]
async fn rollback_mongodb(
    settings: &Settings,
    target: &RollbackTarget,
    options: MongoOptions,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<MongoReport, Error> {
    let Some((server, client)) = crate::mongo::runner::connect(settings).await? else {
        return Err(Error::InvalidArgument(
            "MongoDB is not configured: set MONGODB_URI or --mongodb-uri".into(),
        ));
    };
    crate::mongo::runner::rollback(settings, &client, server.display(), target, options, notify)
        .await
}

/// Verifies each MongoDB spec on scratch databases of the development
/// server; `None` when MongoDB is not configured.
#[cfg(feature = "mongodb")]
async fn verify_mongodb(settings: &Settings) -> Result<Option<Vec<CollectionVerification>>, Error> {
    let Some(dev) = crate::mongo::runner::connect_dev(settings).await? else {
        return Ok(None);
    };
    let deployed = crate::mongo::runner::connect(settings).await?;
    crate::mongo::runner::verify(settings, &dev, deployed.as_ref().map(|(_, c)| c))
        .await
        .map(Some)
}

/// The error of a MongoDB setting given to a build without MongoDB.
#[cfg(not(feature = "mongodb"))]
fn without_mongodb(settings: &Settings) -> Result<(), Error> {
    if settings.mongodb.uri.is_some() || settings.verify.mongodb_dev_uri.is_some() {
        return Err(Error::InvalidArgument(
            "this schemactl was built without MongoDB support (cargo feature `mongodb`), but a MongoDB URI is configured: \
             use a build with the feature (the default), or unset MONGODB_URI / --mongodb-uri / [mongodb] uri"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(not(feature = "mongodb"))]
async fn mongodb_migrate(
    settings: &Settings,
    _: MongoOptions,
    _: &mut (dyn FnMut(Notice) + Send),
) -> Result<Option<MongoReport>, Error> {
    without_mongodb(settings).map(|()| None)
}

#[cfg(not(feature = "mongodb"))]
async fn mongodb_status(settings: &Settings) -> Result<Option<Vec<CollectionStatus>>, Error> {
    without_mongodb(settings).map(|()| None)
}

/// Restores the previously recorded MongoDB specs: in a build without
/// MongoDB, always an error saying so.
#[cfg(not(feature = "mongodb"))]
async fn rollback_mongodb(
    settings: &Settings,
    _: &RollbackTarget,
    _: MongoOptions,
    _: &mut (dyn FnMut(Notice) + Send),
) -> Result<MongoReport, Error> {
    without_mongodb(settings)?;
    Err(Error::InvalidArgument(
        "this schemactl was built without MongoDB support (cargo feature `mongodb`); it cannot roll back MongoDB collections".into(),
    ))
}

/// Verifies each MongoDB spec: in a build without MongoDB, `None` (an error
/// when a MongoDB URI is configured).
#[cfg(not(feature = "mongodb"))]
async fn verify_mongodb(settings: &Settings) -> Result<Option<Vec<CollectionVerification>>, Error> {
    without_mongodb(settings).map(|()| None)
}
