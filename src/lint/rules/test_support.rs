//! Linting a migrations directory written from strings, and rendering the
//! findings as users see them, for the rules' tests.

use crate::lint::{lint, report, Finding, LintOptions};
use crate::source::reader;

/// Lints `files` (name, SQL) written to a temporary migrations directory.
pub fn lint_files(files: &[(&str, &str)]) -> Vec<Finding> {
    let dir = std::env::temp_dir().join(format!(
        "schemactl-lint-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for (name, sql) in files {
        let path = migrations.join(name);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(path, sql).unwrap();
    }
    let loaded = reader::load(&migrations).unwrap_or_else(|e| panic!("{e}"));
    let mut findings = lint(&loaded, &LintOptions::default()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    for finding in &mut findings {
        finding.path = finding
            .path
            .strip_prefix(&dir)
            .unwrap_or(&finding.path)
            .to_path_buf();
    }
    findings
}

/// Tells the temporary directories of parallel tests apart.
static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The findings of `rule` for `files`, rendered as text.
pub fn fires(rule: &str, files: &[(&str, &str)]) -> String {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(n, s)| (format!("migrations/{n}"), s.to_string()))
        .collect();
    let findings: Vec<Finding> = lint_files(files)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect();
    assert!(!findings.is_empty(), "{rule} did not fire");
    let source = |path: &std::path::Path| {
        sources
            .iter()
            .find(|(n, _)| path.ends_with(n))
            .map(|(_, s)| s.as_str())
    };
    report::ReportFormat::Text {
        source: &source,
        colour: false,
    }
    .render(&findings)
}

/// Panics if `rule` fires on `files`.
pub fn quiet(rule: &str, files: &[(&str, &str)]) {
    let findings: Vec<Finding> = lint_files(files)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect();
    assert!(findings.is_empty(), "{rule} fired: {findings:#?}");
}
