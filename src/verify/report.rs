//! What `verify` reports: one verdict per migration, where a run that
//! could not go on stopped, and the whole run.

use crate::catalog::table_data::{DataVerdict, UnfillableTable};
use crate::catalog::Difference;
use crate::model::Version;
use crate::postgres::lock_trace::{StatementTrace, TableLockSummary};
use crate::MigrationFailure;

/// What verification found for one migration.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Down restored the schema and up re-applied cleanly.
    Ok,
    /// No down script: the up was applied and checking went on.
    NoDown,
    /// The up script failed (verification stops here).
    UpFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// The down script failed.
    DownFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// After the down script, the schema differs from before the up script.
    DownDoesNotRestore {
        /// The objects that differ.
        differences: Vec<Difference>,
        /// Before the up (-) against after the down (+).
        diff: String,
    },
    /// The up script failed when applied again after its down.
    ReapplyFailed {
        /// The failure.
        failure: Box<MigrationFailure>,
    },
    /// Applied again after its down, the up gives another schema than the first time.
    ReapplyDiffers {
        /// The objects that differ.
        differences: Vec<Difference>,
        /// After the first up (-) against after the second (+).
        diff: String,
    },
}

/// One migration's verification.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct MigrationResult {
    /// The version.
    pub version: Version,
    /// `0003_add_orders`.
    pub label: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Differences reported but tolerated (columns in another order and
    /// timestamp literals frozen at creation, by default).
    pub warnings: Vec<Difference>,
    /// Definitions that came back formatted differently but the same
    /// token by token: not failures, listed for `--verbose`.
    pub formatting: Vec<Difference>,
    /// Whether the round trip left the scratch database in another state
    /// than a clean up would, so that the next migration was judged on a
    /// database built again from the up scripts.
    pub rebuilt: bool,
    /// With `--data`: whether the rows survived the round trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<DataVerdict>,
    /// With `--locks` (and in JSON): the locks its scripts took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locks: Option<MigrationLocks>,
}

/// The locks a migration's scripts took on the scratch database.
#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct MigrationLocks {
    /// Each statement of the up script (its first run).
    pub(crate) up: Vec<StatementTrace>,
    /// Each statement of the down script.
    pub(crate) down: Vec<StatementTrace>,
    /// The strongest lock the up took on each table that existed before
    /// it, with the statement, and whether it rewrote or scanned the table.
    pub tables: Vec<TableLockSummary>,
}

impl MigrationResult {
    /// Whether this migration fails verification.
    pub fn failed(&self) -> bool {
        !matches!(self.outcome, Outcome::Ok | Outcome::NoDown)
    }
}

/// Where a run that could not go on stopped.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Stopped {
    /// The migration it stopped at.
    pub version: Version,
    /// `0003_add_orders`.
    pub migration: String,
    /// What was being done.
    pub step: Step,
    /// Why it could not go on.
    pub error: String,
    /// The migrations after it, which got no verdict.
    pub not_verified: Vec<String>,
}

/// The step a run stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Applying a migration older than `--from` (not verified).
    Apply,
    /// The up script: later migrations depend on what it should have made.
    Up,
    /// Rebuilding the scratch database from the up scripts after a dirty
    /// round trip.
    Rebuild,
    /// Applying its up script on another scratch database, to bring that
    /// one forward to the migrations it verifies (`--jobs` above 1), when
    /// the round trip of this migration did not fail the same way.
    CatchUp,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Apply => "applying it before --from",
            Step::Up => "its up script",
            Step::Rebuild => "rebuilding the scratch database from the up scripts after it",
            Step::CatchUp => "applying it to bring another scratch database forward (--jobs)",
        })
    }
}

/// The whole run.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct VerifyReport {
    /// The scratch database (password removed).
    pub scratch: String,
    /// Migrations applied without verification (`--from`).
    pub applied_plainly: usize,
    /// One result per verified migration.
    pub results: Vec<MigrationResult>,
    /// Where and why the run could not go on; `None` when every migration
    /// got a verdict.
    pub stopped: Option<Stopped>,
    /// Whether rows were checked too (`--data`).
    pub data: bool,
    /// With `--data`: tables that could not be given rows, and why.
    pub unfillable: Vec<UnfillableTable>,
    /// Wall time.
    pub total_ms: i64,
}

impl VerifyReport {
    /// Whether any migration failed or the run stopped early.
    pub fn failed(&self) -> bool {
        self.stopped.is_some() || self.results.iter().any(MigrationResult::failed)
    }
}
