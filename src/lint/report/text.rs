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
pub fn render<'s>(
    findings: &[Finding],
    source: &dyn Fn(&Path) -> Option<&'s str>,
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
    // The lines of the file the last finding was in: findings come by
    // file, so each file is split into lines once, not once per finding.
    let mut lines: Option<(&Path, Vec<&str>)> = None;
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
        if lines.as_ref().is_none_or(|(path, _)| *path != finding.path) {
            let split = source(&finding.path).map_or_else(Vec::new, |text| text.lines().collect());
            lines = Some((&finding.path, split));
        }
        let line = lines
            .as_ref()
            .and_then(|(_, lines)| lines.get(p.line.wrapping_sub(1)).copied());
        if let Some(line) = line {
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

#[cfg(test)]
mod tests {
    use super::render;
    use crate::lint::{Finding, Severity};
    use crate::model::text_position::TextPosition;
    use std::path::{Path, PathBuf};

    fn finding(path: &str, line: usize, rule: &'static str) -> Finding {
        Finding {
            rule,
            severity: Severity::Warning,
            path: PathBuf::from(path),
            position: TextPosition { line, column: 1 },
            length: 4,
            message: "m".into(),
            help: "h".into(),
            fingerprint: String::new(),
            table: None,
            table_size: None,
        }
    }

    /// Each finding is shown under its own file's line, whether findings
    /// come file after file, go back to an earlier file, or point past the
    /// end of one (then without a line).
    #[test]
    fn each_excerpt_is_the_line_of_its_own_file() {
        let source = |path: &Path| match path.to_str() {
            Some("a.sql") => Some("a one\na two\na three"),
            Some("b.sql") => Some("b one\nb two"),
            _ => None,
        };
        let findings = [
            finding("a.sql", 3, "drop-table"),
            finding("a.sql", 1, "drop-table"),
            finding("b.sql", 2, "drop-table"),
            finding("a.sql", 2, "drop-table"),
            finding("b.sql", 9, "drop-table"),
            finding("c.sql", 1, "drop-table"),
        ];
        let text = render(&findings, &source, false);
        let shown: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .filter_map(|l| l.split_once(" | ").map(|(_, line)| line))
            .collect();
        assert_eq!(shown, ["a three", "a one", "b two", "a two"], "{text}");
    }
}
