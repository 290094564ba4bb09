//! Backups: [`Backups`] makes, lists, verifies, restores and prunes the
//! backups of one [`Store`]. A backup is `pg_dump`'s custom-format archive
//! of the whole database and its schema snapshot, each compressed (zstd)
//! and encrypted (age), with a plain-text manifest written last: the
//! history version, every table's row count and fingerprint, and every
//! file's sha256. `verify` restores it into a scratch database and
//! compares; `restore` refuses a database that is not empty unless asked
//! to clean it.

pub(crate) mod archive_rows;
pub(crate) mod capture;
mod checked_archive;
mod create;
pub(crate) mod data_restore;
mod encryption;
mod fingerprint;
pub(crate) mod guard;
mod guard_hooks;
mod manifest;
#[cfg(feature = "mongodb")]
mod mongodb;
mod pg_tools;
mod progress;
pub(crate) mod report;
mod restoring;
mod retention;
mod store;

pub use crate::error::backup_problem::BackupProblem;
pub(crate) use data_restore::RestoredTable;
pub use encryption::{Encryption, Identities, Recipient};
pub(crate) use guard::GuardOutcome;
pub use guard::{BackupMode, DataGuard};
pub(crate) use manifest::BackupKind;
pub use manifest::{BackupId, Manifest};
pub(crate) use manifest::{FileContent, MongoCollection, MongoPart};
pub(crate) use report::DataBackupTaken;
pub use report::{BackupCreated, BackupList, BackupRestored, BackupSummary, PruneReport};
pub(crate) use retention::decide;
pub use retention::{Decision, RetentionPolicy};
pub use store::Store;

use crate::config::ConnectOptions;
use crate::model::history::HistoryTable;
use crate::postgres::DatabaseTarget;
use crate::runner::notice::Notice;
use crate::Error;

/// The archive's file name in a backup's folder.
pub(crate) const DUMP_FILE: &str = "postgres.dump.zst.age";
/// The schema snapshot's file name.
pub(crate) const SCHEMA_FILE: &str = "schema.json.zst.age";

/// What `backup create` backs up and how.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// The database.
    pub connection: ConnectOptions,
    /// Its history table (the manifest records the newest version applied).
    pub history: HistoryTable,
    /// How the files are encrypted.
    pub encryption: Encryption,
    /// The MongoDB databases to back up too.
    pub(crate) mongodb: Option<MongoSource>,
}

/// The MongoDB server and databases a backup includes.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "mongodb"), allow(dead_code))]
pub(crate) struct MongoSource {
    /// The server's URI.
    pub uri: String,
    /// The databases (those the project's `schemas/` manages).
    pub databases: Vec<String>,
}

impl BackupOptions {
    /// What a project's configuration backs up: its PostgreSQL database
    /// and, when MongoDB is configured, the databases its `schemas/` manages.
    pub fn of(settings: &crate::config::Settings, encryption: Encryption) -> Result<Self, Error> {
        let mongodb = match &settings.mongodb.uri {
            Some(uri) => {
                let mut databases: Vec<String> =
                    crate::mongo::spec::load_dir(&settings.project.schemas_dir)?
                        .into_iter()
                        .map(|spec| spec.database)
                        .collect();
                databases.sort();
                databases.dedup();
                (!databases.is_empty()).then(|| MongoSource {
                    uri: uri.clone(),
                    databases,
                })
            }
            None => None,
        };
        Ok(Self {
            connection: settings.connection.clone(),
            history: settings.run.history.clone(),
            encryption,
            mongodb,
        })
    }
}

/// How `backup restore` restores.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Drop the archive's objects first when the database is not empty
    /// (`pg_restore --clean --if-exists`); without it a database that is
    /// not empty is refused.
    pub clean: bool,
    /// Leave owners and privileges out (`--no-owner --no-acl`), for a
    /// server without the source's roles.
    pub no_owner: bool,
    /// Where the backup's MongoDB databases go (same names); `None`: they
    /// are not restored (the report says so).
    pub mongodb_uri: Option<String>,
}

