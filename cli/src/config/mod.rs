//! Configuration: command-line flags, then environment variables (`DATABASE_URL`,
//! handled by the CLI), then `schemactl.toml`, then defaults.
//!
//! ```toml
//! migrations_dir = "migrations"      # relative to this file
//! layout = "diesel"                  # detected when absent (schemactl, sqlx, golang-migrate, diesel, dbmate, goose, flyway, pop),
//!                                    # or a naming pattern: "V{version}.{name}.{direction}.sql"
//! strict = false                     # a .sql file the layout cannot place is an error
//! allow_empty = false                # an empty migrations directory is expected
//! multi_statement = false            # golang-migrate's x-multi-statement: each statement commits on its own
//!
//! [postgres]
//! url = "postgres://app@db/app"      # prefer DATABASE_URL for anything with a password
//! history_schema = "public"
//! history_table = "schema_versions"
//! lock_timeout = "5s"                # SET LOCAL lock_timeout for each migration
//! statement_timeout = "0"            # SET LOCAL statement_timeout (0: no limit)
//! lock_wait = "60s"                  # how long to wait for another run's migration lock
//! lock_retries = 3                   # retries of a migration that timed out on a table lock
//! lock_retry_budget = "60s"          # the most those retries may take together
//! lock_mode = "advisory"             # or "table": a lease row, through a transaction pooler
//! lock_ttl = "10min"                 # the lease of lock_mode = "table"
//! role = "app_owner"                 # run the migrations as this role (the login user is a member)
//! allow_non_empty = false            # migrate a database with tables but no schemactl history
//!
//! [verify]
//! dev_url = "postgres://dev@localhost/postgres"   # else the embedded server
//! column_order = "warning"           # error / warning / ignore
//! volatile_literal = "warning"       # a definition differing only in timestamp literals
//! ignore = ["ownership"]             # leave out of the comparison: privileges, ownership
//! exclude = ["audit_*", "partman.*"] # objects dump, diff and verify leave out (globs)
//!
//! [mongodb]
//! uri = "mongodb://db:27017/"        # prefer MONGODB_URI for anything with a password
//! lock_ttl = "10min"                 # a dead run's lock frees itself after this
//!
//! [backup]
//! store = "/var/backups/schemactl"   # a directory (relative to this file) or file:///path
//! recipients = ["age1…"]             # backups are encrypted to these keys (`backup keygen`)
//! keep_daily = 7                     # backup prune: also keep_last, keep_weekly, keep_monthly
//!
//! [lint]
//! deny_warnings = false
//! [lint.rules]
//! char-type = "off"                  # error / warning / off
//! ```
//!
//! Unknown keys and wrong types are errors that name the file, line and key;
//! every unknown key and every wrong value is reported at once.
//!
//! The values become the library's typed [`Settings`] (and the `[fleet]`
//! table, which the fleet verbs read as written) in `resolve`; nothing past
//! it sees text.

mod file_config;
mod file_reading;
mod overrides;
mod resolve;

pub(crate) use file_config::{file_schema, FleetConfig, LintConfig};
pub(crate) use overrides::Overrides;
use schemactl::config::Settings;
use schemactl::Error;
use std::path::PathBuf;

/// The name of the configuration file looked for in the working directory.
const FILE_NAME: &str = "schemactl.toml";

/// What a command runs with: the library's settings, and the `[fleet]`
/// table as written (paths relative to `settings.project.dir`).
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) settings: Settings,
    pub(crate) fleet: FleetConfig,
}

/// Resolves flags, the configuration file and defaults; every wrong value
/// is reported, with the flag or key it came from.
pub(crate) fn resolve(overrides: Overrides) -> Result<Resolved, Error> {
    resolve::settings(overrides)
}

