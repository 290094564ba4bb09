//! `lint --fix`: the mechanical fixes of findings, as edits of the files.
//!
//! - `timestamp-without-time-zone`: the column's `timestamp[(p)] [without
//!   time zone]` becomes `timestamptz[(p)]`;
//! - `create-index-not-concurrently`: `CONCURRENTLY` (and `IF NOT EXISTS`,
//!   so that a retry outside a transaction passes) after `INDEX`, and the
//!   project's own tool's mark of a file that runs outside a transaction
//!   (schemactl's `-- schemactl:no-transaction`, sqlx's `-- no-transaction`
//!   first line, goose's `-- +goose NO TRANSACTION`, dbmate's
//!   `transaction:false`, diesel's `run_in_transaction = false` in
//!   `metadata.toml`), but only when every statement it takes out of the
//!   transaction is an index build or drop; else, and for layouts whose tool
//!   has no such mark in the file (golang-migrate, Flyway, pop), the finding
//!   is left for a person.
//!
//! Splitting a constraint into `NOT VALID` and a later `VALIDATE CONSTRAINT`
//! needs a new migration, which is a decision about versions: not done here.

use super::Finding;
use crate::model::Layout;
use sqlparser::tokenizer::Token;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file's text after its fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedFile {
    /// The file.
    pub path: PathBuf,
    /// Its text before.
    pub before: String,
    /// Its text after.
    pub after: String,
    /// How many findings the edits fix.
    pub fixed: usize,
}

impl FixedFile {
    /// The change as a unified diff.
    pub fn diff(&self) -> String {
        let name = self.path.display().to_string();
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .header(&name, &name)
            .to_string()
    }
}

/// One replacement in a file.
struct Edit {
    start: usize,
    end: usize,
    text: String,
    /// Whether it is the fix of a finding (not a directive it needs).
    fixes_finding: bool,
}

/// The fixes of `findings` in the files of `sources` (path → text), for the
/// files `may_edit` accepts.
pub(crate) fn fixes(
    findings: &[Finding],
    sources: &BTreeMap<PathBuf, String>,
    layout: Layout,
    may_edit: &dyn Fn(&Path) -> bool,
) -> Vec<FixedFile> {
    let mut edits: BTreeMap<&Path, Vec<Edit>> = BTreeMap::new();
    let mut metadata: Vec<FixedFile> = Vec::new();
    for finding in findings {
        let Some(text) = sources.get(&finding.path) else {
            continue;
        };
        if !may_edit(&finding.path) {
            continue;
        }
        let offset = crate::model::text_position::LineIndex::new(text).offset(
            text,
            finding.position.line,
            finding.position.column,
        );
        let found = match finding.rule {
            "timestamp-without-time-zone" => timestamptz(text, offset),
            "create-index-not-concurrently" if !finding.message.contains("partition") => {
                match concurrently(text, offset, &finding.path, layout, sources) {
                    Some((found, Some(file))) => {
                        if !metadata.iter().any(|m| m.path == file.path) {
                            metadata.push(file);
                        }
                        Some(found)
                    }
                    Some((found, None)) => Some(found),
                    None => None,
                }
            }
            _ => None,
        };
        if let Some(mut found) = found {
            edits
                .entry(finding.path.as_path())
                .or_default()
                .append(&mut found);
        }
    }
    let mut fixed: Vec<FixedFile> = edits
        .into_iter()
        .filter_map(|(path, mut edits)| {
            let before = sources.get(path)?.clone();
            edits.sort_by_key(|e| std::cmp::Reverse(e.start));
            edits.dedup_by_key(|e| e.start);
            let fixed = edits.iter().filter(|e| e.fixes_finding).count();
            let mut after = before.clone();
            for edit in &edits {
                after.replace_range(edit.start..edit.end, &edit.text);
            }
            (after != before).then(|| FixedFile {
                path: path.to_path_buf(),
                before,
                after,
                fixed,
            })
        })
        .collect();
    fixed.extend(metadata);
    fixed
}