/// Where `backup verify` restores a backup: a PostgreSQL server and, for a
/// backup with MongoDB databases, a MongoDB server (never the deploy ones).
#[derive(Debug, Clone)]
pub(crate) struct ScratchServers {
    /// The PostgreSQL server.
    pub postgres: DatabaseTarget,
    /// The MongoDB server's URI (`--mongodb-dev-uri`).
    pub mongodb_uri: Option<String>,
    /// How long connecting may take.
    #[cfg_attr(not(feature = "mongodb"), allow(dead_code))]
    pub connect_timeout: std::time::Duration,
}

impl ScratchServers {
    /// The servers `backup verify` makes its scratch databases on:
    /// `--dev-url` (`[verify] dev_url`), else the embedded development
    /// server when allowed; never the database being backed up.
    pub(crate) async fn of(
        settings: &crate::config::Settings,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<Self, Error> {
        Ok(ScratchServers {
            postgres: crate::runner::session::dev_target(
                &settings.verify,
                &settings.connection,
                notify,
            )
            .await?,
            mongodb_uri: settings.verify.mongodb_dev_uri.clone(),
            connect_timeout: settings.connection.connect_timeout,
        })
    }
}

/// The backups of one store.
#[derive(Debug, Clone)]
pub struct Backups {
    store: Store,
}

impl Backups {
    /// The backups kept in `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Makes a backup of the database `options` names.
    pub async fn create(
        &self,
        options: &BackupOptions,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<BackupCreated, Error> {
        create::create(&self.store, options, notify).await
    }

    /// The whole backups, oldest first.
    pub fn list(&self) -> Result<BackupList, Error> {
        let mut backups: Vec<BackupSummary> = self
            .store
            .ids()?
            .iter()
            .map(|id| self.store.manifest(id).map(|m| BackupSummary::of(&m)))
            .collect::<Result<_, _>>()?;
        backups.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(BackupList {
            store: self.store.label().into(),
            backups,
        })
    }

    /// Restores backup `which` (an id or `latest`) into a new scratch
    /// database and compares it with its manifest:
    /// every file's sha256, every table's rows, the schema (owners and
    /// privileges aside: it is restored without them, so the scratch
    /// server needs none of the source's roles). The scratch database is
    /// dropped afterwards. The scratch servers are `settings`' (`[verify]
    /// dev_url` and `mongodb_dev_uri`, else the embedded development server
    /// when allowed), never the database backed up.
    pub async fn verify(
        &self,
        which: &str,
        identities: Option<&Identities>,
        settings: &crate::config::Settings,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<BackupRestored, Error> {
        let manifest = self.manifest(which)?;
        let scratch = &ScratchServers::of(settings, notify).await?;
        if manifest.captured.is_some() {
            return self.verify_captured(&manifest, identities, scratch).await;
        }
        let schema = restoring::schema(&self.store, &manifest, identities)?;
        let mongodb_differences = self.verify_mongodb(&manifest, identities, scratch).await?;
        let scratch = crate::postgres::scratch::ScratchDatabase::create(&scratch.postgres).await?;
        let target = scratch.target().clone();
        let result = async {
            let restore_ms = restoring::pg_restore(
                &self.store,
                &manifest,
                identities,
                &target,
                &["--no-owner", "--no-acl"],
                notify,
            )
            .await?;
            let compared = restoring::compare(&manifest, Some(schema), &target, true).await?;
            Ok::<_, Error>((restore_ms, compared))
        }
        .await;
        let dropped = scratch.drop_database().await;
        let (restore_ms, (mut differences, schema_diff, rows)) = result?;
        dropped?;
        differences.extend(mongodb_differences);
        Ok(self.restored(
            &manifest,
            target.display(),
            restore_ms,
            differences,
            schema_diff,
            rows,
        ))
    }

    /// Restores the backup of `manifest` (from [`Backups::manifest`]) into
    /// `target`, which must be empty unless `options.clean`; then compares
    /// its rows with the manifest.
    pub async fn restore(
        &self,
        manifest: &Manifest,
        identities: Option<&Identities>,
        target: &DatabaseTarget,
        options: RestoreOptions,
        notify: &mut (dyn FnMut(Notice) + Send),
    ) -> Result<BackupRestored, Error> {
        if let Some(captured) = &manifest.captured {
            return Err(Error::InvalidArgument(format!(
                "backup {} holds only the data migration {} ({}) destroyed: `schemactl rollback --restore-data` puts it back \
                 after the down script, and `schemactl backup export {}` writes it as COPY files",
                manifest.id, captured.version, captured.migration, manifest.id
            )));
        }
        let mongodb = self.mongodb_target(manifest, &options).await?;
        let client = target.connect().await?;
        let empty = crate::catalog::reading::snapshot(&client, &[])
            .await?
            .is_empty();
        drop(client);
        if !empty && !options.clean {
            return Err(Error::refused(
                crate::error::refusal::RefusalKind::Backup,
                format!(
                    "{} is not empty: nothing was restored; restore into an empty database, or pass --clean to drop \
                     the backup's objects there first (objects the backup does not have are left as they are)",
                    target.display()
                ),
            ));
        }
        let mut extra = Vec::new();
        if options.clean {
            extra.extend(["--clean", "--if-exists"]);
        }
        if options.no_owner {
            extra.extend(["--no-owner", "--no-acl"]);
        }
        let restore_ms =
            restoring::pg_restore(&self.store, manifest, identities, target, &extra, notify)
                .await?;
        #[cfg_attr(not(feature = "mongodb"), allow(unused_mut))]
        let (mut differences, _, rows) = restoring::compare(manifest, None, target, false).await?;
        let mut notes = Vec::new();
        match (&manifest.mongodb, mongodb) {
            (Some(part), None) => notes.push(format!(
                "the backup's MongoDB databases ({}) were not restored: name their server with --mongodb-uri",
                part.databases.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
            )),
            #[cfg(feature = "mongodb")]
            (Some(part), Some(client)) => {
                for database in &part.databases {
                    let metadata = mongodb::restore_into(
                        &self.store,
                        manifest,
                        identities,
                        &client,
                        database,
                        &database.name,
                    )
                    .await?;
                    differences.extend(
                        mongodb::compare(&client, database, &metadata, &database.name).await?,
                    );
                }
            }
            _ => {}
        }
        let mut report = self.restored(
            manifest,
            target.display(),
            restore_ms,
            differences,
            String::new(),
            rows,
        );
        report.notes = notes;
        Ok(report)
    }

    /// The MongoDB server a restore writes to, checked before anything is
    /// restored: none of the backup's collections may be there (with
    /// `clean`, they are dropped).
    #[cfg(feature = "mongodb")]
    async fn mongodb_target(
        &self,
        manifest: &Manifest,
        options: &RestoreOptions,
    ) -> Result<Option<::mongodb::Client>, Error> {
        let (Some(part), Some(uri)) = (&manifest.mongodb, &options.mongodb_uri) else {
            return Ok(None);
        };
        let client = crate::mongo::MongoTarget::parse(uri)?
            .connect_within(std::time::Duration::from_secs(10))
            .await?;
        for database in &part.databases {
            let names = client
                .database(&database.name)
                .list_collection_names()
                .await
                .map_err(|e| Error::Database {
                    context: format!("cannot list the collections of {}", database.name),
                    message: crate::mongo::live::server_message(&e),
                    sqlstate: None,
                })?;
            for collection in &database.collections {
                if !names.contains(&collection.name) {
                    continue;
                }
                if !options.clean {
                    return Err(Error::refused(
                        crate::error::refusal::RefusalKind::Backup,
                        format!(
                            "MongoDB collection {}.{} exists: nothing was restored; pass --clean to drop the backup's \
                             collections there first",
                            database.name, collection.name
                        ),
                    ));
                }
                let _ = client
                    .database(&database.name)
                    .collection::<::mongodb::bson::Document>(&collection.name)
                    .drop()
                    .await;
            }
        }
        Ok(Some(client))
    }

    #[cfg(not(feature = "mongodb"))]
    async fn mongodb_target(
        &self,
        manifest: &Manifest,
        options: &RestoreOptions,
    ) -> Result<Option<()>, Error> {
        match (&manifest.mongodb, &options.mongodb_uri) {
            (Some(_), Some(_)) => Err(Error::InvalidArgument(
                "this schemactl is built without MongoDB support: it cannot restore the backup's MongoDB databases".into(),
            )),
            _ => Ok(None),
        }
    }

    /// Restores the backup's MongoDB databases into scratch databases on
    /// the MongoDB development server, compares them, and drops them.
    async fn verify_mongodb(
        &self,
        manifest: &Manifest,
        identities: Option<&Identities>,
        scratch: &ScratchServers,
    ) -> Result<Vec<String>, Error> {
        let Some(part) = &manifest.mongodb else {
            return Ok(Vec::new());
        };
        let Some(uri) = &scratch.mongodb_uri else {
            return Err(Error::InvalidArgument(format!(
                "backup {} holds MongoDB databases ({}): verify restores them on a development server, never the deploy one; \
                 give one with --mongodb-dev-uri (or `[verify] mongodb_dev_uri`)",
                manifest.id,
                part.databases.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        };
        #[cfg(feature = "mongodb")]
        {
            let client = crate::mongo::MongoTarget::parse(uri)?
                .connect_within(scratch.connect_timeout)
                .await?;
            let mut differences = Vec::new();
            for (n, database) in part.databases.iter().enumerate() {
                let into = format!("schemactl_scratch_{}_{n}", std::process::id());
                let _ = client.database(&into).drop().await;
                let result = async {
                    let metadata = mongodb::restore_into(
                        &self.store,
                        manifest,
                        identities,
                        &client,
                        database,
                        &into,
                    )
                    .await?;
                    mongodb::compare(&client, database, &metadata, &into).await
                }
                .await;
                let _ = client.database(&into).drop().await;
                differences.extend(result?);
            }
            Ok(differences)
        }
        #[cfg(not(feature = "mongodb"))]
        {
            let _ = (uri, identities);
            Err(Error::InvalidArgument(format!(
                "backup {} holds MongoDB databases, and this schemactl is built without MongoDB support",
                manifest.id
            )))
        }
    }

    /// Writes backup `which` into `output` (a new or empty directory) as
    /// plain files, its files checked first: `postgres.dump` (for
    /// `pg_restore`), `schema.json`, and `mongodb/<db>/<collection>.bson`
    /// with `.metadata.json` (for `mongorestore`), each 0600. Returns the
    /// paths written.
    pub fn export(
        &self,
        which: &str,
        identities: Option<&Identities>,
        output: &std::path::Path,
    ) -> Result<Vec<std::path::PathBuf>, Error> {
        let manifest = self.store.find(which)?;
        restoring::check_files(&self.store, &manifest)?;
        let io = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        if std::fs::read_dir(output).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(Error::InvalidArgument(format!(
                "{} is not empty: export writes into a new or empty directory",
                output.display()
            )));
        }
        let mut written = Vec::new();
        for file in &manifest.files {
            let plain = file.name.strip_suffix(".zst.age").unwrap_or(&file.name);
            let path = output.join(plain);
            if let Some(parent) = path.parent() {
                std::os::unix::fs::DirBuilderExt::mode(
                    std::fs::DirBuilder::new().recursive(true),
                    0o700,
                )
                .create(parent)
                .map_err(io(parent))?;
            }
            let mut target = std::os::unix::fs::OpenOptionsExt::mode(
                std::fs::OpenOptions::new().write(true).create_new(true),
                0o600,
            )
            .open(&path)
            .map_err(io(&path))?;
            let mut source = restoring::open(&self.store, &manifest, file, identities)?;
            std::io::copy(&mut source, &mut target).map_err(io(&path))?;
            written.push(path);
        }
        Ok(written)
    }

    /// The backup's manifest, its files checked first (the archive as it
    /// streams into `pg_restore`).
    /// Backup `which`'s manifest (an id, `latest` or a prefix), once every
    /// file it lists but the streamed dump is in the store with the
    /// checksum it recorded (the dump is checked as it streams).
    pub fn manifest(&self, which: &str) -> Result<Manifest, Error> {
        let manifest = self.store.find(which)?;
        let streamed = manifest
            .captured
            .is_none()
            .then_some(FileContent::PostgresDump);
        restoring::check_files_but(&self.store, &manifest, streamed)?;
        Ok(manifest)
    }

    /// A pre-migration backup verified: each table's rows loaded into a
    /// scratch database and counted and fingerprinted again.
    async fn verify_captured(
        &self,
        manifest: &Manifest,
        identities: Option<&Identities>,
        scratch: &ScratchServers,
    ) -> Result<BackupRestored, Error> {
        let scratch = crate::postgres::scratch::ScratchDatabase::create(&scratch.postgres).await?;
        let target = scratch.target().clone();
        let started = std::time::Instant::now();
        let result = async {
            let client = target.connect().await?;
            data_restore::compare(&client, &self.store, manifest, identities).await
        }
        .await;
        let restore_ms = started.elapsed().as_millis() as u64;
        let dropped = scratch.drop_database().await;
        let (differences, rows) = result?;
        dropped?;
        Ok(self.restored(
            manifest,
            target.display(),
            restore_ms,
            differences,
            String::new(),
            rows,
        ))
    }

    fn restored(
        &self,
        manifest: &Manifest,
        database: &str,
        restore_ms: u64,
        differences: Vec<String>,
        schema_diff: String,
        rows: i64,
    ) -> BackupRestored {
        BackupRestored {
            store: self.store.label().into(),
            id: manifest.id.clone(),
            database: database.into(),
            ok: differences.is_empty() && schema_diff.is_empty(),
            restore_ms,
            tables: manifest.postgres.tables.len(),
            rows,
            differences,
            schema_diff,
            notes: Vec::new(),
        }
    }

    /// Deletes the backups `policy` does not keep (with `dry_run`, only
    /// says which). A policy that keeps nothing is refused.
    ///
    /// Pre-migration backups (what `rollback --restore-data` reads) are
    /// kept whatever the policy says, unless `force`: then they are pruned
    /// by the same policy as full backups, each kind on its own.
    pub fn prune(
        &self,
        policy: &RetentionPolicy,
        dry_run: bool,
        force: bool,
    ) -> Result<PruneReport, Error> {
        if policy.keeps_nothing() {
            return Err(Error::InvalidArgument(
                "prune needs a policy that keeps something: --keep-last, --keep-daily, --keep-weekly or --keep-monthly \
                 (or `[backup] keep_*` in schemactl.toml); nothing was deleted"
                    .into(),
            ));
        }
        let (mut full, mut pre_migration) = (Vec::new(), Vec::new());
        for id in self.store.ids()? {
            let manifest = self.store.manifest(&id)?;
            match manifest.kind {
                BackupKind::Full => full.push((id, manifest.created_at)),
                BackupKind::PreMigration => pre_migration.push((id, manifest.created_at)),
            }
        }
        let mut decisions = decide(policy, &full);
        if force {
            decisions.extend(decide(policy, &pre_migration));
        } else {
            decisions.extend(pre_migration.into_iter().map(|(id, created_at)| Decision {
                id,
                created_at,
                kept_by: vec!["pre-migration"],
            }));
        }
        decisions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let (kept, deleted): (Vec<Decision>, Vec<Decision>) =
            decisions.into_iter().partition(Decision::keep);
        if !dry_run {
            for decision in &deleted {
                self.store.delete(&decision.id)?;
            }
        }
        Ok(PruneReport {
            store: self.store.label().into(),
            dry_run,
            kept,
            deleted,
        })
    }
}
