//! Rendering lint findings: `text` for people, `json` for programs, `sarif`
//! for code-scanning upload, `github` for workflow annotations, `gitlab`
//! for GitLab's Code Quality report; one entry, [`ReportFormat::render`].

mod github;
mod gitlab;
mod json;
mod sarif;
mod text;

use super::baseline::Applied;
use super::table_sizes::Annotated;
use super::Finding;
use std::path::Path;

pub use json::LintDocument;

/// How [`ReportFormat::render`] writes findings, with what each format needs besides them.
pub enum ReportFormat<'a> {
    /// For people: each finding under its source line with a caret, then a
    /// summary; `source` gives a file's text, `colour` adds ANSI colours.
    Text {
        /// A file's text (`None`: the finding is shown without its line).
        source: &'a dyn Fn(&Path) -> Option<&'a str>,
        /// Whether to colour the output.
        colour: bool,
    },
    /// For programs: a [`LintDocument`], with what a baseline accepted and
    /// which findings were on tables under the size threshold.
    Json {
        /// The baseline applied, when one was.
        baseline: Option<&'a Applied>,
        /// The findings' tables sized, when they were.
        sized: Option<&'a Annotated>,
    },
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub Actions workflow annotations (`::error file=…`).
    Github,
    /// GitLab's Code Quality report.
    Gitlab,
}

impl ReportFormat<'_> {
    /// `findings` written in this format (the `json`, `sarif` and `gitlab`
    /// documents without a final newline).
    pub fn render(self, findings: &[Finding]) -> String {
        match self {
            ReportFormat::Text { source, colour } => text::render(findings, source, colour),
            ReportFormat::Json { baseline, sized } => json::render(findings, baseline, sized),
            ReportFormat::Sarif => sarif::render(findings),
            ReportFormat::Github => github::render(findings),
            ReportFormat::Gitlab => gitlab::render(findings),
        }
    }

    /// A source problem (a file the layout cannot place) as a GitHub
    /// Actions warning annotation on that file, like the findings.
    pub fn github_source_warning(problem: &crate::model::SourceProblem) -> String {
        github::source_warning(problem)
    }
}
