//! Findings as people read them: the rule, the message, the source line
//! with a caret under the span, and the help; coloured when asked.

use crate::lint::{Finding, Severity};
use std::fmt::Write;
use std::path::Path;

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Renders `findings`; `source` gives a file's text for the excerpt.
pub fn render(
    findings: &[Finding],
    source: &dyn Fn(&Path) -> Option<String>,
    colour: bool,
) -> String {
    let paint = |code: &'static str| if colour { code } else { "" };
    let mut out = String::new();
    for finding in findings {
        let level = match finding.severity {
            Severity::Error => paint(RED),
            Severity::Warning => paint(YELLOW),
        };
        let _ = writeln!(
            out,
            "{level}{}[{}]{}: {}{}{}",
            finding.severity.as_str(),
            finding.rule,
            paint(RESET),
            paint(BOLD),
            finding.message,
            paint(RESET)
        );
        let p = finding.position;
        let number = p.line.to_string();
        let pad = " ".repeat(number.len());
        let _ = writeln!(
            out,
            "{pad}{}-->{} {}:{}:{}",
            paint(BLUE),
            paint(RESET),
            finding.path.display(),
            p.line,
            p.column
        );
        if let Some(line) =
            source(&finding.path).and_then(|text| text.lines().nth(p.line - 1).map(str::to_string))
        {
            let gutter = paint(BLUE);
            let _ = writeln!(out, "{pad} {gutter}|{}", paint(RESET));
            let _ = writeln!(out, "{gutter}{number} |{} {line}", paint(RESET));
            let available = line.chars().count().saturating_sub(p.column - 1).max(1);
            let _ = writeln!(
                out,
                "{pad} {gutter}|{} {}{level}{}{}",
                paint(RESET),
                " ".repeat(p.column - 1),
                "^".repeat(finding.length.clamp(1, available)),
                paint(RESET)
            );
        }
        let _ = writeln!(
            out,
            "{pad} {}={} help: {}\n",
            paint(BLUE),
            paint(RESET),
            finding.help
        );
    }
    out.push_str(&summary(findings));
    out
}

/// `2 errors, 1 warning` or `no findings`.
pub fn summary(findings: &[Finding]) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if findings.is_empty() {
        return "no findings\n".into();
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}\n",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}
