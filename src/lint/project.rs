//! `schemactl lint`: lint the migrations directory (and, with `--since`,
//! only what changed since a git revision, refusing edits to migrations
//! that already existed there).

use crate::config::Settings;
use crate::lint::rules::changed_existing_migration;
use crate::lint::{self, Finding, LintOptions, Severity};
use crate::model::text_position::TextPosition;
use crate::source::{Directory, MigrationSource};
use crate::Error;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The findings, and the text of every file they may point into.
#[derive(Debug)]
pub struct LintOutcome {
    /// Findings, by file and position.
    pub findings: Vec<Finding>,
    /// File contents, for excerpts.
    pub sources: BTreeMap<PathBuf, String>,
    /// `.sql` files the layout could not place (warnings).
    pub warnings: Vec<crate::model::SourceProblem>,
    /// The layout the files were read as (how `--fix` marks a file to run
    /// outside a transaction).
    pub layout: crate::model::Layout,
    /// With `--since`: the files added since the revision (canonical
    /// paths), the only ones `--fix` may edit.
    pub added: Option<HashSet<PathBuf>>,
}

impl LintOutcome {
    /// Whether `--fix` may edit `path`: a migration added since `--since`,
    /// and a regular file (never a symbolic link, which could lead to a
    /// migration that existed at the revision).
    pub fn may_fix(&self, path: &Path) -> bool {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        !is_link
            && self
                .added
                .as_ref()
                .is_some_and(|added| added.contains(&canonical(path)))
    }
}

impl LintOutcome {
    /// Whether the run linted `path`: every file, or with `--since` the
    /// migrations added since the revision.
    pub fn in_scope(&self, path: &Path) -> bool {
        self.added
            .as_ref()
            .is_none_or(|added| added.contains(&canonical(path)))
    }

    /// The fixes of its findings, in the files `may_edit` accepts.
    pub fn fixes(&self, may_edit: &dyn Fn(&Path) -> bool) -> Vec<crate::lint::FixedFile> {
        crate::lint::fix::fixes(&self.findings, &self.sources, self.layout, may_edit)
    }

