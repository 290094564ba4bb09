//! `schemactl backup`: one function per action, calling
//! [`schemactl::backup::Backups`] and printing its report.

use crate::dispatch::emit;
use crate::opt::{BackupAction, Format, IdentityArg};
use crate::render;
use schemactl::backup::{
    self, BackupOptions, Backups, Encryption, Identities, RestoreOptions, RetentionPolicy, Store,
};
use schemactl::config::Settings;
use schemactl::postgres::DatabaseTarget;
use schemactl::runner::Notice;
use schemactl::{Error, ExitCode};

/// Runs one backup action.
pub async fn backup(
    settings: &Settings,
    action: BackupAction,
    format: Format,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    if let BackupAction::Keygen { output } = &action {
        return keygen(output, format);
    }
    let store = Store::parse(settings.backup.store.as_deref().unwrap_or_default())?;
    let backups = Backups::new(store);
    match action {
        BackupAction::Keygen { .. } => Ok(ExitCode::Ok),
        BackupAction::Create { no_encrypt, .. } => {
            let encryption = Encryption::of(settings.backup.recipients.clone(), no_encrypt)?;
            let options = BackupOptions::of(settings, encryption)?;
            let report = backups.create(&options, notify).await?;
            crate::metrics_file::note(crate::metrics::of_backup_created(&report));
            emit(format, &report, || render::backup_created(&report));
            Ok(ExitCode::Ok)
        }
        BackupAction::List => {
            let report = backups.list()?;
            emit(format, &report, || render::backup_list(&report));
            Ok(ExitCode::Ok)
        }
        BackupAction::Verify { backup, key } => {
            let identities = identities(&key)?;
            let report = backups
                .verify(&backup, identities.as_ref(), settings, notify)
                .await?;
            crate::metrics_file::note(crate::metrics::of_backup_verified(&report));
            emit(format, &report, || {
                render::backup_restored(&report, "Verified")
            });
            Ok(ExitCode::of_check(!report.ok))
        }
        BackupAction::Restore {
            backup,
            key,
            clean,
            no_owner,
            overwrite_deploy_database,
        } => {
            let target = restore_target(settings, overwrite_deploy_database)?;
            let identities = identities(&key)?;
            let manifest = backups.manifest(&backup)?;
            let mongodb_uri = match manifest.includes_mongodb() {
                true => mongodb_restore_target(settings, overwrite_deploy_database)?,
                false => None,
            };
            let options = RestoreOptions {
                clean,
                no_owner,
                mongodb_uri,
            };
            let report = backups
                .restore(&manifest, identities.as_ref(), &target, options, notify)
                .await?;
            emit(format, &report, || {
                render::backup_restored(&report, "Restored")
            });
            Ok(ExitCode::of_check(!report.ok))
        }
        BackupAction::Export {
            backup,
            key,
            output,
        } => {
            let written = backups.export(&backup, identities(&key)?.as_ref(), &output)?;
            let report = serde_json::json!({
                "output": output.display().to_string(),
                "files": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            });
            emit(format, &report, || {
                format!(
                    "Wrote {} files to {} (pg_restore reads postgres.dump; mongorestore reads mongodb/)\n",
                    written.len(),
                    output.display()
                )
            });
            Ok(ExitCode::Ok)
        }
        BackupAction::Prune {
            keep_last,
            keep_daily,
            keep_weekly,
            keep_monthly,
            dry_run,
            force,
        } => {
            let filed = settings.backup.retention;
            let policy = RetentionPolicy {
                keep_last: keep_last.unwrap_or(filed.keep_last),
                keep_daily: keep_daily.unwrap_or(filed.keep_daily),
                keep_weekly: keep_weekly.unwrap_or(filed.keep_weekly),
                keep_monthly: keep_monthly.unwrap_or(filed.keep_monthly),
            };
            let report = backups.prune(&policy, dry_run, force)?;
            emit(format, &report, || render::prune(&report));
            Ok(ExitCode::Ok)
        }
    }
}

/// `backup keygen --output FILE`: the identity in a new 0600 file, its
/// recipient on stdout.
fn keygen(output: &std::path::Path, format: Format) -> Result<ExitCode, Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let (text, recipient) = backup::Identities::generate(&now);
    let io = |source| Error::Io {
        path: output.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(output)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    let report = serde_json::json!({
        "identity": output.display().to_string(),
        "recipient": recipient.to_string(),
    });
    emit(format, &report, || {
        format!(
            "Wrote the identity (the private key; keep it apart from the backups) to {}\n\
             Its recipient, for `[backup] recipients` or --recipient:\n{recipient}\n",
            output.display()
        )
    });
    Ok(ExitCode::Ok)
}

fn identities(key: &IdentityArg) -> Result<Option<Identities>, Error> {
    key.identity.as_deref().map(Identities::read).transpose()
}

/// The database `restore` writes into: named with --database-url, and
/// not the deploy database (`DATABASE_URL`, `[postgres] url`) unless
/// `--overwrite-deploy-database`.
fn restore_target(settings: &Settings, overwrite_deploy: bool) -> Result<DatabaseTarget, Error> {
    let refused =
        |message: String| Error::refused(schemactl::refusal::RefusalKind::Backup, message);
    let Some(url) = &settings.connection.url else {
        return Err(Error::InvalidArgument(
            "backup restore needs its target: --database-url URL (an empty database)".into(),
        ));
    };
    let target = DatabaseTarget::parse(url)?;
    let named_on_command_line = settings.connection.url_source == "--database-url";
    let deploy = std::env::var("DATABASE_URL")
        .ok()
        .and_then(|url| DatabaseTarget::parse(&url).ok());
    let is_deploy =
        !named_on_command_line || deploy.is_some_and(|deploy| deploy.same_database(&target));
    if is_deploy && !overwrite_deploy {
        return Err(refused(format!(
            "{} is the deploy database (from {}): nothing was restored. Name the target with --database-url; \
             to restore into the deploy database itself, also pass --overwrite-deploy-database",
            target.display(),
            if named_on_command_line { "DATABASE_URL" } else { settings.connection.url_source.as_str() }
        )));
    }
    Ok(target)
}

/// The MongoDB server `restore` writes the backup's collections to: the
/// `--mongodb-uri` given, unless it is the deploy server (`MONGODB_URI`)
/// and `--overwrite-deploy-database` was not passed.
fn mongodb_restore_target(
    settings: &Settings,
    overwrite_deploy: bool,
) -> Result<Option<String>, Error> {
    let Some(uri) = &settings.mongodb.uri else {
        return Ok(None);
    };
    let deploy = std::env::var("MONGODB_URI").ok();
    if deploy.as_deref() == Some(uri.as_str()) && !overwrite_deploy {
        return Err(Error::refused(
            schemactl::refusal::RefusalKind::Backup,
            "the MongoDB server to restore into is the deploy server (MONGODB_URI): nothing was restored. \
             Name another with --mongodb-uri, or pass --overwrite-deploy-database to restore into it"
                .into(),
        ));
    }
    Ok(Some(uri.clone()))
}
