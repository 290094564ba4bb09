//! What a fleet run reports: one line per target and the totals.

use super::ledger::TargetState;
use super::waves::TargetResult;
use std::collections::BTreeMap;

/// The result of a fleet run.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct FleetReport {
    /// The run id (give it to `--resume`).
    pub run: String,
    /// The verb.
    pub verb: String,
    /// Where the ledger is.
    pub ledger: String,
    /// The shard this process covered (`INDEX/COUNT`), if any.
    pub shard: Option<String>,
    /// The run resumed, if any.
    pub resumed: Option<String>,
    /// Whether nothing was changed (`--dry-run`).
    pub dry_run: bool,
    /// Whether the run was told to stop (SIGINT, SIGTERM) before it
    /// started every target.
    pub interrupted: bool,
    /// Each target, in list order.
    pub targets: Vec<TargetResult>,
    /// The totals.
    pub summary: Summary,
    /// How many targets are at each version afterwards (`(none)`: nothing
    /// applied), failed ones included; targets whose version is unknown
    /// (not run, or unreachable) are not counted.
    pub versions: BTreeMap<String, usize>,
    /// How long the run took.
    pub total_ms: i64,
}

/// The totals of a fleet run.
#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// Targets covered.
    pub total: usize,
    /// Finished successfully.
    pub done: usize,
    /// Failed.
    pub failed: usize,
    /// Not started (a canary failed, or too many targets failed).
    pub not_run: usize,
    /// Done in the resumed run already.
    pub skipped: usize,
    /// Migrations applied (or rolled back) across the fleet.
    pub migrations: usize,
}

impl Summary {
    /// Counts `targets`.
    pub fn of(targets: &[TargetResult]) -> Self {
        let count = |state| targets.iter().filter(|t| t.state == state).count();
        Self {
            total: targets.len(),
            done: count(TargetState::Done),
            failed: count(TargetState::Failed),
            not_run: count(TargetState::NotRun),
            skipped: count(TargetState::Skipped),
            migrations: targets.iter().map(|t| t.applied).sum(),
        }
    }
}

impl FleetReport {
    /// Whether every target it ran succeeded and none was left out.
    pub fn ok(&self) -> bool {
        self.summary.failed == 0 && self.summary.not_run == 0
    }

    /// Counts the targets by version.
    pub fn count_versions(targets: &[TargetResult]) -> BTreeMap<String, usize> {
        let mut versions = BTreeMap::new();
        for target in targets {
            let version = match (&target.version, target.state) {
                (Some(version), _) => version.clone(),
                (None, TargetState::Done | TargetState::Skipped) => "(none)".into(),
                (None, _) => continue,
            };
            *versions.entry(version).or_insert(0) += 1;
        }
        versions
    }
}
