//! Findings as GitHub Actions workflow commands, which GitHub shows as
//! annotations on the pull request's diff.

use crate::lint::{Finding, Severity};

/// One `::error file=…,line=…,col=…,title=…::message` line per finding.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "::{level} file={},line={},col={},title={}::{}\n",
            escape_property(&f.path.display().to_string()),
            f.position.line,
            f.position.column,
            escape_property(f.rule),
            escape_data(&format!("{} (help: {})", f.message, f.help))
        ));
    }
    out
}

/// A problem of the migrations directory that does not stop the run (a
/// file the layout cannot place) as a `::warning` annotation.
pub fn source_warning(problem: &crate::model::SourceProblem) -> String {
    let line = problem
        .position
        .map(|p| format!(",line={},col={}", p.line, p.column))
        .unwrap_or_default();
    format!(
        "::warning file={}{line},title=migrations::{}\n",
        escape_property(&problem.path.display().to_string()),
        escape_data(&problem.message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
