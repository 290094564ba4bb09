//! `lint --fix`: the mechanical fixes of findings, as edits of the files.
//!
//! - `timestamp-without-time-zone`: the column's `timestamp[(p)] [without
//!   time zone]` becomes `timestamptz[(p)]`;
//! - `create-index-not-concurrently`: `CONCURRENTLY` (and `IF NOT EXISTS`,
//!   so that a retry outside a transaction passes) after `INDEX`, and the
//!   `-- schemactl:no-transaction` directive at the top of the file, but only
//!   when every statement of the file is an index build or drop (the
//!   directive would otherwise take the other statements out of the
//!   transaction too); else the finding is left for a person.
//!
//! Splitting a constraint into `NOT VALID` and a later `VALIDATE CONSTRAINT`
//! needs a new migration, which is a decision about versions: not done here.

use super::Finding;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
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
    may_edit: &dyn Fn(&Path) -> bool,
) -> Vec<FixedFile> {
    let mut edits: BTreeMap<&Path, Vec<Edit>> = BTreeMap::new();
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
                concurrently(text, offset)
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
    edits
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
        .collect()
}

/// Significant tokens of `text[from..]` with their byte ranges in `text`.
fn tokens_from(text: &str, from: usize, limit: usize) -> Vec<(Token, usize, usize)> {
    let rest = &text[from..];
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, rest).tokenize_with_location() else {
        return Vec::new();
    };
    let index = crate::model::text_position::LineIndex::new(rest);
    tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .take(limit)
        .map(|t| {
            let start = index.offset(
                rest,
                t.span.start.line as usize,
                t.span.start.column as usize,
            );
            let end = index.offset(rest, t.span.end.line as usize, t.span.end.column as usize);
            (t.token, from + start, from + end)
        })
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

/// `CONCURRENTLY` after the `INDEX` at `offset`, and the no-transaction
/// directive when the whole file builds or drops indexes.
fn concurrently(text: &str, offset: usize) -> Option<Vec<Edit>> {
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
    let directive = crate::model::directives::parse(text).ok()?;
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
    if !directive.no_transaction {
        let only_indexes = crate::model::statements::split(text).ok()?.iter().all(|s| {
            let words: Vec<String> = s
                .text(text)
                .split_whitespace()
                .take(3)
                .map(str::to_ascii_uppercase)
                .collect();
            matches!(words.first().map(String::as_str), Some("CREATE" | "DROP"))
                && words[1..].iter().any(|w| w == "INDEX")
        });
        if !only_indexes {
            return None;
        }
        edits.push(Edit {
            start: 0,
            end: 0,
            text: "-- schemactl:no-transaction\n".into(),
            fixes_finding: false,
        });
    }
    Some(edits)
}

#[cfg(test)]
mod tests {
    use super::fixes;
    use crate::lint::rules::test_support::lint_files;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn fixed(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        let findings = lint_files(files);
        let sources: BTreeMap<PathBuf, String> = files
            .iter()
            .map(|(n, s)| (PathBuf::from(format!("migrations/{n}")), s.to_string()))
            .collect();
        fixes(&findings, &sources, &|_| true)
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
