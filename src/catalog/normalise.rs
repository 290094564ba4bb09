//! Telling a change from a re-formatting: a definition read back from the
//! catalog keeps a function's body as it was written, so a down that
//! re-creates the same function indented differently gives other text.
//! Definitions are compared here token by token, whitespace and comments
//! dropped, unquoted words folded to lower case, string literals (and the
//! SQL inside dollar-quoted bodies, token by token again) kept exactly.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// How two definitions that are not the same text relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likeness {
    /// The same tokens: only whitespace, comments or keyword case differ.
    Formatting,
    /// The same tokens except string literals that are both timestamps or
    /// dates, as `'now'` frozen at creation gives.
    TimestampLiterals,
    /// A real difference.
    Different,
}

/// How definition `a` relates to definition `b` (each one fact per line).
pub fn likeness(a: &[String], b: &[String]) -> Likeness {
    let (a, b) = (tokens(&a.join("\n")), tokens(&b.join("\n")));
    if a == b {
        return Likeness::Formatting;
    }
    if a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            x == y
                || matches!((x, y), (Normal::Literal(x), Normal::Literal(y))
                    if is_timestamp(x) && is_timestamp(y))
        })
    {
        return Likeness::TimestampLiterals;
    }
    Likeness::Different
}

/// One token as compared.
#[derive(Debug, PartialEq, Eq)]
enum Normal {
    /// A string literal, exactly.
    Literal(String),
    /// Anything else, in a canonical spelling.
    Other(String),
}

/// The normal tokens of `text`; text the tokenizer cannot read is compared
/// line by line with runs of whitespace collapsed.
fn tokens(text: &str) -> Vec<Normal> {
    let Ok(lexed) = Tokenizer::new(&PostgreSqlDialect {}, text).tokenize() else {
        return text
            .split_whitespace()
            .map(|word| Normal::Other(word.to_string()))
            .collect();
    };
    let mut out = Vec::with_capacity(lexed.len());
    for token in lexed {
        match token {
            Token::Whitespace(_) => {}
            Token::Word(word) if word.quote_style.is_none() => {
                out.push(Normal::Other(word.value.to_lowercase()))
            }
            Token::SingleQuotedString(text)
            | Token::EscapedStringLiteral(text)
            | Token::NationalStringLiteral(text) => out.push(Normal::Literal(text)),
            Token::DollarQuotedString(quoted) => {
                // A body: its own tokens, so that its layout does not count.
                out.push(Normal::Other("$$".into()));
                out.extend(tokens(&quoted.value));
                out.push(Normal::Other("$$".into()));
            }
            other => out.push(Normal::Other(other.to_string())),
        }
    }
    out
}

/// Whether a literal reads as a date or a timestamp (`2026-11-23`,
/// `2026-11-23 16:19:20.123+00`).
fn is_timestamp(literal: &str) -> bool {
    let bytes = literal.as_bytes();
    bytes.len() >= 10
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[5..7].iter().all(u8::is_ascii_digit)
        && bytes[7] == b'-'
        && bytes[8..10].iter().all(u8::is_ascii_digit)
        && (bytes.len() == 10 || matches!(bytes[10], b' ' | b'T'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn layout_comments_and_keyword_case_are_formatting() {
        let a = lines("CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1; -- one\nEND\n$$ LANGUAGE plpgsql");
        let b = lines("CREATE FUNCTION f() RETURNS int AS $$\nbegin\n        return 1;\n/* the same */ end\n$$ LANGUAGE plpgsql");
        assert_eq!(likeness(&a, &b), Likeness::Formatting);
    }

    #[test]
    fn a_changed_literal_or_word_is_a_difference() {
        let a = lines("SELECT 'a' AS x");
        assert_eq!(likeness(&a, &lines("SELECT 'b' AS x")), Likeness::Different);
        assert_eq!(likeness(&a, &lines("SELECT 'a' AS y")), Likeness::Different);
        assert_eq!(
            likeness(&a, &lines("SELECT 'a  ' AS x")),
            Likeness::Different,
            "spaces inside a literal count"
        );
        assert_eq!(
            likeness(&lines("SELECT \"X\""), &lines("SELECT \"x\"")),
            Likeness::Different,
            "quoted identifiers keep their case"
        );
    }

    #[test]
    fn timestamps_frozen_at_creation_are_their_own_class() {
        let a = lines("SELECT '2026-11-23 16:19:20.123'::timestamp without time zone AS t");
        let b = lines("SELECT '2026-11-23 16:19:21.456'::timestamp without time zone AS t");
        assert_eq!(likeness(&a, &b), Likeness::TimestampLiterals);
        let c = lines("SELECT 'pending'::text AS t");
        assert_eq!(likeness(&a, &c), Likeness::Different);
        assert!(is_timestamp("2026-11-23"));
        assert!(!is_timestamp("2026-11-23x"));
        assert!(!is_timestamp("20261123"));
    }
}
