//! What a MongoDB run reports and the options it takes: plain data, built
//! with or without the MongoDB driver (the `mongodb` cargo feature), so
//! that reports render the same everywhere.

use serde_json::Value;

/// What the MongoDB part of `migrate` may do.
#[derive(Debug, Clone, Copy, Default)]
pub struct MongoOptions {
    /// Plan and report; change nothing.
    pub dry_run: bool,
    /// Allow dropping (or rebuilding) indexes, and dropping collections on rollback.
    pub allow_destructive: bool,
    /// Allow a validator that existing documents break.
    pub allow_violations: bool,
    /// Apply the files over collections somebody changed by hand.
    pub overwrite_drift: bool,
}

/// Documents the new validator would reject.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Violations {
    /// How many.
    pub count: u64,
    /// One of their `_id`s (relaxed extended JSON).
    pub sample_id: String,
}

/// The state of one collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CollectionState {
    /// The file, the record and the server agree.
    InSync,
    /// The file differs from what was last applied (or was never applied).
    Pending,
    /// The server differs from what schemactl last applied.
    Drifted,
}

/// One command that changes a collection.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Step {
    /// What it does, for people.
    pub description: String,
    /// The part of the spec file it comes from, as a JSON pointer
    /// (`/validator`, `/indexes`), for errors the server gives.
    pub spec_path: &'static str,
    /// The command document, as JSON.
    pub command: Value,
    /// Whether it drops something (an index).
    pub destructive: bool,
}

/// What happened (or would happen) to one collection.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct CollectionChange {
    /// `database.collection`.
    pub collection: String,
    /// The commands.
    pub steps: Vec<Step>,
    /// Existing documents the new validator rejects.
    pub violations: Option<Violations>,
    /// The version recorded (not in a dry run).
    pub version: Option<i64>,
    /// How long it took.
    pub execution_ms: i64,
}

/// The MongoDB part of a run.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct MongoReport {
    /// The server, password removed.
    pub server: String,
    /// Changed (or, in a dry run, to be changed) collections.
    pub changes: Vec<CollectionChange>,
}

/// One line of the MongoDB status.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct CollectionStatus {
    /// `database.collection`.
    pub collection: String,
    /// Its state.
    pub state: CollectionState,
    /// The last recorded version.
    pub version: Option<i64>,
    /// When it was applied.
    pub applied_at: Option<String>,
    /// For drift: recorded (-) against live (+).
    pub diff: Option<String>,
}

/// Which collections `rollback` restores.
#[derive(Debug, Clone)]
pub enum RollbackTarget {
    /// One collection, `database.collection`.
    Collection(String),
    /// Every collection the latest run changed.
    LastRun,
}

/// One collection's round trip on a scratch database.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct CollectionVerification {
    /// `database.collection`.
    pub collection: String,
    /// Whether it passed.
    pub ok: bool,
    /// What went wrong, with a diff.
    pub problem: Option<String>,
}
