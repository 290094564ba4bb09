//! Rendering lint findings: `text` for people, `json` for programs, `sarif`
//! for code-scanning upload, `github` for workflow annotations, `gitlab`
//! for GitLab's Code Quality report.

pub mod github;
pub mod gitlab;
pub mod json;
pub mod sarif;
pub mod text;
