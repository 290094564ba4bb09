//! What the linter reports: a finding of one rule at one place.

use crate::migration::text_position::TextPosition;
use std::path::PathBuf;

pub use crate::severity::Severity;

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The stable rule id (`fk-missing-on-delete`).
    pub rule: &'static str,
    /// Its severity after configuration.
    pub severity: Severity,
    /// The file.
    pub path: PathBuf,
    /// Where the finding starts.
    pub position: TextPosition,
    /// How many characters to underline.
    pub length: usize,
    /// What is wrong, and why it matters.
    pub message: String,
    /// What to write instead.
    pub help: String,
}
