//! A lint baseline: the findings a project accepted when it switched lint
//! on, recorded by fingerprint, so that later runs report only new ones.
//!
//! The file (`schemactl-lint-baseline.json` by default) lists each accepted
//! finding's rule, file, fingerprint and how many findings share that
//! fingerprint (two `timestamp` columns in one statement share one). A run
//! hides up to that many findings per fingerprint, says how many it hid,
//! and names the entries that match nothing any more (the finding was fixed,
//! or its statement edited), so that the baseline only ever shrinks.

use super::Finding;
use crate::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The format version written in the file.
const FORMAT: u32 = 1;

/// One accepted finding (or several sharing a fingerprint).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Entry {
    /// The rule.
    pub rule: String,
    /// The file, as lint reported it (for the reader; matching is by
    /// rule and fingerprint).
    pub path: PathBuf,
    /// The findings' fingerprint.
    pub fingerprint: String,
    /// How many findings share it.
    pub count: usize,
    /// The first finding's message, for the reader of the file.
    pub message: String,
}

/// The baseline file.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Baseline {
    /// The format of the file (1).
    pub schemactl_lint_baseline: u32,
    /// The accepted findings, by file and rule.
    pub findings: Vec<Entry>,
}

/// What applying a baseline left.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Applied {
    /// How many findings the baseline hid.
    pub baselined: usize,
    /// Entries that match fewer findings than they record (fixed or edited).
    pub stale: Vec<Entry>,
}

impl Baseline {
    /// The baseline's file name when none is given.
    pub const DEFAULT_FILE: &'static str = "schemactl-lint-baseline.json";

    /// The baseline accepting exactly `findings`.
    pub fn of(findings: &[Finding]) -> Self {
        let mut entries: BTreeMap<(PathBuf, &str, &str), Entry> = BTreeMap::new();
        for finding in findings {
            entries
                .entry((finding.path.clone(), finding.rule, &finding.fingerprint))
                .and_modify(|e| e.count += 1)
                .or_insert_with(|| Entry {
                    rule: finding.rule.to_string(),
                    path: finding.path.clone(),
                    fingerprint: finding.fingerprint.clone(),
                    count: 1,
                    message: finding.message.clone(),
                });
        }
        Self {
            schemactl_lint_baseline: FORMAT,
            findings: entries.into_values().collect(),
        }
    }

    /// Reads a baseline file; `Ok(None)` when it does not exist.
    pub fn read(path: &Path) -> Result<Option<Self>, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let baseline: Self = serde_json::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!(
                "not a schemactl lint baseline ({e}); write it anew with `schemactl lint --write-baseline`"
            ),
        })?;
        if baseline.schemactl_lint_baseline != FORMAT {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "baseline format {} is not one this schemactl reads ({FORMAT}); write it anew with `schemactl lint --write-baseline`",
                    baseline.schemactl_lint_baseline
                ),
            });
        }
        Ok(Some(baseline))
    }

    /// Writes the baseline, one entry a line-block, sorted, so that its diff
    /// in review shows exactly what was accepted.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// This baseline with the entries of the files `in_scope` says a run
    /// linted replaced by that run's `findings`: what `--write-baseline`
    /// with `--since` writes, so that the entries of files the run did not
    /// look at are kept, not dropped.
    pub fn merged(self, findings: &[Finding], in_scope: &dyn Fn(&Path) -> bool) -> (Self, usize) {
        let kept: Vec<Entry> = self
            .findings
            .into_iter()
            .filter(|e| !in_scope(&e.path))
            .collect();
        let kept_count = kept.len();
        let mut merged = Self::of(findings);
        merged.findings.extend(kept);
        merged.findings.sort_by(|a, b| {
            (&a.path, &a.rule, &a.fingerprint).cmp(&(&b.path, &b.rule, &b.fingerprint))
        });
        (merged, kept_count)
    }

    /// Removes the findings the baseline accepts from `findings`. Entries
    /// that match nothing are stale only in files `in_scope` says the run
    /// linted (with `--since`, the added ones): the others were not looked at.
    pub fn apply(&self, findings: &mut Vec<Finding>, in_scope: &dyn Fn(&Path) -> bool) -> Applied {
        // By rule and fingerprint, not path: the fingerprint names the
        // migration, and a run from another directory spells paths
        // differently.
        type Key = (String, String);
        let key = |_: &Path, rule: &str, fingerprint: &str| -> Key {
            (rule.to_string(), fingerprint.to_string())
        };
        let mut left: BTreeMap<Key, usize> = self
            .findings
            .iter()
            .map(|e| (key(&e.path, &e.rule, &e.fingerprint), e.count))
            .collect();
        let before = findings.len();
        findings.retain(
            |f| match left.get_mut(&key(&f.path, f.rule, &f.fingerprint)) {
                Some(count) if *count > 0 => {
                    *count -= 1;
                    false
                }
                _ => true,
            },
        );
        let stale = self
            .findings
            .iter()
            .filter_map(|e| {
                let unmatched = left[&key(&e.path, &e.rule, &e.fingerprint)];
                (unmatched > 0 && in_scope(&e.path)).then(|| Entry {
                    count: unmatched,
                    ..e.clone()
                })
            })
            .collect();
        Applied {
            baselined: before - findings.len(),
            stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Baseline;
    use crate::lint::rules::test_support::lint_files;

    #[test]
    fn a_baseline_hides_what_it_accepted_and_reports_what_went_stale() {
        let before = [
            (
                "0001_t.up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY, a timestamp, b timestamp);\nCREATE TABLE u (id bigint PRIMARY KEY, c char(2));\n",
            ),
            ("0001_t.down.sql", "DROP TABLE u;\nDROP TABLE t;\n"),
        ];
        let findings = lint_files(&before);
        assert_eq!(findings.len(), 3, "{findings:#?}");
        let baseline = Baseline::of(&findings);
        // Two timestamp columns in one statement share one entry.
        assert_eq!(baseline.findings.len(), 2);

        // Lines inserted above, the char column fixed, a new finding added.
        let after = [
            (
                "0001_t.up.sql",
                "-- a comment that moves every line\n\nCREATE TABLE t (id bigint PRIMARY KEY, a timestamp, b timestamp);\nCREATE TABLE u (id bigint PRIMARY KEY, c text);\nCREATE TABLE v (id bigint PRIMARY KEY, d timestamp);\n",
            ),
            ("0001_t.down.sql", "DROP TABLE v;\nDROP TABLE u;\nDROP TABLE t;\n"),
        ];
        let mut findings = lint_files(&after);
        let applied = baseline.apply(&mut findings, &|_| true);
        assert_eq!(applied.baselined, 2);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].message.contains("v.d"), "{findings:#?}");
        assert_eq!(applied.stale.len(), 1);
        assert_eq!(applied.stale[0].rule, "char-type");
    }
}