/// The `schemactl.toml` that applies in the working directory: there, or
/// in the nearest parent (as git and cargo search), not above the
/// repository's root (the folder holding `.git`). Given relative to the
/// working directory (`../schemactl.toml`), so that paths in messages stay
/// short.
fn discover() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let mut relative = PathBuf::new();
    for dir in cwd.ancestors() {
        if dir.join(FILE_NAME).is_file() {
            return Some(relative.join(FILE_NAME));
        }
        if dir.join(".git").exists() {
            return None;
        }
        relative.push("..");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The overrides the command line `schemactl ARGS status` gives.
    fn flags(args: &[&str]) -> Overrides {
        let line = ["schemactl"].iter().chain(args).chain(&["status"]);
        crate::opt::Opt::try_parse_from(line)
            .unwrap()
            .global
            .overrides
    }

    #[test]
    fn a_flag_and_its_file_key_are_one_declaration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemactl.toml");
        std::fs::write(
            &path,
            "strict = true\n[postgres]\nlock_wait = \"2min\"\nlock_retries = 7\n[verify]\nexclude = [\"audit_*\"]\n",
        )
        .unwrap();
        let from_file = resolve(Overrides {
            config_file: Some(path.clone()),
            ..flags(&[])
        })
        .unwrap()
        .settings;
        assert!(from_file.project.read.strict);
        assert_eq!(from_file.run.lock_wait, std::time::Duration::from_secs(120));
        assert_eq!(from_file.run.execution.lock_retries, 7);
        assert_eq!(from_file.verify.exclude.len(), 1);
        let flagged = resolve(Overrides {
            config_file: Some(path),
            ..flags(&[
                "--lock-wait",
                "5s",
                "--lock-retries",
                "0",
                "--exclude",
                "a_*",
                "--exclude",
                "b.*",
            ])
        })
        .unwrap()
        .settings;
        assert!(
            flagged.project.read.strict,
            "an absent switch keeps the file's"
        );
        assert_eq!(flagged.run.lock_wait, std::time::Duration::from_secs(5));
        assert_eq!(flagged.run.execution.lock_retries, 0);
        assert_eq!(
            flagged.verify.exclude.len(),
            2,
            "the flag's list replaces the file's"
        );
        let switched = resolve(flags(&["--strict", "--allow-empty"]))
            .unwrap()
            .settings;
        assert!(switched.project.read.strict && switched.project.read.allow_empty);
        let plain = resolve(flags(&[])).unwrap().settings;
        assert!(!plain.project.read.strict && !plain.project.read.allow_empty);
    }

    #[test]
    fn the_defaults_are_what_resolving_nothing_gives() {
        let resolved = resolve(Overrides::default()).unwrap().settings;
        assert_eq!(
            format!("{:?}", Settings::default()),
            format!("{resolved:?}")
        );
    }

    #[test]
    fn a_config_file_with_wrong_types_or_unknown_keys_is_reported_with_its_line() {
        let dir = std::env::temp_dir().join(format!("schemactl-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("schemactl.toml");
        std::fs::write(
            &path,
            "migrations_dir = \"db\"\n[postgres]\nlock_timeout = 5\n",
        )
        .unwrap();
        let error = resolve(Overrides {
            config_file: Some(path.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains("schemactl.toml:3:16"), "{error}");
        std::fs::write(&path, "[postgres]\nhistory_tabel = \"x\"\n").unwrap();
        let error = resolve(Overrides {
            config_file: Some(path.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains("history_tabel"), "{error}");
        std::fs::write(&path, "migrations_dir = \"db\"\n[postgres]\nhistory_table = \"deploys\"\nlock_wait = \"2min\"\n").unwrap();
        let settings = resolve(Overrides {
            config_file: Some(path.clone()),
            ..Default::default()
        })
        .unwrap()
        .settings;
        assert_eq!(settings.project.migrations_dir, dir.join("db"));
        assert_eq!(settings.run.history.display(), "public.deploys");
        assert_eq!(settings.run.lock_wait, std::time::Duration::from_secs(120));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_error_names_the_flag_or_the_file_key_it_came_from() {
        let error = resolve(Overrides {
            ..flags(&["--lock-timeout", "30"])
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("--lock-timeout: `30` has no unit"),
            "{error}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemactl.toml");
        std::fs::write(&path, "[postgres]\nlock_wait = \"forever\"\n").unwrap();
        let error = resolve(Overrides {
            config_file: Some(path),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("schemactl.toml ([postgres] lock_wait)"),
            "{error}"
        );
    }

    #[test]
    fn every_wrong_value_is_reported_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemactl.toml");
        std::fs::write(
            &path,
            "layout = \"liquibase\"\n[postgres]\nlock_wait = \"forever\"\nlock_mode = \"row\"\n[lint.rules]\nchar-type = \"loud\"\n",
        )
        .unwrap();
        let error = resolve(Overrides {
            config_file: Some(path),
            ..flags(&["--lock-timeout", "30"])
        })
        .unwrap_err();
        let Error::ConfigProblems(problems) = &error else {
            panic!("one error instead of all: {error}");
        };
        assert_eq!(problems.len(), 5, "{error}");
        let text = error.to_string();
        for says in [
            "--lock-timeout",
            "lock_wait",
            "lock_mode",
            "`loud`",
            "liquibase",
        ] {
            assert!(text.contains(says), "{says}: {text}");
        }
    }

    #[test]
    fn flags_win_and_bad_identifiers_are_refused() {
        let overrides = Overrides {
            config_file: None,
            ..flags(&["--history-table", "x; DROP TABLE y"])
        };
        assert!(resolve(overrides).map(|r| r.settings).is_err());
        let overrides = Overrides {
            ..flags(&["--lock-timeout", "2s"])
        };
        let lock_timeout = resolve(overrides)
            .map(|r| r.settings)
            .unwrap()
            .run
            .execution
            .lock_timeout;
        assert_eq!(
            (lock_timeout.millis(), lock_timeout.to_string()),
            (2000, "2s".into())
        );
        // A bare number is refused, never run as no limit.
        let overrides = Overrides {
            ..flags(&["--lock-timeout", "30"])
        };
        let refused = resolve(overrides)
            .map(|r| r.settings)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("--lock-timeout") && refused.contains("no unit"),
            "{refused}"
        );
    }
}
