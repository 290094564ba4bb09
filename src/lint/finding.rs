//! What the linter reports: a finding of one rule at one place.

use crate::model::text_position::TextPosition;
use std::path::PathBuf;

pub use crate::model::severity::Severity;

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// The stable rule id (`fk-missing-on-delete`).
    pub rule: &'static str,
    /// Its severity after configuration.
    pub severity: Severity,
    /// The file.
    pub path: PathBuf,
    /// Where the finding starts.
    pub position: TextPosition,
    /// How many characters to underline.
    pub length: usize,
    /// What is wrong, and why it matters.
    pub message: String,
    /// What to write instead.
    pub help: String,
    /// A stable identity of the finding for baselines and code scanning:
    /// a hash of the rule, the migration and direction (or the file name),
    /// and the statement's tokens, so that edits elsewhere in the file, or
    /// moving the statement, keep it. Not a position.
    pub fingerprint: String,
    /// The table whose locks or rows the finding is about, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// That table's size, when lint read it from a database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) table_size: Option<super::table_sizes::TableSize>,
}

/// Each path's place in [`Path`]'s order (equal paths share one), each
/// path's components read once: comparing `Path`s walks both every time,
/// and sorting hundreds of files that way cost more than linting them.
///
/// [`Path`]: std::path::Path
pub(crate) fn path_ranks<'p>(paths: impl IntoIterator<Item = &'p std::path::Path>) -> Vec<usize> {
    let keys: Vec<Vec<std::path::Component<'p>>> = paths
        .into_iter()
        .map(|path| path.components().collect())
        .collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    let mut ranks = vec![0; keys.len()];
    let mut rank = 0;
    for (n, &i) in order.iter().enumerate() {
        if n > 0 && keys[order[n - 1]] != keys[i] {
            rank += 1;
        }
        ranks[i] = rank;
    }
    ranks
}

/// Sorts `items` stably by their file (in [`Path`]'s order), then by `then`.
///
/// [`Path`]: std::path::Path
pub(crate) fn sort_by_file<T>(
    items: &mut Vec<T>,
    path: impl Fn(&T) -> &std::path::Path,
    then: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    let ranks = path_ranks(items.iter().map(&path));
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        ranks[a]
            .cmp(&ranks[b])
            .then_with(|| then(&items[a], &items[b]))
    });
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.iter().filter_map(|&i| slots[i].take()));
}

/// The fingerprint of a finding of `rule` in `place` (a migration and
/// direction, or a file name) about a statement of text `statement`
/// (whitespace and comments do not count).
pub(crate) fn fingerprint(rule: &str, place: &str, statement: &str) -> String {
    fingerprint_of_normalised(rule, place, &normalised(statement))
}

/// A statement's tokens, words folded, joined by one space: what a
/// fingerprint hashes (whitespace and comments do not count). Findings on
/// one statement compute it once.
pub(crate) fn normalised(statement: &str) -> String {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;
    match Tokenizer::new(&PostgreSqlDialect {}, statement).tokenize() {
        Ok(tokens) => normalised_tokens(&tokens, statement.len()),
        Err(_) => statement.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// [`normalised`] of a statement from its tokens (as the parser had them:
/// the same tokens give the same text, so the fingerprint does not depend
/// on whether the statement was tokenised alone or with its script).
pub(crate) fn normalised_tokens<'t>(
    tokens: impl IntoIterator<Item = &'t sqlparser::tokenizer::Token>,
    capacity: usize,
) -> String {
    use sqlparser::tokenizer::Token;
    use std::fmt::Write;
    let mut out = String::with_capacity(capacity);
    for token in tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
    {
        if !out.is_empty() {
            out.push(' ');
        }
        match token {
            Token::Word(w) if w.quote_style.is_none() => out.push_str(&w.value.to_lowercase()),
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }
    out
}

/// [`fingerprint`] of a statement already [`normalised`].
pub(crate) fn fingerprint_of_normalised(rule: &str, place: &str, normalised: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in [rule, "\0", place, "\0", normalised] {
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    digest[..8]
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}
