//! Linting the MongoDB validators under `schemas/` (one file per
//! collection, `schemas/<database>/<collection>.json`):
//!
//! ```json
//! {
//!   "validator": { "$jsonSchema": { "bsonType": "object", "required": ["name"], "properties": { … } } },
//!   "validationLevel": "strict",
//!   "validationAction": "error",
//!   "indexes": [ { "key": { "name": 1 }, "name": "name_1", "unique": true } ]
//! }
//! ```
//!
//! MongoDB's `$jsonSchema` is a dialect of JSON Schema draft 4 without
//! several keywords; a validator that uses them is rejected by the server
//! (or, for `format`, silently ignored by older servers).

use super::rules::{find, Rule};
use super::{Finding, LintOptions};
use crate::model::text_position::{LineIndex, TextPosition};
use crate::mongo::validator_checks::check_file;
use std::path::{Path, PathBuf};

/// Lints every `*.json` below `dir` (nothing when it does not exist).
/// Returns the findings and the files' texts.
pub fn lint_dir(dir: &Path, options: &LintOptions) -> (Vec<Finding>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut findings = Vec::new();
    let mut sources = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut raw = Vec::new();
        check_file(&text, &mut raw);
        let index = LineIndex::new(&text);
        for (rule, offset, message, help) in raw {
            let Some(severity) = options.severity(rule) else {
                continue;
            };
            let rule: &'static dyn Rule = match find(rule) {
                Some(rule) => rule,
                None => continue,
            };
            findings.push(Finding {
                rule: rule.id(),
                severity,
                path: path.clone(),
                position: offset.map_or(TextPosition { line: 1, column: 1 }, |o| {
                    index.position(&text, o)
                }),
                length: 1,
                fingerprint: super::finding::fingerprint(
                    rule.id(),
                    &path
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    &message,
                ),
                table: None,
                table_size: None,
                message,
                help,
            });
        }
        sources.push((path, text));
    }
    (findings, sources)
}

/// Collects the regular `*.json` files below `dir` (links only inside the
/// top directory `root`; FIFOs and devices are never opened).
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    collect_below(&root, dir, out, 0);
}

fn collect_below(root: &Path, dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    use crate::model::dir_entry::{classify, EntryKind};
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match classify(root, &path) {
            Ok(EntryKind::Directory) if depth < 8 => collect_below(root, &path, out, depth + 1),
            Ok(EntryKind::File) if path.extension().is_some_and(|e| e == "json") => out.push(path),
            _ => {}
        }
    }
}
