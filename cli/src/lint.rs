//! `schemactl lint`: findings of the configured project, fixed, baselined,
//! sized from a database and rendered as asked.

use crate::opt::{LintArgs, LintFormat};
use crate::output;
use crate::verbs::colour;
use schemactl::config::Settings;
use schemactl::lint::baseline::{Applied, Baseline};
use schemactl::lint::report::ReportFormat;
use schemactl::lint::table_sizes::Annotated;
use schemactl::lint::LintOutcome;
use schemactl::runner::Notice;
use schemactl::{lint, Error, ExitCode};
use std::path::Path;

/// `lint`: exit 1 on errors, or on warnings with `--deny-warnings`.
pub async fn lint(
    settings: &Settings,
    request: &LintArgs,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<ExitCode, Error> {
    let mut outcome = schemactl::lint::Linter::lint_project(settings, request.since.as_deref())?;
    if request.fix {
        if let Some(code) = fix(request, &outcome)? {
            return Ok(code);
        }
        outcome = schemactl::lint::Linter::lint_project(settings, request.since.as_deref())?;
    }
    for problem in &outcome.warnings {
        // Under GitHub Actions, an annotation on the file like the findings.
        match request.format {
            LintFormat::Github => output::stdout(&ReportFormat::github_source_warning(problem)),
            _ => output::stderr_line(&format!("warning: {problem}")),
        }
    }
    let mut findings = std::mem::take(&mut outcome.findings);
    if let Some(path) = request.write_baseline.as_deref() {
        return write_baseline(path, &findings, &outcome, request.format);
    }
    let baseline_path = request
        .baseline
        .as_deref()
        .unwrap_or(Path::new(Baseline::DEFAULT_FILE));
    let applied = apply_baseline(request, baseline_path, &mut findings, &outcome)?;
    let sized = annotate_sizes(settings, request, &mut findings, notify).await?;
    if matches!(
        request.format,
        LintFormat::Sarif | LintFormat::Github | LintFormat::Gitlab
    ) {
        relative_to_repository(&mut findings);
    }
    let rendered = Rendered {
        findings: &findings,
        outcome: &outcome,
        applied: applied.as_ref(),
        baseline_path,
        sized: sized.as_ref(),
    };
    output::stdout(&rendered.text(request));
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    let errors = count(lint::Severity::Error);
    let warnings = count(lint::Severity::Warning);
    Ok(ExitCode::of_check(
        errors > 0 || (settings.lint.deny_warnings && warnings > 0),
    ))
}

/// `--fix`: writes the fixes (or, with `--dry-run`, shows them and returns
/// the exit code, since nothing else runs).
fn fix(request: &LintArgs, outcome: &LintOutcome) -> Result<Option<ExitCode>, Error> {
    if !request.dry_run && request.since.is_none() {
        return Err(Error::InvalidArgument(
            "--fix edits only migrations added on this branch, never ones that may have been applied: give --since <rev> (or add --dry-run to see the fixes)".into(),
        ));
    }
    // With --since, only what --since added; a dry run without it shows all.
    let may_edit =
        |path: &Path| outcome.may_fix(path) || (request.dry_run && request.since.is_none());
    let fixed = outcome.fixes(&may_edit);
    let count: usize = fixed.iter().map(|f| f.fixed).sum();
    if request.dry_run {
        for file in &fixed {
            output::stdout(&file.diff());
        }
        output::stdout(&format!(
            "{count} finding(s) fixable in {} file(s); nothing was changed (apply with `schemactl lint --fix --since <rev>`, which edits only migrations added since <rev>)\n",
            fixed.len()
        ));
        return Ok(Some(ExitCode::Ok));
    }
    for file in &fixed {
        std::fs::write(&file.path, &file.after).map_err(|source| Error::Io {
            path: file.path.clone(),
            source,
        })?;
    }
    output::stderr_line(&format!(
        "fixed {count} finding(s) in {} file(s); what remains:",
        fixed.len()
    ));
    Ok(None)
}

/// `--write-baseline`: accepts every current finding. With `--since`, the
/// entries of files the run did not lint are kept from the existing file.
fn write_baseline(
    path: &Path,
    findings: &[lint::Finding],
    outcome: &LintOutcome,
    format: LintFormat,
) -> Result<ExitCode, Error> {
    let (baseline, kept) = match (&outcome.added, Baseline::read(path)?) {
        (Some(_), Some(existing)) => existing.merged(findings, &|p| outcome.in_scope(p)),
        _ => (Baseline::of(findings), 0),
    };
    baseline.write(path)?;
    let kept_note = match kept {
        0 => String::new(),
        n => format!(
            " ({n} entr{} of files outside --since kept)",
            if n == 1 { "y" } else { "ies" }
        ),
    };
    let message = format!(
        "Wrote {} finding(s) to {} as the accepted baseline{kept_note}: later runs report only new findings. Commit the file.",
        findings.len(),
        path.display()
    );
    match format {
        LintFormat::Json => output::stdout(
            &(serde_json::to_string_pretty(&serde_json::json!({
                "baseline": path.display().to_string(),
                "baselined": findings.len(),
                "kept": kept,
            }))
            .unwrap_or_default()
                + "\n"),
        ),
        _ => output::stdout(&(message + "\n")),
    }
    Ok(ExitCode::Ok)
}

/// Leaves out the findings the baseline accepts (none with `--no-baseline`).
fn apply_baseline(
    request: &LintArgs,
    path: &Path,
    findings: &mut Vec<lint::Finding>,
    outcome: &LintOutcome,
) -> Result<Option<Applied>, Error> {
    if request.no_baseline {
        return Ok(None);
    }
    match Baseline::read(path)? {
        Some(baseline) => Ok(Some(baseline.apply(findings, &|p| outcome.in_scope(p)))),
        None if request.baseline.is_some() => Err(Error::InvalidArgument(format!(
            "--baseline {}: no such file (write one with `schemactl lint --write-baseline {0}`)",
            path.display()
        ))),
        None => Ok(None),
    }
}

/// Sizes from a database: asked for, or implied by a URL given on the
/// command line (never by DATABASE_URL alone, which CI jobs often set).
async fn annotate_sizes(
    settings: &Settings,
    request: &LintArgs,
    findings: &mut Vec<lint::Finding>,
    notify: &mut (dyn FnMut(Notice) + Send),
) -> Result<Option<Annotated>, Error> {
    let explicit_url =
        settings.connection.url.is_some() && settings.connection.url_source == "--database-url";
    if request.table_sizes || explicit_url {
        let annotated = Annotated::from_database(
            findings,
            &settings.connection,
            request.min_table_rows,
            notify,
        )
        .await?;
        return Ok(Some(annotated));
    }
    if request.min_table_rows.is_some() {
        return Err(Error::InvalidArgument(
            "--min-table-rows needs table sizes: add --table-sizes (with DATABASE_URL) or --database-url".into(),
        ));
    }
    Ok(None)
}

/// What the report shows.
struct Rendered<'a> {
    findings: &'a [lint::Finding],
    outcome: &'a LintOutcome,
    applied: Option<&'a Applied>,
    baseline_path: &'a Path,
    sized: Option<&'a Annotated>,
}