/// Significant tokens of `text[from..]` with their byte ranges in `text`.
fn tokens_from(text: &str, from: usize, limit: usize) -> Vec<(Token, usize, usize)> {
    crate::model::statements::located_tokens(&text[from..])
        .unwrap_or_default()
        .into_iter()
        .take(limit)
        .map(|(token, start, end)| (token, from + start, from + end))
        .collect()
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// `timestamp[(p)] [without time zone]` after the column name at `offset`
/// (and a `TYPE`/`SET DATA TYPE` in between) becomes `timestamptz[(p)]`.
fn timestamptz(text: &str, offset: usize) -> Option<Vec<Edit>> {
    let tokens = tokens_from(text, offset, 16);
    let mut i = 1; // past the column name
    while tokens
        .get(i)
        .is_some_and(|(t, _, _)| ["SET", "DATA", "TYPE"].iter().any(|w| is_word(t, w)))
    {
        i += 1;
    }
    let (first, start, mut end) = tokens.get(i)?.clone();
    if !is_word(&first, "timestamp") {
        return None;
    }
    let mut precision = String::new();
    let mut j = i + 1;
    if matches!(tokens.get(j), Some((Token::LParen, _, _))) {
        let close = tokens[j..]
            .iter()
            .position(|(t, _, _)| *t == Token::RParen)?
            + j;
        precision = text[tokens[j].1..tokens[close].2].to_string();
        end = tokens[close].2;
        j = close + 1;
    }
    let without = ["without", "time", "zone"];
    if tokens.len() >= j + 3
        && tokens[j..j + 3]
            .iter()
            .zip(without)
            .all(|((t, _, _), w)| is_word(t, w))
    {
        end = tokens[j + 2].2;
    }
    Some(vec![Edit {
        start,
        end,
        text: format!("timestamptz{precision}"),
        fixes_finding: true,
    }])
}

/// `CONCURRENTLY` after the `INDEX` at `offset`, and the mark that runs
/// the file outside a transaction when it has none: in the file, or (diesel)
/// the `metadata.toml` beside it, returned as a file of its own.
fn concurrently(
    text: &str,
    offset: usize,
    path: &Path,
    layout: Layout,
    sources: &BTreeMap<PathBuf, String>,
) -> Option<(Vec<Edit>, Option<FixedFile>)> {
    let tokens = tokens_from(text, offset, 2);
    let (token, _, end) = tokens.first()?;
    if !is_word(token, "INDEX") {
        return None;
    }
    // Outside a transaction, a retry must not fail on the index the first
    // attempt built: IF NOT EXISTS, where the index has a name to test.
    let named_without_if = tokens
        .get(1)
        .is_some_and(|(t, _, _)| !is_word(t, "IF") && !is_word(t, "ON"));
    let mut edits = vec![Edit {
        start: *end,
        end: *end,
        text: if named_without_if {
            " CONCURRENTLY IF NOT EXISTS".into()
        } else {
            " CONCURRENTLY".into()
        },
        fixes_finding: true,
    }];
    if crate::model::directives::parse(text).ok()?.no_transaction {
        return Some((edits, None));
    }
    match layout {
        Layout::Diesel => {
            // diesel's mark covers up.sql and down.sql alike.
            let folder = path.parent()?;
            let down = sources.get(&folder.join("down.sql"));
            if !only_indexes(text) || down.is_some_and(|d| !only_indexes(d)) {
                return None;
            }
            let file = diesel_metadata(&folder.join("metadata.toml"))?;
            Some((edits, Some(file)))
        }
        _ => {
            if !only_indexes(text) {
                return None;
            }
            edits.push(in_file_mark(text, layout)?);
            Some((edits, None))
        }
    }
}

/// Whether every statement of `text` builds or drops an index (so that
/// taking them out of the transaction takes nothing else out with them).
fn only_indexes(text: &str) -> bool {
    crate::model::statements::split(text).is_ok_and(|statements| {
        statements.iter().all(|s| {
            let words: Vec<String> = s
                .text(text)
                .split_whitespace()
                .take(3)
                .map(str::to_ascii_uppercase)
                .collect();
            matches!(words.first().map(String::as_str), Some("CREATE" | "DROP"))
                && words[1..].iter().any(|w| w == "INDEX")
        })
    })
}

/// The layout's own no-transaction mark, as an edit of the file; `None`
/// for the tools that have none in the file.
fn in_file_mark(text: &str, layout: Layout) -> Option<Edit> {
    let at_top = |mark: &str| Edit {
        start: 0,
        end: 0,
        text: format!("{mark}\n"),
        fixes_finding: false,
    };
    match layout {
        Layout::Schemactl | Layout::Custom => Some(at_top("-- schemactl:no-transaction")),
        Layout::Sqlx => Some(at_top("-- no-transaction")),
        Layout::Goose => Some(at_top("-- +goose NO TRANSACTION")),
        Layout::Dbmate => {
            let line = text
                .lines()
                .scan(0usize, |offset, line| {
                    let start = *offset;
                    *offset += line.len() + 1;
                    Some((start, line))
                })
                .find(|(_, line)| line.trim_end() == "-- migrate:up")?;
            let end = line.0 + line.1.trim_end().len();
            Some(Edit {
                start: end,
                end,
                text: " transaction:false".into(),
                fixes_finding: false,
            })
        }
        Layout::GolangMigrate | Layout::Flyway | Layout::Pop | Layout::Diesel => None,
    }
}

/// `metadata.toml` with `run_in_transaction = false` (created, or the key
/// set in the existing file).
fn diesel_metadata(path: &Path) -> Option<FixedFile> {
    let before = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(_) => return None,
    };
    let mut table: toml::Table = before.parse().ok()?;
    table.insert("run_in_transaction".into(), toml::Value::Boolean(false));
    let after = toml::to_string(&table).ok()?;
    Some(FixedFile {
        path: path.to_path_buf(),
        before,
        after,
        fixed: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::fixes;
    use crate::lint::rules::test_support::lint_files;
    use crate::model::Layout;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn fixed(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        let findings = lint_files(files);
        let sources: BTreeMap<PathBuf, String> = files
            .iter()
            .map(|(n, s)| (PathBuf::from(format!("migrations/{n}")), s.to_string()))
            .collect();
        fixes(&findings, &sources, Layout::Schemactl, &|_| true)
            .into_iter()
            .map(|f| (f.path.display().to_string(), f.after))
            .collect()
    }

    #[test]
    fn timestamps_become_timestamptz() {
        let out = fixed(&[(
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY, a timestamp, b TIMESTAMP(3) WITHOUT TIME ZONE, c timestamptz);\nALTER TABLE t ALTER COLUMN c TYPE timestamp;\n",
        )]);
        assert_eq!(
            out["migrations/0001_t.up.sql"],
            "CREATE TABLE t (id bigint PRIMARY KEY, a timestamptz, b timestamptz(3), c timestamptz);\nALTER TABLE t ALTER COLUMN c TYPE timestamptz;\n"
        );
    }

    #[test]
    fn each_layout_gets_its_own_tools_no_transaction_mark() {
        let files = [
            (
                "0001_t/up.sql",
                "CREATE TABLE t (id bigint PRIMARY KEY, n int);\n",
            ),
            ("0001_t/down.sql", "DROP TABLE t;\n"),
            ("0002_i/up.sql", "CREATE INDEX t_n ON t (n);\n"),
            ("0002_i/down.sql", "DROP INDEX t_n;\n"),
        ];
        let findings = lint_files(&files);
        let sources: BTreeMap<PathBuf, String> = files
            .iter()
            .map(|(n, s)| (PathBuf::from(format!("migrations/{n}")), s.to_string()))
            .collect();
        let out = |layout| -> BTreeMap<String, String> {
            fixes(&findings, &sources, layout, &|_| true)
                .into_iter()
                .map(|f| (f.path.display().to_string(), f.after))
                .collect()
        };
        // diesel: metadata.toml, and up.sql without a schemactl directive
        // (diesel itself would run it in a transaction otherwise).
        let diesel = out(Layout::Diesel);
        assert_eq!(
            diesel["migrations/0002_i/metadata.toml"],
            "run_in_transaction = false\n"
        );
        assert_eq!(
            diesel["migrations/0002_i/up.sql"],
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_n ON t (n);\n"
        );
        let sqlx = out(Layout::Sqlx);
        assert_eq!(
            sqlx["migrations/0002_i/up.sql"],
            "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_n ON t (n);\n"
        );
        // golang-migrate has no mark in the file: left for a person.
        assert!(out(Layout::GolangMigrate).is_empty());
        // A diesel down that does more than drop indexes keeps its transaction.
        let mut mixed = sources.clone();
        mixed.insert(
            PathBuf::from("migrations/0002_i/down.sql"),
            "DROP INDEX t_n;\nUPDATE t SET n = 0;\n".into(),
        );
        assert!(fixes(&findings, &mixed, Layout::Diesel, &|_| true).is_empty());
    }

    #[test]
    fn an_index_file_gets_concurrently_and_the_directive_and_a_mixed_file_is_left_alone() {
        let table = (
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY, n int);\n",
        );
        let out = fixed(&[
            table,
            ("0002_i.up.sql", "CREATE UNIQUE INDEX t_n ON t (n);\n"),
        ]);
        assert_eq!(
            out["migrations/0002_i.up.sql"],
            "-- schemactl:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_n ON t (n);\n"
        );
        let out = fixed(&[
            table,
            (
                "0002_i.up.sql",
                "ALTER TABLE t ADD COLUMN m int;\nCREATE INDEX t_m ON t (m);\n",
            ),
        ]);
        assert!(!out.contains_key("migrations/0002_i.up.sql"), "{out:#?}");
    }
}
