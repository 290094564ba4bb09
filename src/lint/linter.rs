//! [`Linter`]: the static checks of a set of migrations, with the
//! severities a project configured. No database is needed.

use super::{lint, Finding, LintOptions};
use crate::config::Settings;
use crate::lint::LintOutcome;
use crate::model::Migration;
use crate::source::MigrationSource;
use crate::Error;

/// Lints migrations.
///
/// ```
/// use schemactl::lint::Linter;
/// use schemactl::source::InMemory;
/// let source = InMemory::new("migrations")
///     .with_file("0001_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, name char(10));")
///     .with_file("0001_users.down.sql", "DROP TABLE users;");
/// let findings = Linter::default().lint(&source).unwrap();
/// assert!(findings.iter().any(|f| f.rule == "char-type"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Linter {
    options: LintOptions,
}

impl Linter {
    /// A linter with these severities (`[lint.rules]` as code: by rule
    /// id, `None` turns a rule off; an id that names no rule changes
    /// nothing, while [`Linter::from_settings`] rejects it).
    pub fn new(settings: &crate::config::LintSettings) -> Self {
        Self {
            options: LintOptions {
                severities: settings.severities.clone(),
            },
        }
    }

    /// A linter with the severities of `[lint.rules]`; an unknown rule id
    /// is an error naming the configuration file.
    pub fn from_settings(settings: &Settings) -> Result<Self, Error> {
        LintOptions::configured(&settings.lint.severities, &settings.project.config_file)
            .map(|options| Self { options })
    }

    /// Lints the migrations of `source`.
    pub fn lint(&self, source: &dyn MigrationSource) -> Result<Vec<Finding>, Error> {
        self.lint_migrations(&source.load()?)
    }

    /// Lints the project `settings` describe (its migrations and, when
    /// present, its MongoDB validators), as `schemactl lint` does: with
    /// `since`, only what changed since that git revision, and edits to
    /// migrations that already existed there are findings.
    pub fn lint_project(settings: &Settings, since: Option<&str>) -> Result<LintOutcome, Error> {
        super::project::lint(settings, since)
    }

    /// Lints migrations already read.
    pub fn lint_migrations(&self, migrations: &[Migration]) -> Result<Vec<Finding>, Error> {
        lint(migrations, &self.options)
    }
}