impl Rendered<'_> {
    /// The report in the requested format.
    fn text(&self, request: &LintArgs) -> String {
        match request.format {
            LintFormat::Text => {
                let source = |path: &Path| self.outcome.sources.get(path).map(String::as_str);
                let format = ReportFormat::Text {
                    source: &source,
                    colour: colour(),
                };
                let mut text = format.render(self.findings);
                if let Some(applied) = self.applied {
                    text.push_str(&baseline_summary(applied, self.baseline_path));
                }
                if let Some(sized) = self.sized.filter(|s| s.below_threshold > 0) {
                    text.push_str(&format!(
                        "{} finding(s) on tables under {} rows not shown (--min-table-rows)\n",
                        sized.below_threshold,
                        request.min_table_rows.unwrap_or_default()
                    ));
                }
                text
            }
            LintFormat::Json => {
                let format = ReportFormat::Json {
                    baseline: self.applied,
                    sized: self.sized,
                };
                format.render(self.findings) + "\n"
            }
            LintFormat::Sarif => ReportFormat::Sarif.render(self.findings) + "\n",
            LintFormat::Github => ReportFormat::Github.render(self.findings),
            LintFormat::Gitlab => ReportFormat::Gitlab.render(self.findings) + "\n",
        }
    }
}

/// The lines text output adds under a baseline.
fn baseline_summary(applied: &Applied, path: &Path) -> String {
    let mut out = String::new();
    if applied.baselined > 0 {
        out.push_str(&format!(
            "{} accepted finding(s) not shown (baseline {})\n",
            applied.baselined,
            path.display()
        ));
    }
    if !applied.stale.is_empty() {
        let stale: usize = applied.stale.iter().map(|e| e.count).sum();
        out.push_str(&format!(
            "{stale} baseline entr{} no longer match a finding (fixed, or the statement changed): run `schemactl lint --write-baseline {}` to drop {}\n",
            if stale == 1 { "y" } else { "ies" },
            path.display(),
            if stale == 1 { "it" } else { "them" }
        ));
        for entry in &applied.stale {
            out.push_str(&format!(
                "  {} {}: {}\n",
                entry.rule,
                entry.path.display(),
                entry.message
            ));
        }
    }
    out
}

/// Rewrites the findings' paths relative to the root of the git repository
/// (for SARIF and GitHub annotations, which code-scanning resolves from
/// there, also when schemactl runs in a sub-directory of a monorepo). Paths
/// stay as they are outside a repository.
fn relative_to_repository(findings: &mut [lint::Finding]) {
    let Ok(output) = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .output()
    else {
        return;
    };
    if !output.status.success() {
        return;
    }
    let root = canonical(Path::new(String::from_utf8_lossy(&output.stdout).trim()));
    for finding in findings {
        if let Ok(relative) = canonical(&finding.path).strip_prefix(&root) {
            finding.path = relative.to_path_buf();
        }
    }
}

fn canonical(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
