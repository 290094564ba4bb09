//! Findings as people read them: the rule, the message, the source line
//! with a caret under the span, and the help; coloured when asked.

use crate::lint::rules::will_not_run;
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
    let (rejected, others): (Vec<&Finding>, Vec<&Finding>) =
        findings.iter().partition(|f| will_not_run(f.rule));
    if !rejected.is_empty() {
        let _ = writeln!(
            out,
            "{}{} will not run as written{} (PostgreSQL rejects {}; fix first):",
            paint(RED),
            plural(rejected.len(), "statement"),
            paint(RESET),
            if rejected.len() == 1 { "it" } else { "them" }
        );
        for finding in &rejected {
            let _ = writeln!(
                out,
                "  {}:{}: {}",
                finding.path.display(),
                finding.position.line,
                finding.rule
            );
        }
        out.push('\n');
    }
    for finding in rejected.into_iter().chain(others) {
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
    let rejected = findings.iter().filter(|f| will_not_run(f.rule)).count();
    format!(
        "{}, {}{}\n",
        plural(errors, "error"),
        plural(warnings, "warning"),
        if rejected == 0 {
            String::new()
        } else {
            format!(
                " ({} will not run as written)",
                plural(rejected, "statement")
            )
        }
    )
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
