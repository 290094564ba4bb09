//! [`LintSettings`]: the `[lint]` table once read — severities by rule id,
//! as written (the linter checks that each id names a rule).

use crate::model::severity::Severity;
use std::collections::BTreeMap;

/// How the project's lint runs.
#[derive(Debug, Clone, Default)]
pub struct LintSettings {
    /// Severity by rule id (`None`: off).
    pub severities: BTreeMap<String, Option<Severity>>,
    /// Whether warnings fail `lint`.
    pub deny_warnings: bool,
}
