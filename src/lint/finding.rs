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
    pub table_size: Option<super::table_sizes::TableSize>,
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
    use sqlparser::tokenizer::{Token, Tokenizer};
    use std::fmt::Write;
    match Tokenizer::new(&PostgreSqlDialect {}, statement).tokenize() {
        Ok(tokens) => {
            let mut out = String::with_capacity(statement.len());
            for token in tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_))) {
                if !out.is_empty() {
                    out.push(' ');
                }
                match token {
                    Token::Word(w) if w.quote_style.is_none() => {
                        out.push_str(&w.value.to_lowercase())
                    }
                    other => {
                        let _ = write!(out, "{other}");
                    }
                }
            }
            out
        }
        Err(_) => statement.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// [`fingerprint`] of a statement already [`normalised`].
pub(crate) fn fingerprint_of_normalised(rule: &str, place: &str, normalised: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in [rule, "\0", place, "\0", normalised] {
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