    /// How many findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Lints the configured directories.
pub(crate) fn lint(settings: &Settings, since: Option<&str>) -> Result<LintOutcome, Error> {
    let loaded = Directory::from_settings(settings).read()?;
    let migrations = loaded.migrations;
    let options =
        LintOptions::configured(&settings.lint.severities, &settings.project.config_file)?;
    let mut only: Option<HashSet<PathBuf>> = None;
    let mut extra = Vec::new();
    if let Some(revision) = since {
        let changes = git_changes(
            revision,
            &[
                &settings.project.migrations_dir,
                &settings.project.schemas_dir,
            ],
        )?;
        for (path, status) in changes.iter().filter(|(_, status)| *status != 'A') {
            let Some(severity) = options.severity(changed_existing_migration::ID) else {
                continue;
            };
            let what = if *status == 'D' { "deleted" } else { "edited" };
            let line = if *status == 'D' {
                1
            } else {
                first_changed_line(revision, path)
            };
            extra.push(Finding {
                rule: changed_existing_migration::ID,
                severity,
                path: path.clone(),
                position: TextPosition { line, column: 1 },
                length: 1,
                message: format!("{} existed at {revision} and was {what}: migrations that may have been applied must not change", path.display()),
                help: format!(
                    "restore it (`git checkout {revision} -- {}`) and put the change in a new migration",
                    path.display()
                ),
                fingerprint: lint::finding::fingerprint(
                    changed_existing_migration::ID,
                    &path.display().to_string(),
                    what,
                ),
                table: None,
                table_size: None,
            });
        }
        // A link added since the revision is not a new migration: it may
        // point at one that existed then. Only regular files count.
        only = Some(
            changes
                .iter()
                .filter(|(_, s)| *s == 'A')
                .filter(|(p, _)| {
                    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file())
                })
                .map(|(p, _)| canonical(p))
                .collect(),
        );
    }
    let mut findings = lint::lint(&migrations, &options)?;
    if let Some(only) = &only {
        findings.retain(|f| only.contains(&canonical(&f.path)));
    }
    let (schema_findings, schema_sources) =
        lint::mongo_schema::lint_dir(&settings.project.schemas_dir, &options);
    findings.extend(schema_findings.into_iter().filter(|f| {
        only.as_ref()
            .is_none_or(|only| only.contains(&canonical(&f.path)))
    }));
    findings.extend(extra);
    // The scripts' texts move into `sources` (they are not needed again),
    // in path order, so that the map is built without searching it.
    let mut texts: Vec<(PathBuf, String)> = schema_sources;
    texts.extend(
        migrations
            .into_iter()
            .flat_map(|m| std::iter::once(m.up).chain(m.down))
            .map(|script| (script.path, script.sql)),
    );
    lint::finding::sort_by_file(&mut texts, |(path, _)| path, |_, _| Ordering::Equal);
    let sources: BTreeMap<PathBuf, String> = texts.into_iter().collect();
    lint::finding::sort_by_file(
        &mut findings,
        |f| &f.path,
        |a, b| (a.position.line, a.position.column).cmp(&(b.position.line, b.position.column)),
    );
    Ok(LintOutcome {
        findings,
        sources,
        warnings: loaded.warnings,
        added: only,
        layout: loaded.layout,
    })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Files under `dirs` added (`A`), modified (`M`) or deleted (`D`) since
/// `revision`, including uncommitted and untracked files.
fn git_changes(revision: &str, dirs: &[&Path]) -> Result<Vec<(PathBuf, char)>, Error> {
    let git = |args: &[&str]| -> Result<String, Error> {
        let output = Command::new("git")
            .args(args)
            .output()
            .map_err(|e| Error::InvalidArgument(format!("--since needs git: {e}")))?;
        if !output.status.success() {
            return Err(Error::InvalidArgument(format!(
                "--since {revision}: git {} failed: {}",
                args.first().copied().unwrap_or_default(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    git(&["rev-parse", "--verify", &format!("{revision}^{{commit}}")]).map_err(|e| {
        Error::InvalidArgument(format!(
            "{e}\n`{revision}` is not a commit of this repository: check the name; in CI, a shallow clone lacks older commits: \
             fetch them (`git fetch --depth=100 origin <branch>`, or `fetch-depth: 0` for actions/checkout)"
        ))
    })?;
    let existing: Vec<String> = dirs
        .iter()
        .filter(|d| d.exists())
        .map(|d| d.display().to_string())
        .collect();
    if existing.is_empty() {
        return Ok(Vec::new());
    }
    let mut diff_args = vec![
        "diff",
        "--name-status",
        "--no-renames",
        "--relative",
        revision,
        "--",
    ];
    diff_args.extend(existing.iter().map(String::as_str));
    let mut changes: Vec<(PathBuf, char)> = git(&diff_args)?
        .lines()
        .filter_map(|line| {
            let (status, path) = line.split_once('\t')?;
            Some((PathBuf::from(path), status.chars().next()?))
        })
        .collect();
    let mut untracked_args = vec!["ls-files", "--others", "--exclude-standard", "--"];
    untracked_args.extend(existing.iter().map(String::as_str));
    changes.extend(
        git(&untracked_args)?
            .lines()
            .map(|path| (PathBuf::from(path), 'A')),
    );
    Ok(changes)
}

/// The first line of `path` that differs from `revision` (1 when git cannot
/// tell), read from the first hunk of `git diff --unified=0`.
fn first_changed_line(revision: &str, path: &Path) -> usize {
    let Ok(output) = Command::new("git")
        .args(["diff", "--unified=0", "--no-color", revision, "--"])
        .arg(path)
        .output()
    else {
        return 1;
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(hunk_start)
        .unwrap_or(1)
}

/// The new file's first line in a hunk header `@@ -a,b +c,d @@` (a hunk
/// that only deletes lines gives the line after which they were).
fn hunk_start(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("@@ -")?;
    let (_, new) = rest.split_once(" +")?;
    let start = new.split([',', ' ']).next()?;
    Some(start.parse::<usize>().ok()?.max(1))
}
