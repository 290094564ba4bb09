//! Rendering lint findings: `text` for people, `json` for programs, `sarif`
//! for code-scanning upload, `github` for workflow annotations.

pub mod github;
pub mod json;
pub mod sarif;
pub mod text;
