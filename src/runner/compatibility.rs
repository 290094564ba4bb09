//! `check`: whether the database suits the application that ships a
//! migrations directory, for an init container or a readiness probe.
//! Read-only; one answer, one exit code.

use super::report::StatusReport;
use crate::error::ahead::Ahead;
use crate::error::Problem;
use crate::model::plan::State;
use crate::model::Version;

/// How the database stands against the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Standing {
    /// Every migration of the directory is applied, and nothing else.
    Current,
    /// Migrations of the directory wait to be applied (`migrate`).
    Behind,
    /// Migrations newer than every file are applied (an older release of
    /// the application): `rollback --to` the newest file brings it back.
    Ahead,
    /// Ahead only by migrations that declared themselves compatible with
    /// the previous release (`phase expand`): the application may run.
    AheadCompatible,
    /// The files and the history disagree otherwise (edited, failed,
    /// missing in the middle): `validate` says how.
    Diverged,
}

/// The answer of `check`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Compatibility {
    /// The database, password removed.
    pub database: String,
    /// Whether the application may run against it: the database is
    /// exactly at the application's release, or ahead of it only by
    /// migrations declared compatible.
    pub compatible: bool,
    /// How it stands.
    pub(crate) standing: Standing,
    /// What to run to make it current, when something would.
    pub fix: Option<String>,
    /// The migrations applied beyond the directory, when ahead.
    pub ahead: Option<Ahead>,
    /// The migrations waiting, by version, when behind.
    pub pending: Vec<Version>,
    /// The disagreements, when diverged.
    pub problems: Vec<Problem>,
}

impl Compatibility {
    /// The answer for `report` (a `status` of the directory).
    pub fn of(report: &StatusReport) -> Self {
        let newest_file = report
            .migrations
            .iter()
            .filter(|row| row.state != State::Missing && !row.version.is_repeatable())
            .map(|row| row.version.clone())
            .max();
        let ahead = crate::model::plan::ahead_of(newest_file, &report.problems);
        let pending: Vec<Version> = report
            .migrations
            .iter()
            .filter(|row| row.state == State::Pending)
            .map(|row| row.version.clone())
            .collect();
        let (standing, fix) = match (&ahead, report.problems.is_empty(), pending.is_empty()) {
            (Some(ahead), _, _) => (Standing::Ahead, Some(ahead.rollback_command())),
            (None, false, _) => (Standing::Diverged, Some("schemactl validate".to_string())),
            (None, true, false) => (Standing::Behind, Some("schemactl migrate".to_string())),
            (None, true, true) => (Standing::Current, None),
        };
        Compatibility {
            database: report.database.clone(),
            compatible: standing == Standing::Current,
            standing,
            fix,
            problems: match standing {
                Standing::Diverged => report.problems.clone(),
                _ => Vec::new(),
            },
            ahead,
            pending,
        }
    }

    /// Ahead, but only by migrations marked compatible with the previous
    /// release: the application may run.
    pub(crate) fn mark_compatible_ahead(&mut self) {
        self.standing = Standing::AheadCompatible;
        self.compatible = true;
        self.fix = None;
    }

    /// The exit code `schemactl check` ends with: 0 when current (or ahead
    /// only by compatible migrations), 7 when ahead, 1 otherwise.
    pub fn exit_code(&self) -> crate::ExitCode {
        match self.standing {
            Standing::Current | Standing::AheadCompatible => crate::ExitCode::Ok,
            Standing::Ahead => crate::ExitCode::DatabaseAhead,
            Standing::Behind | Standing::Diverged => crate::ExitCode::ProblemsFound,
        }
    }
}

impl std::fmt::Display for Compatibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.standing, &self.ahead) {
            (Standing::Ahead, Some(ahead)) => write!(f, "{ahead}"),
            (Standing::AheadCompatible, _) => write!(
                f,
                "{} is ahead of these files only by migrations marked compatible with the previous release (expand): \
                 the application can run",
                self.database
            ),
            (Standing::Current, _) => write!(
                f,
                "{} is current: every migration of the directory is applied, and nothing newer",
                self.database
            ),
            (Standing::Behind, _) => write!(
                f,
                "{} is behind: {} migration(s) of the directory are not applied yet; run `schemactl migrate`",
                self.database,
                self.pending.len()
            ),
            _ => write!(
                f,
                "{} and the migration files disagree ({} problem(s)); `schemactl validate` names them",
                self.database,
                self.problems.len()
            ),
        }
    }
}
