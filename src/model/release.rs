//! A release of the application, declared live or retired by the team
//! (`schemactl release mark-live|mark-retired`): `contract` migrations
//! wait while a release other than the one deploying is live.

/// One release as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Release {
    /// The label the team gave it (an image tag, a version).
    pub label: String,
    /// Whether instances of it may still be running.
    pub live: bool,
    /// When it was last marked, RFC 3339.
    pub marked_at: String,
    /// Who marked it.
    pub marked_by: String,
}
